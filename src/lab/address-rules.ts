// Rules on prefixes and routes that the kernel would otherwise refuse at build (exit 3, no location) or that make
// routing silently wrong: host bits in a route's destination, one route written twice in two spellings
// (`default` and 0.0.0.0/0), and subnets of two interfaces of one node that overlap. Pure.
import { groupBy } from './group.js';
import { formatValue, inSubnet, parseCidr, type Cidr } from './ip.js';
import type { RuleProblem } from './rules.js';
import type { Address, Route } from './types.js';

/** An address the rules accepted, parsed. */
export interface SeenAddress {
  a: Address;
  c: Cidr;
}

const width = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** The network of a prefix, `value` with its host bits cleared. */
function networkValue(c: Cidr): bigint {
  const bits = BigInt(width(c.family) - c.prefix);
  return (c.value >> bits) << bits;
}

/** An IPv6 address in its shortest form (the longest run of zero groups as ::); IPv4 as is. */
export function formatAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) return formatValue(value, 4);
  const groups = formatValue(value, 6).split(':');
  let best = { at: -1, len: 1 };
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/** `10.1.2.3/24` → `10.1.2.0/24`; undefined when the prefix has no host bits set (or is no prefix). */
export function withoutHostBits(text: string): string | undefined {
  const c = parseCidr(text);
  if (!c || !text.includes('/')) return undefined;
  const net = networkValue(c);
  return net === c.value ? undefined : `${formatAddress(net, c.family)}/${c.prefix}`;
}

/** A route destination with host bits set: `ip route` refuses it ("Invalid prefix for given prefix length"). */
export function hostBitsProblem(dst: string, at: RuleProblem['at']): RuleProblem | undefined {
  const net = withoutHostBits(dst);
  if (net === undefined) return undefined;
  return { at, message: `route destination ${dst} has host bits set: did you mean ${net}?`, hint: 'a route leads to a network: the address part of the prefix ends in zero bits (Linux refuses anything else)' };
}

/**
 * What makes two routes of a node the same route to the kernel: family, network, prefix length and metric, however
 * written (`default` = 0.0.0.0/0, or ::/0 with an IPv6 gateway; 2001:db8::/32 = 2001:0db8::/32). Undefined when the
 * destination is no prefix (already reported).
 */
export function routeKey(r: Route): string | undefined {
  const via = r.via === undefined ? undefined : parseCidr(r.via);
  const dst: Cidr | undefined = r.dst === 'default' ? { family: via?.family ?? 4, address: r.dst, value: 0n, prefix: 0 } : parseCidr(r.dst);
  if (!dst) return undefined;
  // The kernel's default metric: 0 for IPv4, 1024 for IPv6.
  const metric = r.metric ?? (dst.family === 4 ? 0 : 1024);
  return `${r.node} ${dst.family} ${networkValue(dst)}/${dst.prefix} ${metric}`;
}

/** The message for a route that repeats an earlier one (whose destination was written `earlier`). */
export function sameRouteMessage(r: Route, earlier: string): string {
  if (earlier === r.dst) return `node "${r.node}" already has a route to ${r.dst}`;
  return `node "${r.node}" already has a route to ${r.dst}: "${earlier}" and "${r.dst}" are the same destination`;
}

/** Link-local addresses (fe80::/10, 169.254.0.0/16) are per interface by design: the same subnet on many is normal. */
function linkLocal(c: Cidr): boolean {
  return c.family === 6 ? c.value >> 118n === 0x3fan : c.value >> 16n === 0xa9fen;
}

/** True when the subnets of two addresses share addresses (one contains the other). */
export function overlaps(x: Cidr, y: Cidr): boolean {
  if (x.family !== y.family) return false;
  const [wide, narrow] = x.prefix <= y.prefix ? [x, y] : [y, x];
  return inSubnet(narrow, wide);
}

/**
 * `added` (the addresses a stage adds) against every address so far (`all`, which includes them): two interfaces of
 * one node with overlapping subnets get two connected routes for the shared part, and the kernel sends all of it
 * out of one of them. Host addresses (/32, /128) and link-local ones make no such route and are left alone.
 */
export function overlapProblems(added: readonly SeenAddress[], all: readonly SeenAddress[]): RuleProblem[] {
  const out: RuleProblem[] = [];
  const subnet = (x: SeenAddress) => x.c.prefix < width(x.c.family) && !linkLocal(x.c);
  // Only addresses of the same node can clash: each is compared with its node's, not with every address of the lab
  // (a 500-node star has 1,000; comparing all pairs was a quarter of `netlab plan`'s time there).
  const byNode = groupBy(all.map((y, i) => ({ y, i })), ({ y }) => y.a.node);
  for (const x of added) {
    if (!subnet(x)) continue;
    // Reported at the later of the two: only addresses before x in `all` count.
    const mine = byNode.get(x.a.node) ?? [];
    const before = mine.find(({ y }) => y === x)?.i ?? all.length - 1;
    const other = mine.find(({ y, i }) => i < before && subnet(y) && y.a.ifname !== x.a.ifname && overlaps(x.c, y.c))?.y;
    if (other === undefined) continue;
    out.push({
      at: x.a.at,
      message: `${x.a.cidr} on ${x.a.ifname} overlaps ${other.a.cidr} on ${other.a.ifname} of the same node "${x.a.node}"`,
      hint: 'two interfaces of a node with overlapping subnets make the kernel send the shared part out of one of them: give each interface a subnet of its own',
    });
  }
  return out;
}
