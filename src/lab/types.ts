// The normalized lab model (Lab): what every stage after parsing sees. Each item keeps its source path.
import type { Path } from './source.js';

export interface Ref {
  node: string;
  ifname: string;
}

export interface Veth {
  a: Ref;
  b: Ref;
  at: Path;
}

/** Fields every device has: where it lives and where it was written. */
export interface DeviceBase {
  node: string;
  name: string;
  at: Path;
}

/** Every device kind besides veth pairs (a union that grows by one member per kind). */
export type Device = DeviceBase &
  (
    | { kind: 'bridge'; ports: string[]; stp: boolean; vlanFiltering: boolean; forwardDelayMs?: number }
    | { kind: 'dummy' }
    | { kind: 'macvlan'; parent: Ref; mode: 'bridge' | 'private' | 'vepa' | 'passthru' }
    | { kind: 'ipvlan'; parent: Ref; mode: 'l2' | 'l3' }
    | { kind: 'vlan'; parent: string; id: number }
    | { kind: 'tap' }
    | { kind: 'tun' }
    | { kind: 'vxlan'; id: number; remote?: string; local?: string; dev?: string; port: number }
  );
export type DeviceKind = Device['kind'];
export type Bridge = Extract<Device, { kind: 'bridge' }>;

/** Link-layer settings of an interface: MTU, MAC address, netem impairment, administrative state. */
export interface LinkSetting extends Ref {
  mtu?: number;
  mac?: string;
  netem?: Netem;
  /** false: set the interface down; true: set it up (every interface is up after the build). */
  up?: boolean;
  at: Path;
}

/** tc netem parameters, already in tc's units. */
export interface Netem {
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  rate?: string;
}

export interface Address extends Ref {
  cidr: string;
  at: Path;
}

export interface Route {
  node: string;
  dst: string;
  via?: string;
  dev?: string;
  metric?: number;
  at: Path;
}

export interface Sysctl {
  node: string;
  key: string;
  value: string;
  at: Path;
}

/** Source NAT in a node: masquerade, or SNAT to a fixed address. */
export interface Nat {
  node: string;
  kind: 'masquerade' | 'snat';
  to?: string;
  src?: string;
  dst?: string;
  out?: string;
  except: string[];
  at: Path;
}

/** A DNAT port forward in a node. */
export interface Forward {
  node: string;
  proto: 'tcp' | 'udp';
  port: number;
  toAddress: string;
  toPort: number;
  dst?: string;
  in?: string;
  at: Path;
}

export interface FirewallRule {
  action: 'accept' | 'drop' | 'reject';
  src?: string;
  dst?: string;
  proto?: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  port?: number;
  in?: string;
  out?: string;
}

/** Filter settings of one hook of a node; a later stage's policy wins and its rules are appended. */
export interface FirewallChain {
  node: string;
  hook: 'forward' | 'input';
  policy?: 'accept' | 'drop';
  established?: boolean;
  rules: FirewallRule[];
  at: Path;
}

/** A name a DNS service answers for, and the address (or node / node:ifname) it stands for. */
export interface DnsRecord {
  name: string;
  to: Target;
  toText: string;
  at: Path;
}

/**
 * A service started in a node: one of netlab's own (one server program per node), a DNS server (dnsmasq), or a tunnel
 * (socat holding a tun/tap device and carrying its packets or frames over UDP to `peer`, from `local` when given).
 */
export type Service =
  | { node: string; kind: 'http' | 'tcp-echo' | 'udp-echo'; port: number; at: Path }
  | { node: string; kind: 'dns'; port: number; records: DnsRecord[]; at: Path }
  | { node: string; kind: 'tunnel'; device: string; peer: Target; peerText: string; port: number; local?: string; at: Path };

/** A DHCP server on an interface of a node. gateway undefined: the server's own address; null: none. */
export interface DhcpServer extends Ref {
  start: string;
  end: string;
  gateway?: string | null;
  dns: string[];
  leaseSecs: number;
  at: Path;
}

/** An interface that gets its address (and default route) by DHCP. */
export interface DhcpClient extends Ref {
  at: Path;
}

