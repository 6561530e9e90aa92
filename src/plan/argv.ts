// The ONLY file that knows ip/tc/sysctl syntax: Op → words for `ip -batch`, argv arrays, and shell lines for `netlab plan`.
import type { LinkSpec, Op, OpKind } from './ops.js';
import { nsPath } from './naming.js';

type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;

const routeWords = (o: OpOf<'route-add' | 'route-del'>, verb: 'add' | 'del'): string[] => [
  'route',
  verb,
  o.dst,
  ...(o.via !== undefined ? ['via', o.via] : []),
  ...(o.dev !== undefined ? ['dev', o.dev] : []),
  ...(o.metric !== undefined ? ['metric', String(o.metric)] : []),
];

/**
 * Where an op runs: an `ip` line in the root namespace (it names the target namespaces itself), an `ip` line
 * inside a namespace (phase 1 creates devices that go into another namespace, phase 2 is everything else),
 * a `tc` line inside a namespace, or a sysctl inside a namespace.
 */
export type Placement =
  | { where: 'root' }
  | { where: 'ns'; ns: string; phase: 1 | 2 }
  | { where: 'tc'; ns: string }
  | { where: 'sysctl'; ns: string };

const LINK_WORDS = {
  bridge: (n, s) => ['link', 'add', n, 'type', 'bridge', 'stp_state', s.stp ? '1' : '0', ...(s.vlanFiltering ? ['vlan_filtering', '1'] : [])],
  dummy: (n) => ['link', 'add', n, 'type', 'dummy'],
  tap: (n) => ['tuntap', 'add', 'dev', n, 'mode', 'tap'],
  tun: (n) => ['tuntap', 'add', 'dev', n, 'mode', 'tun'],
  macvlan: (n, s, into) => ['link', 'add', 'link', s.parent, 'name', n, ...(into ? ['netns', into] : []), 'type', 'macvlan', 'mode', s.mode],
  ipvlan: (n, s, into) => ['link', 'add', 'link', s.parent, 'name', n, ...(into ? ['netns', into] : []), 'type', 'ipvlan', 'mode', s.mode],
  vlan: (n, s) => ['link', 'add', 'link', s.parent, 'name', n, 'type', 'vlan', 'id', String(s.id)],
  vxlan: (n, s) => [
    'link', 'add', n, 'type', 'vxlan', 'id', String(s.id),
    ...(s.remote !== undefined ? ['remote', s.remote] : []),
    ...(s.local !== undefined ? ['local', s.local] : []),
    ...(s.dev !== undefined ? ['dev', s.dev] : []),
    'dstport', String(s.port),
  ],
} satisfies { [T in LinkSpec['type']]: (name: string, spec: Extract<LinkSpec, { type: T }>, into?: string) => string[] };

const netemWords = (o: OpOf<'netem-add'>): string[] => [
  'qdisc', 'add', 'dev', o.ifname, 'root', 'netem',
  ...(o.netem.delayMs !== undefined ? ['delay', `${o.netem.delayMs}ms`, ...(o.netem.jitterMs !== undefined ? [`${o.netem.jitterMs}ms`] : [])] : []),
  ...(o.netem.lossPercent !== undefined ? ['loss', `${o.netem.lossPercent}%`] : []),
  ...(o.netem.rate !== undefined ? ['rate', o.netem.rate] : []),
];

