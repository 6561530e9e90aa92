// Operations a plan is made of: a closed union, each with its inverse (used for rollback and `plan --teardown`).
import type { FirewallRule, Forward, Nat } from '../lab/types.js';

/** What `link-add` creates (the model's device minus where it lives; parents are names in the namespace the command runs in). */
export type LinkSpec =
  | { type: 'bridge'; stp: boolean; vlanFiltering: boolean; forwardDelayMs?: number }
  | { type: 'dummy' }
  | { type: 'tap' }
  | { type: 'tun' }
  | { type: 'macvlan'; parent: string; mode: string }
  | { type: 'ipvlan'; parent: string; mode: string }
  | { type: 'vlan'; parent: string; id: number }
  | { type: 'vxlan'; id: number; remote?: string; local?: string; dev?: string; port: number };

/** tc netem parameters. */
export interface NetemSpec {
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  rate?: string;
}

/** One namespace's nftables state: NAT, port forwards and filter chains (rendered by argv.ts). */
export interface Ruleset {
  nat: Omit<Nat, 'node' | 'at'>[];
  forwards: Omit<Forward, 'node' | 'at'>[];
  chains: { hook: 'forward' | 'input'; policy: 'accept' | 'drop'; established: boolean; rules: FirewallRule[] }[];
}

export type Op =
  | { kind: 'netns-add'; ns: string }
  | { kind: 'netns-del'; ns: string }
  /**
   * A veth pair, each end created in its namespace. `index` is the first end's ifindex: unique in the lab, so it never
   * equals its peer's (a veth whose peer has its own ifindex is switched on a second late by the kernel).
   */
  | { kind: 'veth-add'; ns: string; ifname: string; index: number; peerNs: string; peer: string }
  /** Creates a device; runs in `ns` and, with `into`, puts it straight into that namespace (macvlan/ipvlan children). */
  | { kind: 'link-add'; ns: string; ifname: string; spec: LinkSpec; into?: string }
  | { kind: 'link-set'; ns: string; ifname: string; mtu?: number; mac?: string }
  /** A permanent neighbour entry (plan/neighbours.ts: busy bridges keep the kernel-wide neighbour table's limit). */
  | { kind: 'neigh-add'; ns: string; ifname: string; address: string; mac: string }
  /** `replace`: on a running instance (solve, step), set it whether or not the learner already did (`tc qdisc replace`). */
  | { kind: 'netem-add'; ns: string; ifname: string; netem: NetemSpec; replace?: true }
  | { kind: 'netem-del'; ns: string; ifname: string }
  | { kind: 'link-del'; ns: string; ifname: string }
  | { kind: 'link-master'; ns: string; ifname: string; master: string }
  | { kind: 'link-nomaster'; ns: string; ifname: string }
  | { kind: 'link-up'; ns: string; ifname: string }
  | { kind: 'link-down'; ns: string; ifname: string }
  /** `replace`: on a running instance (solve, step), add it whether or not the learner already did (`ip addr replace`). */
  | { kind: 'addr-add'; ns: string; ifname: string; cidr: string; replace?: true }
  | { kind: 'addr-del'; ns: string; ifname: string; cidr: string }
  /** `replace`: on a running instance (solve, step), set it whether or not the learner already added it (`ip route replace`). */
  | { kind: 'route-add'; ns: string; dst: string; via?: string; dev?: string; metric?: number; replace?: true }
  | { kind: 'route-del'; ns: string; dst: string; via?: string; dev?: string; metric?: number }
  /** Replaces the namespace's netlab table atomically with this ruleset. */
  | { kind: 'nft-apply'; ns: string; ruleset: Ruleset; previous?: Ruleset }
  | { kind: 'nft-delete'; ns: string }
  /** Starts netlab's service server in a node; stopped by pid (proc-stop) or with the namespace's teardown. */
  | { kind: 'service-start'; ns: string; node: string; services: { kind: 'http' | 'tcp-echo' | 'udp-echo'; port: number }[] }
  /** Starts dnsmasq as the DHCP server of one interface; gateway null hands out no default route. */
  | { kind: 'dhcp-server'; ns: string; node: string; ifname: string; start: string; end: string; netmask: string; gateway?: string | null; dns: string[]; leaseSecs: number }
  /** Starts dnsmasq as a DNS server answering for these names only (NXDOMAIN for any other, no upstream). */
  | { kind: 'dns-server'; ns: string; node: string; port: number; records: { name: string; address: string }[] }
  /**
   * Starts a tunnel: socat holds the tun/tap device and carries its packets (tun) or frames (tap) in UDP datagrams to
   * peer:port, from local:port (any address when not given), and writes what it receives from there into the device.
   */
  | { kind: 'tunnel-start'; ns: string; node: string; device: string; type: 'tun' | 'tap'; peer: string; port: number; local?: string }
  /** Asks for a lease on an interface (udhcpc) and configures the address and default route it got. */
  | { kind: 'dhcp-client'; ns: string; node: string; ifname: string }
  | { kind: 'proc-stop'; ns: string; node: string; what: string }
  | { kind: 'sysctl'; ns: string; key: string; value: string; previous?: string };