/** Config a stage adds: addresses, routes, sysctls, link settings, NAT, forwards, firewall. */
export interface Config {
  /** Nodes the stage's `nodes:` map names (a step may only name declared nodes). */
  nodes: string[];
  addresses: Address[];
  routes: Route[];
  sysctls: Sysctl[];
  links: LinkSetting[];
  nat: Nat[];
  forwards: Forward[];
  firewall: FirewallChain[];
  services: Service[];
  dhcpServers: DhcpServer[];
  dhcpClients: DhcpClient[];
}

/** Where a check sends to: a literal address, or a node (optionally one interface) resolved at plan time. */
export type Target = { kind: 'address'; address: string } | { kind: 'node'; node: string; ifname?: string };

export interface CheckBase {
  /** Stable id within the lab: `<stage>/<index>`. */
  id: string;
  name: string;
  expect: 'pass' | 'fail';
  hint?: string;
  timeoutMs: number;
  /** Further attempts allowed until the check holds (`retries`). */
  retries: number;
  /** Keep trying until the check holds or this much time has passed (`within`). */
  withinMs?: number;
  at: Path;
  /** The node the check runs in (`node:` in state and cmd checks). */
  from: string;
  /** Set on the checks a `kind: matrix` expanded into: the matrix and the cell (source and target side) they fill. */
  matrix?: MatrixCell;
  /** What the check is worth when the run is scored (`points`; absent: 1 once scored). */
  points?: number;
  /** `gate: true`: when it does not hold, the checks after it in its stage are skipped (a matrix: its last pair). */
  gate?: true;
  /** `hidden: true`: left out of the learner's report (learnerView). */
  hidden?: true;
}

/** Where a check expanded from a matrix belongs: the matrix's name and the sides of its cell, as written. */
export interface MatrixCell {
  name: string;
  from: string;
  to: string;
  /** In a matrix table (`rows:`): the row and column of the cell, and what the cell says (yes, no, or its `is:`). */
  row?: string;
  column?: string;
  cell?: string;
}

/** One `expect:` entry of a matrix: its key split into sides (absent when malformed), and the pairs it expands to. */
export interface MatrixEntry {
  key: string;
  sides?: { from: string; to: string; both: boolean };
  expect: 'pass' | 'fail';
  /** Source member → target member, self pairs (same node) left out; one check each. */
  pairs: { from: string; to: string; fromSide: string; toSide: string }[];
  at: Path;
  /** An entry of a table cell: its row and column, and the cell's label (undefined when it mixes yes and no unnamed). */
  table?: { row: string; column: string; label: string | undefined; at: Path };
}

/** A matrix as written, kept beside the checks it expanded into so the rules can point at its groups and keys. */
export interface Matrix {
  name: string;
  /** Members as text; a member written { at, port } is `AT port N` (see splitMember). */
  groups: { name: string; members: string[] }[];
  entries: MatrixEntry[];
  /** A table's column labels as written (`columns:`). */
  columns?: string[];
  at: Path;
}

/** Checks that send to a target. */
export interface TargetedCheck extends CheckBase {
  to: Target;
  toText: string;
}

export interface PingCheck extends TargetedCheck {
  kind: 'ping';
  count: number;
  ttl?: number;
  reason?: 'no-route' | 'icmp-unreachable' | 'no-reply';
}

/** How a connection attempt failed: a reset or port unreachable, no local route, an ICMP unreachable, or silence. */
export type ConnectReason = 'refused' | 'no-route' | 'icmp-unreachable' | 'timeout';
/** How an HTTP request failed: as a connection, or reset once connected, or answered not as asked. */
export type HttpReason = ConnectReason | 'reset' | 'mismatch';

export interface TcpCheck extends TargetedCheck {
  kind: 'tcp';
  port: number;
  /** With expect: fail, how it must fail (rules require it). */
  reason?: ConnectReason;
}

export interface UdpCheck extends TargetedCheck {
  kind: 'udp';
  port: number;
  send: string;
  /** With expect: fail, how it must fail (rules require it). */
  reason?: ConnectReason;
}

