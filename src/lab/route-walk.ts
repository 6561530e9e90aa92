// Where the routes written in a lab lead a packet: from a node, hop by hop through nodes that forward, to the node
// on whose segment the destination address lies — or to nowhere. Pure. The target rules use it to tell a target
// address that two nodes have on separate segments (two VMs behind their own NAT devices, both 10.0.2.15) from a
// genuinely ambiguous one: when the routes lead the check to one of them, or to none, it is not ambiguous.
import type { SeenAddress } from './address-rules.js';
import { inSubnet, parseCidr, type Cidr } from './ip.js';
import type { Forward, Ref, Route, Sysctl } from './types.js';

/** What the walk needs of a stage: the lab's addresses, routes, sysctls and port forwards so far, and its segments. */
export interface RouteTable {
  addrs: readonly SeenAddress[];
  routes: readonly Route[];
  sysctls: readonly Sysctl[];
  forwards: readonly Forward[];
  segmentOf: (r: Ref) => string;
}

/**
 * Where a packet ends: `{ at }` the interface that has the address, `{ at: undefined, why }` nowhere (no route, a node
 * that does not forward, no interface with the address on the last segment). Undefined when the walk cannot tell: a
 * port forward on the way may send a `port` elsewhere, two nodes answer for a gateway, or the routes loop.
 */
export type WalkEnd = { at: SeenAddress; hops: string[] } | { at: undefined; why: string; hops: string[] };

const same = (x: Cidr, y: Cidr) => x.family === y.family && x.value === y.value;
const width = (c: Cidr) => (c.family === 4 ? 32 : 128);

/** Whether `node` forwards packets of `family` (the last value written for its forwarding sysctls). */
function forwards(t: RouteTable, node: string, family: 4 | 6): boolean {
  const keys = family === 4 ? ['net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding'] : ['net.ipv6.conf.all.forwarding'];
  const last = t.sysctls.filter((s) => s.node === node && keys.includes(s.key)).at(-1);
  return last !== undefined && (last.value === '1' || last.value === 'true');
}

/** The route `node` picks for `dst`: longest prefix, connected subnets before routes of the same length, then lowest metric. */
function lookup(t: RouteTable, node: string, dst: Cidr): { ifname?: string; via?: Cidr } | undefined {
  let best: { len: number; rank: number; ifname?: string; via?: Cidr } | undefined;
  const consider = (len: number, rank: number, pick: { ifname?: string; via?: Cidr }) => {
    if (!best || len > best.len || (len === best.len && rank < best.rank)) best = { len, rank, ...pick };
  };
  for (const x of t.addrs) if (x.a.node === node && inSubnet(dst, x.c)) consider(x.c.prefix, -1, { ifname: x.a.ifname });
  for (const r of t.routes) {
    if (r.node !== node) continue;
    const net = r.dst === 'default' ? { family: dst.family, value: 0n, prefix: 0, address: '' } : parseCidr(r.dst);
    if (!net || !inSubnet(dst, net)) continue;
    const via = r.via === undefined ? undefined : parseCidr(r.via);
    if (r.via !== undefined && !via) continue;
    consider(net.prefix, r.metric ?? 0, { ...(r.dev !== undefined ? { ifname: r.dev } : {}), ...(via ? { via } : {}) });
  }
  return best;
}

/**
 * Follows the routes from `from` towards `dst` (at most 16 hops). `port`: a tcp/udp destination port, which a port
 * forward on a node the packet passes (or leaves) might redirect — then the walk cannot tell.
 */
export function walkRoutes(t: RouteTable, from: string, dst: Cidr, port?: { proto: 'tcp' | 'udp'; port: number }): WalkEnd | undefined {
  const hops: string[] = [];
  let node = from;
  const seen = new Set<string>();
  for (let hop = 0; hop < 16; hop++) {
    if (seen.has(node)) return undefined;
    seen.add(node);
    hops.push(node);
    if (port && t.forwards.some((f) => f.node === node && f.proto === port.proto && f.port === port.port)) return undefined;
    const own = t.addrs.find((x) => x.a.node === node && same(x.c, dst));
    if (own) return { at: own, hops };
    if (node !== from && !forwards(t, node, dst.family)) return { at: undefined, why: `"${node}" does not forward`, hops };
    const r = lookup(t, node, dst);
    if (!r) return { at: undefined, why: `"${node}" has no route to ${dst.address}`, hops };
    const next = r.via ?? dst;
    // The interface the next hop is on: the route's dev, else the one whose subnet holds it.
    const out = t.addrs.find((x) => x.a.node === node && (r.ifname === undefined || x.a.ifname === r.ifname) && inSubnet(next, x.c));
    const ifname = r.ifname ?? out?.a.ifname;
    if (ifname === undefined) return { at: undefined, why: `"${node}" has no interface towards ${next.address}`, hops };
    const segment = t.segmentOf({ node, ifname });
    const there = t.addrs.filter((x) => same(x.c, next) && x.a.node !== node && t.segmentOf(x.a) === segment);
    if (new Set(there.map((x) => x.a.node)).size > 1) return undefined;
    const hit = there[0];
    if (!hit) return { at: undefined, why: `no interface on the segment of ${node}:${ifname} has ${next.address}`, hops };
    if (r.via === undefined) return { at: hit, hops: [...hops, hit.a.node] };
    node = hit.a.node;
  }
  return undefined;
}