export type OpKind = Op['kind'];
type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;

/** The inverse of every kind; a new kind that forgets its inverse does not compile. */
const INVERSE = {
  'netns-add': (o) => ({ kind: 'netns-del', ns: o.ns }),
  'netns-del': (o) => ({ kind: 'netns-add', ns: o.ns }),
  'veth-add': (o) => ({ kind: 'link-del', ns: o.ns, ifname: o.ifname }),
  'link-add': (o) => ({ kind: 'link-del', ns: o.into ?? o.ns, ifname: o.ifname }),
  'link-set': () => undefined,
  'neigh-add': () => undefined,
  'netem-add': (o) => ({ kind: 'netem-del', ns: o.ns, ifname: o.ifname }),
  'netem-del': () => undefined,
  'link-del': () => undefined,
  'link-master': (o) => ({ kind: 'link-nomaster', ns: o.ns, ifname: o.ifname }),
  'link-nomaster': () => undefined,
  'link-up': (o) => ({ kind: 'link-down', ns: o.ns, ifname: o.ifname }),
  'link-down': (o) => ({ kind: 'link-up', ns: o.ns, ifname: o.ifname }),
  'addr-add': ({ replace: _, ...o }) => ({ ...o, kind: 'addr-del' }),
  'addr-del': (o) => ({ ...o, kind: 'addr-add' }),
  'route-add': ({ replace: _, ...o }) => ({ ...o, kind: 'route-del' }),
  'route-del': (o) => ({ ...o, kind: 'route-add' }),
  'nft-apply': (o) => (o.previous ? { kind: 'nft-apply', ns: o.ns, ruleset: o.previous, previous: o.ruleset } : { kind: 'nft-delete', ns: o.ns }),
  'nft-delete': () => undefined,
  'service-start': (o) => ({ kind: 'proc-stop', ns: o.ns, node: o.node, what: 'services' }),
  'dhcp-server': (o) => ({ kind: 'proc-stop', ns: o.ns, node: o.node, what: `dhcp-server ${o.ifname}` }),
  'dns-server': (o) => ({ kind: 'proc-stop', ns: o.ns, node: o.node, what: `dns-server ${o.port}` }),
  'tunnel-start': (o) => ({ kind: 'proc-stop', ns: o.ns, node: o.node, what: `tunnel ${o.device}` }),
  'dhcp-client': () => undefined,
  'proc-stop': () => undefined,
  sysctl: (o) => (o.previous === undefined ? undefined : { ...o, value: o.previous, previous: o.value }),
} satisfies { [K in OpKind]: (op: OpOf<K>) => Op | undefined };

/** The op that undoes `op`, or undefined when it cannot be undone by itself (a deleted device is gone). */
export function inverse(op: Op): Op | undefined {
  return (INVERSE[op.kind] as (o: Op) => Op | undefined)(op);
}


/**
 * The ops of a stage applied to a running instance whose learner may have done part of it already: routes, addresses
 * and netem are set with `replace`, which succeeds whether or not they exist (and corrects one the learner got
 * wrong). Everything else a stage does is idempotent already (sysctl, the nft table replaced whole, link set) or
 * cannot have been done by hand (netlab's own services).
 */
export function replacing(ops: readonly Op[]): Op[] {
  return ops.map((o) => (o.kind === 'route-add' || o.kind === 'addr-add' || o.kind === 'netem-add' ? { ...o, replace: true } : o));
}
