// The neighbour (ARP/ND) table is ONE kernel-wide table, whose limit (net.ipv4.neigh.default.gc_thresh3, 1024 by
// default, and its IPv6 twin) lives in the root namespace only, which a lab never touches. An all-pairs check of
// ~33+ nodes on one bridge resolves more neighbours than that, and pings past it fail silently ("neighbour table
// overflow"). Permanent entries do not count against the limit (measured on 6.18: 1,500 permanent entries in one
// namespace, and a new dynamic one still resolved, table_fulls unchanged). So where a lab's checks would resolve many
// neighbours on one bridge, netlab gives that bridge's interfaces known MAC addresses and writes the entries the checks
// need as permanent ones, in the namespaces that need them: `ip neigh replace ADDR lladdr MAC dev IF nud permanent`.
// Pure: part of the plan, printed by `netlab plan` like every other command.
import { groupBy } from '../lab/group.js';
import type { Lab } from '../lab/types.js';
import type { Op } from './ops.js';
import type { PlannedCheck } from './planner.js';

/**
 * A bridge whose checks would make more dynamic neighbour entries than this gets permanent ones: a quarter of the
 * kernel's default limit, so that several labs and the host's own entries still fit beside it.
 */
export const STATIC_NEIGHBOUR_THRESHOLD = 256;

/** One interface on a bridge's segment: the far end of a port's veth, or the bridge itself. */
interface Member {
  node: string;
  ifname: string;
  addresses: string[];
}

/** The members of each bridge's segment (bridges whose ports are veth ends), with their stage-0 addresses. */
export function bridgeSegments(lab: Lab): { bridge: string; node: string; members: Member[] }[] {
  const first = lab.stages[0]?.config;
  if (!first) return [];
  // Looked up by "node ifname", not searched for: a 500-port bridge has 500 veths and 1,000 addresses.
  const byIface = groupBy(first.addresses, (a) => `${a.node} ${a.ifname}`);
  const addrs = (node: string, ifname: string) => (byIface.get(`${node} ${ifname}`) ?? []).map((a) => a.cidr.split('/')[0] as string);
  // The first veth with an end at "node ifname", as a search in the lab's order would find it.
  const vethAt = new Map<string, Lab['veths'][number]>();
  for (const v of lab.veths) for (const end of [v.a, v.b]) if (!vethAt.has(`${end.node} ${end.ifname}`)) vethAt.set(`${end.node} ${end.ifname}`, v);
  const out: { bridge: string; node: string; members: Member[] }[] = [];
  for (const d of lab.devices) {
    if (d.kind !== 'bridge') continue;
    const members: Member[] = [{ node: d.node, ifname: d.name, addresses: addrs(d.node, d.name) }];
    for (const port of d.ports) {
      const v = vethAt.get(`${d.node} ${port}`);
      if (!v) continue;
      const far = v.a.node === d.node && v.a.ifname === port ? v.b : v.a;
      members.push({ node: far.node, ifname: far.ifname, addresses: addrs(far.node, far.ifname) });
    }
    out.push({ bridge: d.name, node: d.node, members });
  }
  return out;
}

/** Whether a later step changes anything the entries rest on: an address, a MAC, a link's state, on that segment. */
function changedLater(lab: Lab, members: readonly Member[]): boolean {
  const on = (x: { node: string; ifname: string }) => members.some((m) => m.node === x.node && m.ifname === x.ifname);
  return lab.stages.slice(1).some((s) => s.config.addresses.some(on) || s.config.links.some(on) || s.config.dhcpClients.some(on));
}

/** Which node a namespace is (the first node with that namespace name), looked up, not searched for. */
function nodeOfNamespace(lab: Lab, ns: (node: string) => string): (name: string) => string | undefined {
  const map = new Map<string, string>();
  for (const n of [...lab.nodes].reverse()) map.set(ns(n.name), n.name);
  return (name) => map.get(name);
}

/** The first member of each node and of each address, as a search in the members' order would find it. */
function memberIndex(members: readonly Member[]): { memberOf: Map<string, Member>; ownerOf: Map<string, Member> } {
  const memberOf = new Map<string, Member>();
  const ownerOf = new Map<string, Member>();
  for (const m of members) {
    if (!memberOf.has(m.node)) memberOf.set(m.node, m);
    for (const a of m.addresses) if (!ownerOf.has(a)) ownerOf.set(a, m);
  }
  return { memberOf, ownerOf };
}

/** A neighbour entry a check makes: `node` resolves `address` on `ifname`; `owner`, the member holding that address. */
interface Entry {
  node: string;
  ifname: string;
  address: string;
  owner: Member;
}