/** `ip` words (after `ip`, without `-n`) for every kind; sysctl and tc ops have none. */
const IP_WORDS = {
  'netns-add': (o) => ['netns', 'add', o.ns],
  'netns-del': (o) => ['netns', 'del', o.ns],
  'veth-add': (o) => ['link', 'add', o.ifname, 'netns', o.ns, 'type', 'veth', 'peer', 'name', o.peer, 'netns', o.peerNs],
  'link-add': (o) => (LINK_WORDS[o.spec.type] as (n: string, s: LinkSpec, into?: string) => string[])(o.ifname, o.spec, o.into),
  'link-set': (o) => ['link', 'set', 'dev', o.ifname, ...(o.mtu !== undefined ? ['mtu', String(o.mtu)] : []), ...(o.mac !== undefined ? ['address', o.mac] : [])],
  'link-del': (o) => ['link', 'del', o.ifname],
  'link-master': (o) => ['link', 'set', o.ifname, 'master', o.master],
  'link-nomaster': (o) => ['link', 'set', o.ifname, 'nomaster'],
  'link-up': (o) => ['link', 'set', o.ifname, 'up'],
  'link-down': (o) => ['link', 'set', o.ifname, 'down'],
  // IPv6 addresses skip duplicate address detection, so they are usable at once (no tentative state racing checks).
  'addr-add': (o) => ['addr', 'add', o.cidr, 'dev', o.ifname, ...(o.cidr.includes(':') ? ['nodad'] : [])],
  'addr-del': (o) => ['addr', 'del', o.cidr, 'dev', o.ifname],
  'route-add': (o) => routeWords(o, 'add'),
  'route-del': (o) => routeWords(o, 'del'),
  'netem-add': () => undefined,
  'netem-del': () => undefined,
  sysctl: () => undefined,
} satisfies { [K in OpKind]: (op: OpOf<K>) => string[] | undefined };

const ROOT_KINDS: ReadonlySet<OpKind> = new Set(['netns-add', 'netns-del', 'veth-add']);

/** `tc` words for the ops that run through `tc`. */
export function tcWords(op: Op): string[] {
  if (op.kind === 'netem-add') return netemWords(op);
  if (op.kind === 'netem-del') return ['qdisc', 'del', 'dev', op.ifname, 'root'];
  throw new Error(`op ${op.kind} is not a tc command`);
}

/** Where `op` has to run. */
export function placement(op: Op): Placement {
  if (op.kind === 'sysctl') return { where: 'sysctl', ns: op.ns };
  if (op.kind === 'netem-add' || op.kind === 'netem-del') return { where: 'tc', ns: op.ns };
  if (ROOT_KINDS.has(op.kind)) return { where: 'root' };
  return { where: 'ns', ns: op.ns, phase: op.kind === 'link-add' && op.into !== undefined ? 1 : 2 };
}

/** The `ip` words of an op that runs through `ip`. */
export function ipWords(op: Op): string[] {
  const words = (IP_WORDS[op.kind] as (o: Op) => string[] | undefined)(op);
  if (!words) throw new Error(`op ${op.kind} is not an ip command`);
  return words;
}

/** Text for `ip -batch -` (or `tc -batch -` with tcWords): one op per line. Names are validated, so no quoting is needed. */
export function batchText(ops: readonly Op[], words: (op: Op) => string[] = ipWords): string {
  return ops.map((o) => words(o).join(' ')).join('\n') + '\n';
}

/** argv of a command run inside a namespace (nsenter stays fast as namespaces accumulate; `ip -n` does not). */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${nsPath(ns)}`, '--', ...argv];
}

/** argv that applies ip ops in the root namespace. `-force` keeps going past an error and reports it. */
export function ipBatchArgv(): string[] {
  return ['ip', '-batch', '-'];
}

/** argv that applies tc ops (from stdin) inside a namespace. */
export function tcBatchArgv(ns: string): string[] {
  return inNamespace(ns, ['tc', '-batch', '-']);
}

/** argv that writes sysctls inside a namespace. */
export function sysctlArgv(ns: string, ops: readonly OpOf<'sysctl'>[]): string[] {
  return inNamespace(ns, ['sysctl', '-q', '-w', ...ops.map((o) => `${o.key}=${o.value}`)]);
}

/** One shell line a learner could type for this op. */
export function shellLine(op: Op): string {
  const p = placement(op);
  if (op.kind === 'sysctl') return `ip netns exec ${op.ns} sysctl -qw ${op.key}=${op.value}`;
  if (p.where === 'tc') return `tc -n ${p.ns} ${tcWords(op).join(' ')}`;
  const words = ipWords(op).join(' ');
  return p.where === 'ns' ? `ip -n ${p.ns} ${words}` : `ip ${words}`;
}
