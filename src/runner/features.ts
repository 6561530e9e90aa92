// What labs need from the machine: ONE table of lab features → tools (with their Debian packages) and kernel features,
// the derivation of a lab's needs from its plan, and the kernel probes (in throwaway network namespaces) that `doctor`
// and the preflight of `run`/`up` share.
import { existsSync, readFileSync } from 'node:fs';
import type { Check, Lab } from '../lab/types.js';
import type { Path } from '../lab/source.js';
import { ipWords, nftText, tcWords } from '../plan/argv.js';
import type { LinkSpec, Op, OpKind } from '../plan/ops.js';
import type { Plan } from '../plan/planner.js';
import { run } from './exec.js';
import { unprivileged } from './runtime.js';

/** A program netlab spawns (resolved through PATH, like every spawn), its Debian package and how to ask its version. */
export interface ToolInfo {
  pkg: string;
  version: readonly string[];
}

export const TOOL_INFO = {
  ip: { pkg: 'iproute2', version: ['ip', '-V'] },
  tc: { pkg: 'iproute2', version: ['tc', '-V'] },
  nsenter: { pkg: 'util-linux', version: ['nsenter', '--version'] },
  unshare: { pkg: 'util-linux', version: ['unshare', '--version'] },
  setpriv: { pkg: 'util-linux', version: ['setpriv', '--version'] },
  prlimit: { pkg: 'util-linux', version: ['prlimit', '--version'] },
  cat: { pkg: 'coreutils', version: ['cat', '--version'] },
  xargs: { pkg: 'findutils', version: ['xargs', '--version'] },
  sysctl: { pkg: 'procps', version: ['sysctl', '--version'] },
  nft: { pkg: 'nftables', version: ['nft', '--version'] },
  ping: { pkg: 'iputils-ping', version: ['ping', '-V'] },
  socat: { pkg: 'socat', version: ['socat', '-V'] },
  curl: { pkg: 'curl', version: ['curl', '--version'] },
  dig: { pkg: 'bind9-dnsutils', version: ['dig', '-v'] },
  dnsmasq: { pkg: 'dnsmasq-base', version: ['dnsmasq', '--version'] },
  udhcpc: { pkg: 'udhcpc', version: ['udhcpc', '--help'] },
  tcpdump: { pkg: 'tcpdump', version: ['tcpdump', '--version'] },
  timeout: { pkg: 'coreutils', version: ['timeout', '--version'] },
} as const satisfies Record<string, ToolInfo>;
export type ToolName = keyof typeof TOOL_INFO;

/** How a kernel feature is probed: an `ip -batch` line, a `tc` command, an nft script, or a file that must exist. */
type ProbeKind = 'ip' | 'tc' | 'nft' | 'file';

export interface KernelInfo {
  probe: ProbeKind;
  /** The kernel option that provides it, and its module. */
  config: string;
  module?: string;
  /** What else the hint should say. */
  note?: string;
}

export const KERNEL_INFO = {
  veth: { probe: 'ip', config: 'CONFIG_VETH', module: 'veth' },
  bridge: { probe: 'ip', config: 'CONFIG_BRIDGE', module: 'bridge' },
  dummy: { probe: 'ip', config: 'CONFIG_DUMMY', module: 'dummy' },
  macvlan: { probe: 'ip', config: 'CONFIG_MACVLAN', module: 'macvlan' },
  ipvlan: { probe: 'ip', config: 'CONFIG_IPVLAN', module: 'ipvlan' },
  vlan: { probe: 'ip', config: 'CONFIG_VLAN_8021Q', module: '8021q' },
  vxlan: { probe: 'ip', config: 'CONFIG_VXLAN', module: 'vxlan' },
  tap: { probe: 'ip', config: 'CONFIG_TUN', module: 'tun', note: '/dev/net/tun must exist (mknod /dev/net/tun c 10 200)' },
  tun: { probe: 'ip', config: 'CONFIG_TUN', module: 'tun', note: '/dev/net/tun must exist (mknod /dev/net/tun c 10 200)' },
  netem: { probe: 'tc', config: 'CONFIG_NET_SCH_NETEM', module: 'sch_netem' },
  // The modules are every one the probe's ruleset needs when nothing loads them on demand (the kernel VM of
  // scripts/kernel-vm loads exactly these): `reject` is nft_reject_inet, a `type nat` chain nft_chain_nat.
  nftables: { probe: 'nft', config: 'CONFIG_NF_TABLES_INET, CONFIG_NFT_CT, CONFIG_NFT_REJECT_INET', module: 'nf_tables, nft_ct, nft_reject_inet' },
  'nft-nat': { probe: 'nft', config: 'CONFIG_NFT_NAT, CONFIG_NFT_MASQ, CONFIG_NFT_FIB_INET', module: 'nft_nat, nft_chain_nat, nft_masq, nft_fib_inet' },
  ipv6: { probe: 'file', config: 'CONFIG_IPV6', module: 'ipv6', note: 'and no ipv6.disable=1 on the kernel command line' },
} as const satisfies Record<string, KernelInfo>;
export type KernelFeature = keyof typeof KERNEL_INFO;
export const KERNEL_FEATURES = Object.keys(KERNEL_INFO) as KernelFeature[];