/** The neighbour entries the checks make on one segment: each (node, address it resolves), both directions. */
function entriesOf(members: readonly Member[], checks: readonly PlannedCheck[], nodeOfNs: (ns: string) => string | undefined): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const { memberOf, ownerOf } = memberIndex(members);
  for (const c of checks) {
    const from = nodeOfNs(c.fromNs);
    const src = from === undefined ? undefined : memberOf.get(from);
    const dst = ownerOf.get(c.target);
    if (!src || !dst || src === dst || !src.addresses.length) continue;
    // The source resolves the target; the target, answering, resolves the source's address of the same family.
    const back = src.addresses.find((a) => a.includes(':') === c.target.includes(':'));
    entries.set(`${src.node} ${c.target}`, { node: src.node, ifname: src.ifname, address: c.target, owner: dst });
    // back is src's, but an address two members hold is the first one's (as the MACs of the entries go).
    if (back !== undefined) entries.set(`${dst.node} ${back}`, { node: dst.node, ifname: dst.ifname, address: back, owner: ownerOf.get(back) ?? src });
  }
  return entries;
}

/** A MAC address netlab gives member `m` of segment `s`: locally administered, unique on the segment. */
export function segmentMac(s: number, m: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:6e:6c:${hex(s & 255)}:${hex((m >> 8) & 255)}:${hex(m & 255)}`;
}

/**
 * The ops that make the neighbour entries of the lab's busy bridges permanent: MAC addresses for the segment's
 * interfaces, then the entries. Empty for a lab whose checks stay under the threshold on every bridge, and for a
 * bridge a later step changes (a permanent entry would outlive the address it was written for).
 */
export function staticNeighbourOps(lab: Lab, checks: readonly PlannedCheck[], ns: (node: string) => string): Op[] {
  const nodeOfNs = nodeOfNamespace(lab, ns);
  const ops: Op[] = [];
  bridgeSegments(lab).forEach((seg, s) => {
    const entries = entriesOf(seg.members, checks, nodeOfNs);
    if (entries.size <= STATIC_NEIGHBOUR_THRESHOLD || changedLater(lab, seg.members)) return;
    // A MAC the lab sets itself is kept: the entries use it.
    const own = new Map(lab.stages[0]?.config.links.filter((l) => l.mac !== undefined).map((l) => [`${l.node} ${l.ifname}`, l.mac as string]));
    const macOf = new Map<string, string>();
    seg.members.forEach((m, i) => {
      const key = `${m.node} ${m.ifname}`;
      const mac = own.get(key) ?? segmentMac(s, i + 1);
      macOf.set(key, mac);
      if (!own.has(key)) ops.push({ kind: 'link-set', ns: ns(m.node), ifname: m.ifname, mac });
    });
    for (const e of entries.values()) {
      const mac = macOf.get(`${e.owner.node} ${e.owner.ifname}`);
      if (mac !== undefined) ops.push({ kind: 'neigh-add', ns: ns(e.node), ifname: e.ifname, address: e.address, mac });
    }
  });
  return ops;
}

/** How many dynamic neighbour entries the lab's checks make on its bridges (after the permanent ones): for the warning. */
export function dynamicNeighbourEstimate(lab: Lab, checks: readonly PlannedCheck[], ns: (node: string) => string): number {
  const nodeOfNs = nodeOfNamespace(lab, ns);
  let total = 0;
  for (const seg of bridgeSegments(lab)) {
    const n = entriesOf(seg.members, checks, nodeOfNs).size;
    if (n <= STATIC_NEIGHBOUR_THRESHOLD || changedLater(lab, seg.members)) total += n;
  }
  return total;
}

/** The kernel-wide neighbour table's hard limit and how many entries it holds now (read-only, from /proc), or undefined. */
export interface NeighbourTable {
  limit: number;
  inUse: number;
}

/**
 * The warning for a lab whose dynamic neighbour entries would not fit the kernel-wide table, with the numbers; undefined
 * when they fit (or nothing is known). netlab never raises the limit itself: it lives in the root namespace.
 */
export function neighbourWarning(estimate: number, table: NeighbourTable | undefined): string | undefined {
  if (!table || estimate === 0 || estimate + table.inUse <= table.limit) return undefined;
  return (
    `netlab: warning: this lab's checks resolve about ${estimate} neighbours (ARP/ND) that netlab leaves dynamic (on bridges a later step changes, ` +
    `or spread over many bridges); the kernel-wide neighbour table holds ${table.limit} (net.ipv4.neigh.default.gc_thresh3), ${table.inUse} in use now: ` +
    `checks past that fail ("neighbour table overflow"). netlab does not change the root namespace; raising the limit is the machine owner's decision ` +
    `(sysctl -w net.ipv4.neigh.default.gc_thresh3=${2 ** Math.ceil(Math.log2(estimate + table.inUse + 1))}, and its ipv6 twin)\n`
  );
}
