// The ONLY file that knows ip/sysctl syntax: Op → words for `ip -batch`, argv arrays, and shell lines for `netlab plan`.
import type { Op, OpKind } from './ops.js';
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

/** Where an op runs: an `ip` line in the root namespace (it names the target namespace itself), an `ip` line inside a namespace, or a sysctl inside a namespace. */
export type Placement = { where: 'root' } | { where: 'ns'; ns: string } | { where: 'sysctl'; ns: string };

/** `ip` words (after `ip`, without `-n`) for every kind; sysctl has none. */
const IP_WORDS = {
  'netns-add': (o) => ['netns', 'add', o.ns],
  'netns-del': (o) => ['netns', 'del', o.ns],
  'veth-add': (o) => ['link', 'add', o.ifname, 'netns', o.ns, 'type', 'veth', 'peer', 'name', o.peer, 'netns', o.peerNs],
  'bridge-add': (o) => ['link', 'add', o.ifname, 'netns', o.ns, 'type', 'bridge', 'stp_state', '0'],
  'link-del': (o) => ['link', 'del', o.ifname],
  'link-master': (o) => ['link', 'set', o.ifname, 'master', o.master],
  'link-nomaster': (o) => ['link', 'set', o.ifname, 'nomaster'],
  'link-up': (o) => ['link', 'set', o.ifname, 'up'],
  'link-down': (o) => ['link', 'set', o.ifname, 'down'],
  'addr-add': (o) => ['addr', 'add', o.cidr, 'dev', o.ifname],
  'addr-del': (o) => ['addr', 'del', o.cidr, 'dev', o.ifname],
  'route-add': (o) => routeWords(o, 'add'),
  'route-del': (o) => routeWords(o, 'del'),
  sysctl: () => undefined,
} satisfies { [K in OpKind]: (op: OpOf<K>) => string[] | undefined };

const ROOT_KINDS: ReadonlySet<OpKind> = new Set(['netns-add', 'netns-del', 'veth-add', 'bridge-add']);

/** Where `op` has to run. */
export function placement(op: Op): Placement {
  if (op.kind === 'sysctl') return { where: 'sysctl', ns: op.ns };
  return ROOT_KINDS.has(op.kind) ? { where: 'root' } : { where: 'ns', ns: op.ns };
}

/** The `ip` words of an op that runs through `ip`. */
export function ipWords(op: Op): string[] {
  const words = (IP_WORDS[op.kind] as (o: Op) => string[] | undefined)(op);
  if (!words) throw new Error(`op ${op.kind} is not an ip command`);
  return words;
}

/** Text for `ip -batch -`: one op per line. Names are validated, so no quoting is needed. */
export function batchText(ops: readonly Op[]): string {
  return ops.map((o) => ipWords(o).join(' ')).join('\n') + '\n';
}

/** argv of a command run inside a namespace (nsenter stays fast as namespaces accumulate; `ip -n` does not). */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${nsPath(ns)}`, '--', ...argv];
}

/** argv that applies ip ops in the root namespace. `-force` keeps going past an error and reports it. */
export function ipBatchArgv(): string[] {
  return ['ip', '-batch', '-'];
}

/** argv that writes sysctls inside a namespace. */
export function sysctlArgv(ns: string, ops: readonly OpOf<'sysctl'>[]): string[] {
  return inNamespace(ns, ['sysctl', '-q', '-w', ...ops.map((o) => `${o.key}=${o.value}`)]);
}

/** One shell line a learner could type for this op. */
export function shellLine(op: Op): string {
  const p = placement(op);
  if (op.kind === 'sysctl') return `ip netns exec ${op.ns} sysctl -qw ${op.key}=${op.value}`;
  const words = ipWords(op).join(' ');
  return p.where === 'ns' ? `ip -n ${p.ns} ${words}` : `ip ${words}`;
}