export interface HttpCheck extends TargetedCheck {
  kind: 'http';
  port: number;
  path: string;
  status: number;
  contains?: string;
  regex?: string;
  headers: Record<string, string>;
  /** With expect: fail, how it must fail (rules require it). */
  reason?: HttpReason;
}

export interface NatSourceCheck extends TargetedCheck {
  kind: 'nat-source';
  port: number;
  seenAs: Target;
  seenAsText: string;
}

export interface MtuCheck extends TargetedCheck {
  kind: 'mtu';
  size: number;
}

export interface PathCheck extends TargetedCheck {
  kind: 'path';
  via: Target[];
  viaText: string[];
  maxHops: number;
}

/** A DNS lookup from a node: `to` is the server; the answer must exist (and contain `address`). */
export interface DnsCheck extends TargetedCheck {
  kind: 'dns';
  /** The name looked up (`query:` in the lab file). */
  query: string;
  port: number;
  /** With expect: fail, how it must fail: the server says no such name, has no record of the type, or never answers. */
  reason?: 'nxdomain' | 'no-answer' | 'no-reply';
  /** Record type asked for; undefined: AAAA when the expected address is IPv6, else A. */
  type?: 'A' | 'AAAA';
  address?: Target;
  addressText?: string;
}

/** What a state check reads. */
export type StateQuery =
  | { what: 'address'; dev: string; cidr: string }
  /** Some address from first to last (inclusive) is on dev, whatever its prefix length. */
  | { what: 'address-range'; dev: string; range: [string, string] }
  | { what: 'route'; dst: string; via?: string; dev?: string }
  | { what: 'link'; dev: string; up?: boolean; carrier?: boolean }
  | { what: 'sysctl'; key: string; value: string }
  | { what: 'nft'; contains: string };

export interface StateCheck extends CheckBase {
  kind: 'state';
  query: StateQuery;
}

export interface CmdCheck extends CheckBase {
  kind: 'cmd';
  argv: string[];
  /** True when argv is `sh -c SCRIPT` because the lab asked for a shell. */
  shell: boolean;
  exit: number;
  stdout?: string;
}

/** How a must-fail capture check must fail: a forbidden packet crossed, too few crossed, or the ping got no reply. */
export type CaptureReason = 'mismatch' | 'too-few' | 'no-reply';

/**
 * A capture: tcpdump on `on` (node:ifname) while a ping from → to runs; every packet (of those `filter` keeps) must
 * match `all`, none may match `none`, and at least `minPackets` must cross.
 */
export interface CaptureCheck extends TargetedCheck {
  kind: 'capture';
  on: Ref;
  count: number;
  filter?: string;
  all?: string;
  none?: string;
  minPackets: number;
  reason?: CaptureReason;
}

/** Every check kind (a union that grows by one member per kind). */
export type Check = PingCheck | TcpCheck | UdpCheck | HttpCheck | NatSourceCheck | MtuCheck | PathCheck | DnsCheck | StateCheck | CmdCheck | CaptureCheck;

/** A step held back for the learner: the task, and per node the commands a learner would type (only shown). */
export interface Exercise {
  task: string;
  /** In the order written; `at` is the node's key under `solution`. */
  solution: { node: string; commands: string[]; at: Path }[];
  at: Path;
}

/** One stage of the lab's story. Stage 0 ("setup") is the top-level config and checks. */
export interface Stage {
  name: string;
  title: string;
  explain?: string;
  config: Config;
  checks: Check[];
  /** The stage's matrices as written; their checks are in `checks`. */
  matrices: Matrix[];
  /** Set when the step can be left to the learner (`netlab up LAB --exercise`). */
  exercise?: Exercise;
}

export interface LabNode {
  name: string;
  description?: string;
}

/** A validated, normalized lab. */
export interface Lab {
  name: string;
  title: string;
  description: string;
  goals: string[];
  source?: string;
  difficulty?: 'beginner' | 'intermediate' | 'advanced';
  /** Path of the file it was read from. */
  file: string;
  nodes: LabNode[];
  veths: Veth[];
  devices: Device[];
  stages: Stage[];
  /** Set when a rubric is in use: the run is scored even if no check carries points. */
  scored?: true;
}