interface FeatureNeeds {
  /** What the lab feature is, in the words of the lab format. */
  what: string;
  tools: readonly ToolName[];
  kernel: readonly KernelFeature[];
}

/**
 * THE table: every lab feature netlab can build or check, and the tools and kernel features it needs. `doctor`,
 * the preflight of `run`/`up`, and the e2e tests all read it; nothing else lists tools.
 */
export const LAB_FEATURES = {
  namespaces: { what: 'every lab: namespaces, links, addresses, routes', tools: ['ip', 'nsenter', 'xargs'], kernel: [] },
  veth: { what: 'links (veth pairs)', tools: ['ip'], kernel: ['veth'] },
  bridge: { what: 'bridges', tools: ['ip'], kernel: ['bridge'] },
  dummy: { what: 'dummy devices', tools: ['ip'], kernel: ['dummy'] },
  macvlan: { what: 'macvlan devices', tools: ['ip'], kernel: ['macvlan'] },
  ipvlan: { what: 'ipvlan devices', tools: ['ip'], kernel: ['ipvlan'] },
  vlan: { what: 'vlan devices', tools: ['ip'], kernel: ['vlan'] },
  vxlan: { what: 'vxlan devices', tools: ['ip'], kernel: ['vxlan'] },
  tap: { what: 'tap devices', tools: ['ip'], kernel: ['tap'] },
  tun: { what: 'tun devices', tools: ['ip'], kernel: ['tun'] },
  netem: { what: 'netem (delay, loss, rate) on interfaces', tools: ['tc'], kernel: ['netem'] },
  ipv6: { what: 'IPv6 addresses and routes', tools: [], kernel: ['ipv6'] },
  sysctls: { what: 'sysctls and forwarding', tools: ['sysctl'], kernel: [] },
  nat: { what: 'nat (masquerade, snat)', tools: ['nft'], kernel: ['nftables', 'nft-nat'] },
  forwards: { what: 'port forwards (dnat)', tools: ['nft'], kernel: ['nftables', 'nft-nat'] },
  firewall: { what: 'firewall chains', tools: ['nft'], kernel: ['nftables'] },
  services: { what: 'services (http, tcp-echo, udp-echo: netlab\'s own server, run by this node)', tools: ['nsenter'], kernel: [] },
  'dns-server': { what: 'dns services', tools: ['dnsmasq'], kernel: [] },
  tunnel: { what: 'tunnel services (socat holding a tun/tap device, carrying it over UDP)', tools: ['socat'], kernel: ['tun'] },
  'dhcp-server': { what: 'dhcp servers', tools: ['dnsmasq'], kernel: [] },
  'dhcp-client': { what: 'dhcp clients', tools: ['udhcpc'], kernel: [] },
  'ping-check': { what: 'ping checks', tools: ['ping'], kernel: [] },
  'tcp-check': { what: 'tcp checks', tools: ['socat'], kernel: [] },
  'udp-check': { what: 'udp checks', tools: ['socat'], kernel: [] },
  'http-check': { what: 'http checks', tools: ['curl'], kernel: [] },
  'nat-source-check': { what: 'nat-source checks', tools: ['curl'], kernel: [] },
  'mtu-check': { what: 'mtu checks', tools: ['ping'], kernel: [] },
  'path-check': { what: 'path checks', tools: ['ping'], kernel: [] },
  'dns-check': { what: 'dns checks', tools: ['dig'], kernel: [] },
  'state-check': { what: 'state checks of addresses, routes, links', tools: ['ip'], kernel: [] },
  'state-sysctl-check': { what: 'state checks of sysctls', tools: ['sysctl'], kernel: [] },
  'state-nft-check': { what: 'state checks of nft rules', tools: ['nft'], kernel: [] },
  'capture-check': { what: 'capture checks (tcpdump on an interface while a ping runs)', tools: ['tcpdump', 'ping'], kernel: [] },
  'cmd-check': { what: 'cmd checks (the command itself is the lab\'s own)', tools: ['nsenter'], kernel: [] },
  pcap: { what: '--pcap captures of checks that did not hold', tools: ['tcpdump', 'timeout'], kernel: [] },
  probe: { what: 'probing kernel features (doctor; run/up of labs with devices, netem, nft or IPv6)', tools: ['unshare'], kernel: [] },
  userns: { what: 'probing unprivileged user namespaces (doctor; needed for running without root)', tools: ['setpriv', 'unshare', 'cat', 'ip'], kernel: [] },
  sandbox: { what: '--sandbox (a supervisor in namespaces of its own; every lab process started inside it)', tools: ['unshare', 'nsenter', 'setpriv', 'prlimit'], kernel: [] },
} as const satisfies Record<string, FeatureNeeds>;
export type LabFeature = keyof typeof LAB_FEATURES;

