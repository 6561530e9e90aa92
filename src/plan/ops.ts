// Operations a plan is made of: a closed union, each with its inverse (used for rollback and `plan --teardown`).

export type Op =
  | { kind: 'netns-add'; ns: string }
  | { kind: 'netns-del'; ns: string }
  | { kind: 'veth-add'; ns: string; ifname: string; peerNs: string; peer: string }
  | { kind: 'bridge-add'; ns: string; ifname: string }
  | { kind: 'link-del'; ns: string; ifname: string }
  | { kind: 'link-master'; ns: string; ifname: string; master: string }
  | { kind: 'link-nomaster'; ns: string; ifname: string }
  | { kind: 'link-up'; ns: string; ifname: string }
  | { kind: 'link-down'; ns: string; ifname: string }
  | { kind: 'addr-add'; ns: string; ifname: string; cidr: string }
  | { kind: 'addr-del'; ns: string; ifname: string; cidr: string }
  | { kind: 'route-add'; ns: string; dst: string; via?: string; dev?: string; metric?: number }
  | { kind: 'route-del'; ns: string; dst: string; via?: string; dev?: string; metric?: number }
  | { kind: 'sysctl'; ns: string; key: string; value: string; previous?: string };

export type OpKind = Op['kind'];
type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;

/** The inverse of every kind; a new kind that forgets its inverse does not compile. */
const INVERSE = {
  'netns-add': (o) => ({ kind: 'netns-del', ns: o.ns }),
  'netns-del': (o) => ({ kind: 'netns-add', ns: o.ns }),
  'veth-add': (o) => ({ kind: 'link-del', ns: o.ns, ifname: o.ifname }),
  'bridge-add': (o) => ({ kind: 'link-del', ns: o.ns, ifname: o.ifname }),
  'link-del': () => undefined,
  'link-master': (o) => ({ kind: 'link-nomaster', ns: o.ns, ifname: o.ifname }),
  'link-nomaster': () => undefined,
  'link-up': (o) => ({ kind: 'link-down', ns: o.ns, ifname: o.ifname }),
  'link-down': (o) => ({ kind: 'link-up', ns: o.ns, ifname: o.ifname }),
  'addr-add': (o) => ({ ...o, kind: 'addr-del' }),
  'addr-del': (o) => ({ ...o, kind: 'addr-add' }),
  'route-add': (o) => ({ ...o, kind: 'route-del' }),
  'route-del': (o) => ({ ...o, kind: 'route-add' }),
  sysctl: (o) => (o.previous === undefined ? undefined : { ...o, value: o.previous, previous: o.value }),
} satisfies { [K in OpKind]: (op: OpOf<K>) => Op | undefined };

/** The op that undoes `op`, or undefined when it cannot be undone by itself (a deleted device is gone). */
export function inverse(op: Op): Op | undefined {
  return (INVERSE[op.kind] as (o: Op) => Op | undefined)(op);
}

