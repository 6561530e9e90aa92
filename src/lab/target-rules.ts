// Rules against checks that would pass without testing anything: a target that is the source's own address (or a
// loopback address), a target address two nodes have on separate segments that the check could reach either of, a
// nat-source check with no http service to answer it. Pure.
import type { SeenAddress } from './address-rules.js';
import type { Dropped } from './dropped.js';
import { parseCidr, type Cidr } from './ip.js';
import { walkRoutes } from './route-walk.js';
import type { RuleProblem } from './rules.js';
import type { Path } from './source.js';
import type { Check, Forward, Ref, Route, Sysctl, Target } from './types.js';

/** What the target rules need to know of the lab at one stage. */
export interface TargetContext {
  stage: string;
  nodes: ReadonlySet<string>;
  /** Every static address so far, in the order written (the planner resolves a node to its first, IPv4 first). */
  addrs: readonly SeenAddress[];
  segmentOf: (r: Ref) => string;
  dropped: Dropped;
  /** `node port` of every http service so far. */
  http: ReadonlySet<string>;
  /** Every port forward so far. */
  forwards: readonly Forward[];
  /** Every route and sysctl so far: where a check's packets go (see route-walk.ts). */
  routes: readonly Route[];
  sysctls: readonly Sysctl[];
  /** Some interface gets its address by DHCP so far: the routes cannot be followed before the run. */
  leases: boolean;
}

const same = (x: Cidr, y: Cidr) => x.family === y.family && x.value === y.value;

/** The address a target means at this point, as the planner resolves it; undefined when not known before the run. */
export function resolveTarget(t: Target, addrs: readonly SeenAddress[]): Cidr | undefined {
  if (t.kind === 'address') return t.address.includes('/') ? undefined : parseCidr(t.address);
  const own = addrs.filter((x) => x.a.node === t.node && (t.ifname === undefined || x.a.ifname === t.ifname));
  const pick = own.find((x) => x.c.family === 4) ?? own[0];
  return pick && { ...pick.c, prefix: pick.c.family === 4 ? 32 : 128 };
}

const isLoopback = (c: Cidr) => (c.family === 4 ? c.value >> 24n === 127n : c.value === 1n);

/** Every problem of one check's target. */
export function targetProblems(c: Check, ctx: TargetContext): RuleProblem[] {
  if (!('to' in c) || !ctx.nodes.has(c.from)) return [];
  // With an address of the target node left out by the schema pass, the node may resolve to another address.
  const target = c.to.kind === 'node' && ctx.dropped.addresses(c.to.node) ? undefined : resolveTarget(c.to, ctx.addrs);
  // A matrix's checks are pointed at the key of their pair; other checks at their target.
  const at: Path = c.matrix ? c.at : [...c.at, c.kind === 'dns' ? 'server' : 'to'];
  const key = c.matrix !== undefined;
  // A matrix key stands for many pairs: say which one.
  const pair = (f: Finding): Finding => (c.matrix ? { ...f, message: `${c.from} → ${c.toText}: ${f.message}` } : f);
  const self = selfTarget(c.from, c.to, c.toText, target, ctx);
  if (self) return [{ at, key, ...pair(self) }];
  const out: RuleProblem[] = [];
  const ambiguous = target && ambiguousTarget(c, c.to, c.toText, target, ctx);
  if (ambiguous) out.push({ at, key, ...pair(ambiguous) });
  if (c.kind === 'nat-source') {
    const missing = missingHttp(c.to, target, c.port, ctx);
    if (missing) out.push({ at: [...c.at, 'to'], ...missing });
  }
  return out;
}

type Finding = Omit<RuleProblem, 'at' | 'key'>;