type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;
const v6 = (a: string | undefined) => a?.includes(':') === true;

/** The lab features each op kind uses (the ip-only kinds are covered by `namespaces`); exhaustive. */
const OP_FEATURES = {
  'netns-add': () => ['namespaces'],
  'netns-del': () => [],
  'veth-add': () => ['veth'],
  // Every device kind is a lab feature (and a kernel feature) of the same name.
  'link-add': (o) => [o.spec.type],
  'link-set': () => [],
  'neigh-add': () => [],
  'netem-add': () => ['netem'],
  'netem-del': () => [],
  'link-del': () => [],
  'link-master': () => [],
  'link-nomaster': () => [],
  'link-up': () => [],
  'link-down': () => [],
  'addr-add': (o) => (v6(o.cidr) ? ['ipv6'] : []),
  'addr-del': () => [],
  'route-add': (o) => (v6(o.dst) || v6(o.via) ? ['ipv6'] : []),
  'route-del': () => [],
  'nft-apply': (o) => [
    ...(o.ruleset.nat.length ? (['nat'] as const) : []),
    ...(o.ruleset.forwards.length ? (['forwards'] as const) : []),
    ...(o.ruleset.chains.length ? (['firewall'] as const) : []),
  ],
  'nft-delete': () => [],
  'service-start': () => ['services'],
  'dhcp-server': () => ['dhcp-server'],
  'dns-server': () => ['dns-server'],
  'tunnel-start': () => ['tunnel'],
  'dhcp-client': () => ['dhcp-client'],
  'proc-stop': () => [],
  sysctl: () => ['sysctls'],
} satisfies { [K in OpKind]: (op: OpOf<K>) => readonly LabFeature[] };

/** The lab feature each check kind uses; exhaustive. */
const CHECK_FEATURES = {
  ping: () => 'ping-check',
  tcp: () => 'tcp-check',
  udp: () => 'udp-check',
  http: () => 'http-check',
  'nat-source': () => 'nat-source-check',
  mtu: () => 'mtu-check',
  path: () => 'path-check',
  dns: () => 'dns-check',
  state: (c) => (c.query.what === 'sysctl' ? 'state-sysctl-check' : c.query.what === 'nft' ? 'state-nft-check' : 'state-check'),
  cmd: () => 'cmd-check',
  capture: () => 'capture-check',
} satisfies { [K in Check['kind']]: (c: Extract<Check, { kind: K }>) => LabFeature };

/** The lab features an op uses. */
export function opFeatures(op: Op): readonly LabFeature[] {
  return (OP_FEATURES[op.kind] as (o: Op) => readonly LabFeature[])(op);
}

/** The lab feature a check uses. */
export function checkFeature(c: Check): LabFeature {
  return (CHECK_FEATURES[c.kind] as (c: Check) => LabFeature)(c);
}

/** Where in the lab file a need comes from: the lab feature, the element in words, and its path (for file:line:col). */
export interface NeedSite {
  feature: LabFeature;
  element: string;
  at?: Path;
}

/** What a lab needs, each tool and kernel feature with the elements that need it (first few) and how many do. */
export interface LabNeeds {
  tools: Map<ToolName, { sites: NeedSite[]; count: number }>;
  kernel: Map<KernelFeature, { sites: NeedSite[]; count: number }>;
  /** The lab features themselves (what needs the tools and kernel features). */
  features: Map<LabFeature, { sites: NeedSite[]; count: number }>;
}

/**
 * Lab features that cannot work without root, and why: said before anything is built. (tun and tap devices need a
 * /dev/net/tun open to users; their probe says so, see preflight.)
 */
export const NOT_UNPRIVILEGED: Partial<Record<LabFeature, string>> = {
  'capture-check': 'tcpdump switches its groups as it starts, and the kernel denies setgroups in a user namespace an unprivileged user makes',
  pcap: 'tcpdump switches its groups as it starts, and the kernel denies setgroups in a user namespace an unprivileged user makes',
};

const MAX_SITES = 3;

function add<K>(map: LabNeeds['tools'] | LabNeeds['kernel'] | LabNeeds['features'], key: K, site: NeedSite): void {
  const m = map as Map<K, { sites: NeedSite[]; count: number }>;
  const e = m.get(key) ?? { sites: [], count: 0 };
  e.count++;
  if (e.sites.length < MAX_SITES && !e.sites.some((s) => s.element === site.element)) e.sites.push(site);
  m.set(key, e);
}

/** Records a lab feature's tools and kernel features against a site. */
function need(needs: LabNeeds, site: NeedSite): void {
  const f: FeatureNeeds = LAB_FEATURES[site.feature];
  add(needs.features, site.feature, site);
  for (const t of f.tools) add(needs.tools, t, site);
  for (const k of f.kernel) add(needs.kernel, k, site);
}

/** The lab element an op comes from (its words and path), found by node and interface in the model. */
function opSite(lab: Lab, op: Op, nodeOf: (ns: string) => string, feature: LabFeature): NeedSite {
  const cfg = lab.stages.map((s) => s.config);
  const node = nodeOf(op.kind === 'link-add' ? (op.into ?? op.ns) : op.ns);
  const site = (element: string, at: Path | undefined): NeedSite => ({ feature, element, at: at ?? ['nodes', node] });
  switch (op.kind) {
    case 'link-add': {
      const d = lab.devices.find((x) => x.node === node && x.name === op.ifname);
      return site(`${op.spec.type} device ${op.ifname} in node ${node}`, d?.at);
    }
    case 'veth-add': {
      const v = lab.veths.find((x) => x.a.node === node && x.a.ifname === op.ifname);
      return site(`link ${node}:${op.ifname} — ${nodeOf(op.peerNs)}:${op.peer}`, v?.at);
    }
    case 'netem-add':
      return site(`netem on ${node}:${op.ifname}`, cfg.flatMap((c) => c.links).find((l) => l.node === node && l.ifname === op.ifname && l.netem)?.at);
    case 'nft-apply': {
      const items = feature === 'nat' ? cfg.flatMap((c) => c.nat) : feature === 'forwards' ? cfg.flatMap((c) => c.forwards) : cfg.flatMap((c) => c.firewall);
      return site(`${feature} of node ${node}`, items.find((x) => x.node === node)?.at);
    }
    case 'sysctl':
      return site(`sysctl ${op.key} in node ${node}`, cfg.flatMap((c) => c.sysctls).find((s) => s.node === node && s.key === op.key)?.at);
    case 'addr-add':
      return site(`address ${op.cidr} on ${node}:${op.ifname}`, cfg.flatMap((c) => c.addresses).find((a) => a.node === node && a.ifname === op.ifname && a.cidr === op.cidr)?.at);
    case 'route-add':
      return site(`route ${op.dst} in node ${node}`, cfg.flatMap((c) => c.routes).find((r) => r.node === node && r.dst === op.dst)?.at);
    case 'service-start':
      return site(`services of node ${node}`, cfg.flatMap((c) => c.services).find((s) => s.node === node)?.at);
    case 'dns-server':
      return site(`dns service on port ${op.port} of node ${node}`, cfg.flatMap((c) => c.services).find((s) => s.node === node && s.kind === 'dns')?.at);
    case 'tunnel-start':
      return site(`tunnel on ${node}:${op.device}`, cfg.flatMap((c) => c.services).find((s) => s.node === node && s.kind === 'tunnel' && s.device === op.device)?.at);
    case 'dhcp-server':
      return site(`dhcp server on ${node}:${op.ifname}`, cfg.flatMap((c) => c.dhcpServers).find((s) => s.node === node && s.ifname === op.ifname)?.at);
    case 'dhcp-client':
      return site(`dhcp client on ${node}:${op.ifname}`, cfg.flatMap((c) => c.dhcpClients).find((s) => s.node === node && s.ifname === op.ifname)?.at);
    default:
      return site(`node ${node}`, undefined);
  }
}

/**
 * What building (and checking) a plan needs: every op's and check's lab features, through the table. `pcap` adds the
 * capture tools; stages without checks (an `up` without --check) pass no checks.
 */
export function labNeeds(lab: Lab, plan: Pick<Plan, 'namespaces' | 'stages'>, opts: { pcap?: boolean; sandbox?: boolean } = {}): LabNeeds {
  const needs: LabNeeds = { tools: new Map(), kernel: new Map(), features: new Map() };
  const byNs = new Map(plan.namespaces.map((n) => [n.ns, n.node]));
  const nodeOf = (ns: string) => byNs.get(ns) ?? ns;
  for (const stage of plan.stages) {
    for (const op of stage.ops) for (const f of opFeatures(op)) need(needs, opSite(lab, op, nodeOf, f));
    for (const c of stage.checks) need(needs, { feature: checkFeature(c), element: `${c.kind} check "${c.name}"`, at: c.at });
  }
  if (opts.pcap) need(needs, { feature: 'pcap', element: '--pcap' });
  if (opts.sandbox) need(needs, { feature: 'sandbox', element: '--sandbox' });
  return needs;
}