/** A target that never leaves the source node: itself, one of its own addresses, or a loopback address. */
function selfTarget(from: string, to: Target, text: string, target: Cidr | undefined, ctx: TargetContext): Finding | undefined {
  const hint = 'a check must cross the network to test it: target another node, and give every node addresses of its own';
  if (to.kind === 'node' && to.node === from) return { message: `the check runs in "${from}" and targets "${text}", the node itself: it never leaves the node`, hint };
  if (!target) return undefined;
  if (isLoopback(target)) return { message: `${target.address} is a loopback address: the check never leaves "${from}"`, hint };
  const own = ctx.addrs.find((x) => x.a.node === from && same(x.c, target));
  if (!own) return undefined;
  const where = `${from}:${own.a.ifname}`;
  if (to.kind === 'address') return { message: `${target.address} is an address of "${from}" itself (${where}): the check never leaves the node`, hint };
  return {
    message: `"${text}" resolves to ${target.address}, which "${from}" has itself (${where}): the check never leaves the node`,
    hint: `"${to.node}" and "${from}" have the same address on separate networks, so "${from}" cannot reach "${to.node}" by it: target an address only one interface has (e.g. the outside address of the NAT device in front of "${to.node}")`,
  };
}

/** The destination port of a check, which a port forward on the way could redirect. */
function portOf(c: Check): { proto: 'tcp' | 'udp'; port: number } | undefined {
  if (c.kind === 'tcp' || c.kind === 'http' || c.kind === 'nat-source') return { proto: 'tcp', port: c.port };
  if (c.kind === 'udp' || c.kind === 'dns') return { proto: 'udp', port: c.port };
  return undefined;
}

/**
 * A target address that interfaces of two nodes have, on separate segments, where the check could reach either. Not
 * ambiguous when the lab's routes lead the check from its source to one of them (the one it names, when it names a
 * node) or to none (host → 10.0.2.15 with two VMs behind their own NAT devices: neither is reachable, and a must-fail
 * check says so). When the routes cannot tell (DHCP, a port forward on the way, a gateway two nodes answer for), it is.
 */
function ambiguousTarget(c: Check, to: Target, text: string, target: Cidr, ctx: TargetContext): Finding | undefined {
  const holders = ctx.addrs.filter((x) => same(x.c, target));
  if (new Set(holders.map((x) => x.a.node)).size < 2 || new Set(holders.map((x) => ctx.segmentOf(x.a))).size < 2) return undefined;
  const end = ctx.leases || ctx.dropped.anyAddress() ? undefined : walkRoutes(ctx, c.from, target, portOf(c));
  const hint = 'target an address only one interface of the lab has (e.g. the outside address of the NAT device in front of it), or give each its own address';
  if (end && (end.at === undefined || to.kind === 'address' || end.at.a.node === to.node)) return undefined;
  if (end?.at) {
    const path = end.hops.join(' → ');
    return { message: `"${text}" resolves to ${target.address}, but the routes lead the check to ${end.at.a.node}:${end.at.a.ifname} (${path}), which has it too`, hint };
  }
  const names = (xs: readonly SeenAddress[]) => xs.map((x) => `${x.a.node}:${x.a.ifname}`).join(' and ');
  if (to.kind === 'address') return { message: `${target.address} is ambiguous: ${names(holders)} both have it, on separate segments; the check could reach either`, hint };
  const others = holders.filter((x) => x.a.node !== to.node);
  return { message: `"${text}" resolves to ${target.address}, which ${names(others)} also has on another segment: the check could reach either`, hint };
}

/**
 * A nat-source check asks netlab's http service on the target which client address it saw: without one on that port
 * (and no port forward that might lead elsewhere) it can only fail, whatever the NAT does.
 */
function missingHttp(to: Target, target: Cidr | undefined, port: number, ctx: TargetContext): Finding | undefined {
  const holderNodes = (c: Cidr | undefined) => [...new Set(ctx.addrs.filter((x) => c && same(x.c, c)).map((x) => x.a.node))];
  const node = to.kind === 'node' ? to.node : holderNodes(target).length === 1 ? holderNodes(target)[0] : undefined;
  if (node === undefined || !ctx.nodes.has(node) || ctx.dropped.services(node) || ctx.http.has(`${node} ${port}`)) return undefined;
  const forwarded = ctx.forwards.some((f) => {
    if (f.proto !== 'tcp' || f.port !== port) return false;
    const dest = holderNodes(parseCidr(f.toAddress));
    return dest.length === 0 || dest.some((n) => ctx.http.has(`${n} ${f.toPort}`));
  });
  if (forwarded) return undefined;
  return {
    message: `nat-source asks netlab's http service on "${node}" port ${port}, and "${node}" runs none there at step "${ctx.stage}"`,
    hint: `add services: [{ kind: http, port: ${port} }] to ${node}, or set port: to the port of its http service`,
  };
}