/** Kernel features the build itself proves in its first command (before anything else exists): not worth a probe. */
export const PROVEN_BY_BUILD: ReadonlySet<KernelFeature> = new Set(['veth', 'bridge']);

// ---- probes ----------------------------------------------------------------------------------------------------

export type ProbeStatus = 'ok' | 'missing' | 'unknown';

export interface ProbeResult {
  feature: KernelFeature;
  status: ProbeStatus;
  /** What the kernel (or the tool) said, for missing and unknown. */
  reason?: string;
  /** The command that tried it. */
  probe: string;
}

/** Names of the probe devices: fixed, short, only ever inside the probe's own unnamed namespace. */
const PARENT = 'nlp0';
/** The veth pair the child devices (macvlan, ipvlan, vlan) are created on. The veth-add op names namespaces, so it is spelled here. */
const PEER = 'nlp1';
const VETH_LINE = ['link', 'add', 'name', PARENT, 'type', 'veth', 'peer', 'name', PEER];
const NEEDS_PARENT: ReadonlySet<KernelFeature> = new Set(['macvlan', 'ipvlan', 'vlan']);

const PROBE_SPECS: { [T in LinkSpec['type']]: Extract<LinkSpec, { type: T }> } = {
  bridge: { type: 'bridge', stp: false, vlanFiltering: false },
  dummy: { type: 'dummy' },
  tap: { type: 'tap' },
  tun: { type: 'tun' },
  macvlan: { type: 'macvlan', parent: PARENT, mode: 'bridge' },
  // On the pair's other end: a device with a macvlan on it cannot take an ipvlan too (EBUSY), so the ipvlan probe
  // on nlp0 failed on every kernel that has both (found running doctor on a stock kernel, scripts/kernel-vm).
  ipvlan: { type: 'ipvlan', parent: PEER, mode: 'l2' },
  vlan: { type: 'vlan', parent: PARENT, id: 5 },
  vxlan: { type: 'vxlan', id: 42, port: 4789 },
};

/** The `ip -batch` lines that try the given link features (veth first when asked for or a child needs a parent). */
export function ipProbeLines(features: readonly KernelFeature[]): { feature: KernelFeature; line: string }[] {
  const want = new Set(features.filter((f) => KERNEL_INFO[f].probe === 'ip'));
  const lines: { feature: KernelFeature; line: string }[] = [];
  if (want.has('veth') || [...want].some((f) => NEEDS_PARENT.has(f))) lines.push({ feature: 'veth', line: VETH_LINE.join(' ') });
  for (const f of KERNEL_FEATURES) {
    if (f === 'veth' || !want.has(f)) continue;
    const spec = PROBE_SPECS[f as LinkSpec['type']];
    lines.push({ feature: f, line: ipWords({ kind: 'link-add', ns: '', ifname: `nlp-${f}`, spec }).join(' ') });
  }
  return lines;
}

/** The netem probe: netlab's own tc words for a 1 ms delay on the probe namespace's loopback. */
export const NETEM_PROBE = tcWords({ kind: 'netem-add', ns: '', ifname: 'lo', netem: { delayMs: 1 } });

/** The nft probes: netlab's own rendering of a ruleset that uses what each feature covers. */
export function nftProbeText(f: 'nftables' | 'nft-nat'): string {
  if (f === 'nftables') {
    return nftText({
      kind: 'nft-apply', ns: '',
      ruleset: { nat: [], forwards: [], chains: [{ hook: 'forward', policy: 'drop', established: true, rules: [{ action: 'accept', proto: 'tcp', port: 80, in: 'lo' }, { action: 'reject', proto: 'udp' }] }] },
    });
  }
  return nftText({
    kind: 'nft-apply', ns: '',
    ruleset: {
      nat: [{ kind: 'masquerade', out: 'lo', except: ['10.1.0.0/16'] }, { kind: 'snat', to: '10.0.0.9', src: '10.2.0.0/16', except: [] }],
      forwards: [{ proto: 'tcp', port: 80, toAddress: '10.0.0.1', toPort: 8080 }],
      chains: [],
    },
  });
}

/** Per batch line, what `ip -force -batch` said about the lines that failed ("Error: …" then "Command failed FILE:N"). */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const out = new Map<number, string>();
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = /^Command failed .*:(\d+)$/.exec(line);
    if (m) {
      out.set(Number(m[1]), pending.join(' ') || 'failed');
      pending = [];
    } else if (line) pending.push(line.replace(/^Error: /, ''));
  }
  return out;
}

/** The reason in a failed tool's stderr: the first "Error: …" (nft puts a location before it), else its first line. */
export function toolReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.find((l) => /\bError: /.test(l));
  return (err ? err.slice(err.indexOf('Error: ') + 'Error: '.length) : lines[0]) ?? 'failed';
}

/** Whether stderr is the probe's own failure (unshare could not run, or could not start the tool), not the kernel's answer. */
function probeFailed(stderr: string, spawnError: string | undefined): string | undefined {
  if (spawnError !== undefined) return spawnError;
  const m = /^unshare: .*$/m.exec(stderr);
  return m ? m[0] : undefined;
}

/** Results of the ip probe from its exit code and stderr. */
export function ipProbeResults(lines: readonly { feature: KernelFeature; line: string }[], r: { exitCode?: number | undefined; stderr: string; spawnError?: string }): ProbeResult[] {
  const broken = probeFailed(r.stderr, r.spawnError);
  const errors = parseBatchErrors(r.stderr);
  const vethFailed = lines[0]?.feature === 'veth' && errors.has(1);
  return lines.map((l, i): ProbeResult => {
      const probe = `ip link: ${l.line}`;
      if (broken !== undefined) return { feature: l.feature, status: 'unknown', reason: `could not probe: ${broken}`, probe };
      if (r.exitCode !== 0 && !errors.size) return { feature: l.feature, status: 'unknown', reason: `could not probe: ${toolReason(r.stderr)}`, probe };
      const why = errors.get(i + 1);
      if (why === undefined) return { feature: l.feature, status: 'ok', probe };
      if (vethFailed && NEEDS_PARENT.has(l.feature)) return { feature: l.feature, status: 'unknown', reason: 'not probed: needs a veth parent, and veth is missing', probe };
      return { feature: l.feature, status: 'missing', reason: why, probe };
  });
}

/** Result of a one-command probe (tc, nft) from its exit code and stderr. */
export function commandProbeResult(feature: KernelFeature, probe: string, r: { exitCode?: number | undefined; stderr: string; spawnError?: string }): ProbeResult {
  const broken = probeFailed(r.stderr, r.spawnError);
  if (broken !== undefined) return { feature, status: 'unknown', reason: `could not probe: ${broken}`, probe };
  if (r.exitCode === 0) return { feature, status: 'ok', probe };
  return { feature, status: 'missing', reason: toolReason(r.stderr), probe };
}

/** argv that runs `argv` in a new, unnamed network namespace that dies with it (unprivileged: in a user namespace of its own too): nothing to clean up, the host untouched. */
const scratch = (argv: readonly string[]) => ['unshare', ...(unprivileged() ? ['--user', '--map-root-user'] : []), '--net', '--', ...argv];

/**
 * Tries each kernel feature for real in throwaway network namespaces (`unshare --net`: unnamed, gone when the
 * process exits, whatever happens): one `ip -force -batch` for all link kinds, one `tc` for netem, one `nft -f` per
 * nft feature, all at once; ipv6 is a file. Never touches the root namespace.
 */
export async function probeKernel(features: readonly KernelFeature[], signal?: AbortSignal): Promise<ProbeResult[]> {
  const want = [...new Set(features)];
  const opts = { timeoutMs: 10_000, ...(signal ? { signal } : {}) };
  const jobs: Promise<ProbeResult[]>[] = [];
  const lines = ipProbeLines(want);
  if (lines.length) {
    jobs.push(run(scratch(['ip', '-force', '-batch', '-']), { ...opts, input: lines.map((l) => l.line).join('\n') + '\n' }).then((r) => ipProbeResults(lines, r)));
  }
  if (want.includes('netem')) jobs.push(run(scratch(['tc', ...NETEM_PROBE]), opts).then((r) => [commandProbeResult('netem', `tc ${NETEM_PROBE.join(' ')}`, r)]));
  for (const f of ['nftables', 'nft-nat'] as const) {
    if (want.includes(f)) jobs.push(run(scratch(['nft', '-f', '-']), { ...opts, input: nftProbeText(f) }).then((r) => [commandProbeResult(f, 'nft -f (a ruleset like netlab\'s)', r)]));
  }
  if (want.includes('ipv6')) {
    jobs.push(Promise.resolve([existsSync('/proc/sys/net/ipv6') ? { feature: 'ipv6', status: 'ok', probe: '/proc/sys/net/ipv6' } : { feature: 'ipv6', status: 'missing', reason: 'no /proc/sys/net/ipv6: IPv6 is off in this kernel', probe: '/proc/sys/net/ipv6' }]));
  }
  const got = (await Promise.all(jobs)).flat();
  return want.map((f) => got.find((g) => g.feature === f) ?? { feature: f, status: 'unknown', reason: 'not probed', probe: '' });
}

/** The tools a feature's probe runs (none for a file); without them it cannot be probed. */
export function probeTools(f: KernelFeature): ToolName[] {
  const kind: ProbeKind = KERNEL_INFO[f].probe;
  return kind === 'file' ? [] : ['unshare', kind];
}

/** Whether this kernel can load modules at all (no /proc/modules: everything must be built in). */
export function modulesLoadable(): boolean {
  return existsSync('/proc/modules');
}

/** The modules that provide a kernel feature (none when it is always built in), in the order to load them. */
export function kernelModules(f: KernelFeature): string[] {
  const k: KernelInfo = KERNEL_INFO[f];
  return k.module ? k.module.split(',').map((m) => m.trim()) : [];
}

/**
 * docs/lab-format.md's table of what each lab feature needs from the kernel: the kernel option and the modules (a
 * unit test keeps the two equal), one row per lab feature that needs any.
 */
export function kernelTableMarkdown(): string {
  const rows = (Object.keys(LAB_FEATURES) as LabFeature[]).flatMap((lf) => {
    const ks: readonly KernelFeature[] = LAB_FEATURES[lf].kernel;
    if (!ks.length) return [];
    const cell = (f: (k: KernelFeature) => string) => ks.map(f).join('; ');
    return [`| ${LAB_FEATURES[lf].what} | ${ks.join(', ')} | ${cell((k) => KERNEL_INFO[k].config)} | ${cell((k) => kernelModules(k).map((m) => `\`${m}\``).join(', '))} |`];
  });
  return ['| lab feature | kernel feature | kernel option | modules |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** What to do about a missing kernel feature: the module to load, or the kernel option a kernel without modules needs. */
export function kernelHint(f: KernelFeature, loadable = modulesLoadable()): string {
  const k: KernelInfo = KERNEL_INFO[f];
  const base = loadable && k.module
    ? `load the module: modprobe ${kernelModules(f).join(' && modprobe ')} (kernel option ${k.config})`
    : `this kernel cannot load modules: it needs ${k.config.split(', ').map((c) => `${c}=y`).join(', ')} built in (another kernel, VM or host)`;
  return k.note ? `${base}; ${k.note}` : base;
}

// ---- unprivileged user namespaces (running without root) -------------------------------------------------

/** A setting that can forbid unprivileged user namespaces: its sysctl name, its file, when it blocks, and the fix. */
interface UsernsSetting {
  setting: string;
  file: string;
  blocks: (value: string) => boolean;
  /** The commands that allow them (as root), given the path of the `unshare` netlab runs. */
  fix: (unshare: string) => string[];
}

/** The sysctl.d file netlab suggests for persisting a setting. */
const SYSCTL_D = '/etc/sysctl.d/60-netlab-userns.conf';
const sysctlFix = (key: string, value: string) => [`sysctl -w ${key}=${value}`, `echo '${key} = ${value}' > ${SYSCTL_D}  # keeps it after a reboot`];

/**
 * What can forbid them, in the order the kernel asks: Debian's (and older Ubuntu's) switch, Ubuntu's AppArmor
 * restriction (23.10+; it confines only the program that creates the namespace, here `unshare`, so a profile that
 * lets that program create user namespaces is the narrow fix), and a zero limit.
 */
export const USERNS_SETTINGS: readonly UsernsSetting[] = [
  { setting: 'kernel.unprivileged_userns_clone', file: '/proc/sys/kernel/unprivileged_userns_clone', blocks: (v) => v === '0', fix: () => sysctlFix('kernel.unprivileged_userns_clone', '1') },
  {
    setting: 'kernel.apparmor_restrict_unprivileged_userns',
    file: '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
    blocks: (v) => v === '1',
    fix: (unshare) => [
      `cat > /etc/apparmor.d/netlab-unshare <<'EOF'`,
      'abi <abi/4.0>,',
      'include <tunables/global>',
      `profile netlab-unshare ${unshare} flags=(unconfined) {`,
      '  userns,',
      '}',
      'EOF',
      'apparmor_parser -r /etc/apparmor.d/netlab-unshare',
      `# that lets ${unshare} create them (for every user); or, for every program:`,
      'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
    ],
  },
  { setting: 'user.max_user_namespaces', file: '/proc/sys/user/max_user_namespaces', blocks: (v) => v === '0', fix: () => sysctlFix('user.max_user_namespaces', '16384') },
];

export interface UsernsBlocker {
  setting: string;
  value: string;
  fix: string[];
}

/**
 * The settings that forbid unprivileged user namespaces, from their files' contents (`read` gives undefined for a
 * file that is absent or unreadable: that kernel has no such switch, so it blocks nothing). Pure.
 */
export function usernsBlockers(read: (file: string) => string | undefined, unshare = '/usr/bin/unshare'): UsernsBlocker[] {
  return USERNS_SETTINGS.flatMap((s) => {
    const value = read(s.file)?.trim();
    return value !== undefined && s.blocks(value) ? [{ setting: s.setting, value, fix: s.fix(unshare) }] : [];
  });
}

/** A file under /proc/sys, or undefined when it is absent or unreadable (read only, never written). */
export function readSetting(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export interface UsernsResult {
  status: 'allowed' | 'blocked' | 'unknown';
  /** The uid outside the namespace the probe ran as: the kernel's uid map when it got that far, else the uid asked for. */
  probedAs: number | null;
  /** The commands that tried it. */
  probe: string;
  /** What failed (blocked, unknown). */
  reason?: string;
  /** The settings that forbid them (blocked); empty when none of the known ones does. */
  blockedBy: UsernsBlocker[];
}

/** The uid outside that a `/proc/self/uid_map` maps root to ("0 65534 1"), or undefined. */
export function mappedRootUid(uidMap: string): number | undefined {
  const m = /^\s*0\s+(\d+)\s+\d+\s*$/m.exec(uidMap);
  return m ? Number(m[1]) : undefined;
}

/** The uid doctor drops to when it runs as root (nobody): what a user without privileges would get. */
export const PROBE_UID = 65534;
const USERNS = ['unshare', '--user', '--map-root-user', '--net', '--mount', '--'];
const PROBE_VETH = ['ip', 'link', 'add', 'name', 'nlu0', 'type', 'veth', 'peer', 'name', 'nlu1'];

/** argv that runs a probe as an unprivileged uid: through setpriv as root (no groups, no capabilities), as is otherwise. */
export function usernsProbeArgv(asRoot: boolean, inside: readonly string[]): string[] {
  const drop = asRoot ? ['setpriv', `--reuid=${PROBE_UID}`, `--regid=${PROBE_UID}`, '--clear-groups', '--inh-caps=-all', '--'] : [];
  return [...drop, ...USERNS, ...inside];
}

type Ran = { exitCode?: number | undefined; stdout: string; stderr: string; spawnError?: string };

/** Whether the probe could not even start (setpriv or unshare not runnable) rather than the kernel saying no. */
function probeBroken(r: Ran): string | undefined {
  if (r.spawnError !== undefined) return r.spawnError;
  return /^(setpriv: .*|unshare: failed to execute .*)$/m.exec(r.stderr)?.[0];
}

/**
 * The verdict from the two probe runs (the uid map, then a veth inside) and the settings; pure. A failure the probe
 * itself caused is unknown, one the kernel gave is blocked, with the settings that explain it.
 */
export function usernsResult(uid: number, map: Ran, veth: Ran | undefined, blockers: () => UsernsBlocker[]): UsernsResult {
  const probe = `${usernsProbeArgv(uid === 0, ['cat', '/proc/self/uid_map']).join(' ')}; then ${PROBE_VETH.join(' ')} inside`;
  const asked = uid === 0 ? PROBE_UID : uid;
  const reasonOf = (r: Ran) => r.stderr.split('\n').map((l) => l.trim()).find(Boolean) ?? `exit ${r.exitCode ?? '?'}`;
  for (const r of [map, veth]) {
    if (!r) continue;
    const broken = probeBroken(r);
    if (broken !== undefined) return { status: 'unknown', probedAs: null, probe, reason: `could not probe: ${broken}`, blockedBy: [] };
    if (r.exitCode !== 0) return { status: 'blocked', probedAs: mappedRootUid(map.stdout) ?? asked, probe, reason: reasonOf(r), blockedBy: blockers() };
  }
  const probedAs = mappedRootUid(map.stdout);
  if (probedAs === undefined) return { status: 'unknown', probedAs: null, probe, reason: `could not probe: no uid map in ${JSON.stringify(map.stdout.trim())}`, blockedBy: [] };
  return { status: 'allowed', probedAs, probe, blockedBy: [] };
}

/**
 * Tries, for real, what a user without privileges would: a new user namespace mapping them to root, with its own
 * network and mount namespaces (unnamed, gone when the probe exits), and a veth pair in it. As root it drops to uid
 * 65534 first. Reads the settings only when that fails; never writes any.
 */
export async function probeUserns(opts: { uid?: number; unshare?: string; signal?: AbortSignal } = {}): Promise<UsernsResult> {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const ro = { timeoutMs: 10_000, ...(opts.signal ? { signal: opts.signal } : {}) };
  const map = await run(usernsProbeArgv(uid === 0, ['cat', '/proc/self/uid_map']), ro);
  const veth = map.exitCode === 0 ? await run(usernsProbeArgv(uid === 0, PROBE_VETH), ro) : undefined;
  return usernsResult(uid, map, veth, () => usernsBlockers(readSetting, opts.unshare));
}
