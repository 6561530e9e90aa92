// Lab → Plan: a pure function producing the ordered ops of every stage and the checks with resolved targets.
import { staticNeighbourOps } from './neighbours.js';
import { groupBy } from '../lab/group.js';
import { formatValue, parseCidr } from '../lab/ip.js';
import type { Address, Check, Config, Device, DhcpClient, Lab, Target } from '../lab/types.js';
import { nsName } from './naming.js';
import type { LinkSpec, Op, Ruleset } from './ops.js';

/**
 * A check ready to run: its namespace and target address resolved ('' for checks without a target), and `more`
 * holding the other addresses it names, resolved too (nat-source: the expected client; path: the hops; dns: the
 * expected answer).
 */
export type PlannedCheck = Check & { stage: string; fromNs: string; target: string; more: string[] };

export interface PlannedStage {
  name: string;
  title: string;
  explain?: string;
  ops: Op[];
  checks: PlannedCheck[];
}

export interface Plan {
  lab: string;
  instance: string;
  /** node → namespace, in lab order. */
  namespaces: { node: string; ns: string }[];
  stages: PlannedStage[];
}

/** The node a macvlan/ipvlan parent lives in. */
function parentNode(d: Device): string {
  return d.kind === 'macvlan' || d.kind === 'ipvlan' ? d.parent.node : d.node;
}

/** What `link-add` needs to create a device. */
function linkSpec(d: Device): LinkSpec {
  switch (d.kind) {
    case 'bridge':
      return { type: 'bridge', stp: d.stp, vlanFiltering: d.vlanFiltering, ...(d.forwardDelayMs !== undefined ? { forwardDelayMs: d.forwardDelayMs } : {}) };
    case 'macvlan':
    case 'ipvlan':
      return { type: d.kind, parent: d.parent.ifname, mode: d.mode };
    case 'vlan':
      return { type: 'vlan', parent: d.parent, id: d.id };
    case 'vxlan': {
      const { id, port, remote, local, dev } = d;
      return { type: 'vxlan', id, port, ...(remote !== undefined ? { remote } : {}), ...(local !== undefined ? { local } : {}), ...(dev !== undefined ? { dev } : {}) };
    }
    case 'dummy':
    case 'tap':
    case 'tun':
      return { type: d.kind };
  }
}

/** Orders one node's devices so that a device whose parent is another of them comes after it. */
function parentsFirst(devices: readonly Device[]): Device[] {
  const parentOf = (d: Device) => (d.kind === 'vlan' ? d.parent : d.kind === 'macvlan' || d.kind === 'ipvlan' ? d.parent.ifname : undefined);
  const out: Device[] = [];
  const left = [...devices];
  while (left.length) {
    const i = left.findIndex((d) => !left.some((o) => o !== d && o.name === parentOf(d)));
    out.push(...left.splice(i < 0 ? 0 : i, 1));
  }
  return out;
}

function configOps(config: Config, ns: (node: string) => string, sysctlNow: Map<string, string>): Op[] {
  const ops: Op[] = [];
  for (const l of config.links) {
    if (l.mtu !== undefined || l.mac !== undefined) {
      ops.push({ kind: 'link-set', ns: ns(l.node), ifname: l.ifname, ...(l.mtu !== undefined ? { mtu: l.mtu } : {}), ...(l.mac !== undefined ? { mac: l.mac } : {}) });
    }
    if (l.netem) ops.push({ kind: 'netem-add', ns: ns(l.node), ifname: l.ifname, netem: l.netem });
    if (l.up === true) ops.push({ kind: 'link-up', ns: ns(l.node), ifname: l.ifname });
  }
  for (const s of config.sysctls) {
    const key = `${s.node} ${s.key}`;
    const previous = sysctlNow.get(key);
    sysctlNow.set(key, s.value);
    ops.push({ kind: 'sysctl', ns: ns(s.node), key: s.key, value: s.value, ...(previous !== undefined ? { previous } : {}) });
  }
  for (const a of config.addresses) ops.push({ kind: 'addr-add', ns: ns(a.node), ifname: a.ifname, cidr: a.cidr });
  for (const r of config.routes) {
    ops.push({
      kind: 'route-add',
      ns: ns(r.node),
      dst: r.dst,
      ...(r.via !== undefined ? { via: r.via } : {}),
      ...(r.dev !== undefined ? { dev: r.dev } : {}),
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
    });
  }
  // Down last: the stage's addresses and routes go on first (a route via a down interface is refused), and the
  // kernel then drops the routes through it, as unplugging the adapter would.
  for (const l of config.links) if (l.up === false) ops.push({ kind: 'link-down', ns: ns(l.node), ifname: l.ifname });
  return ops;
}

/** Processes a stage starts: services (one server per node), tunnels, DNS servers, DHCP servers, then DHCP clients. */
function procOps(config: Config, ns: (node: string) => string, addressesOf: AddressIndex, devices: readonly Device[]): Op[] {
  const ops: Op[] = [];
  const byNode = new Map<string, { kind: 'http' | 'tcp-echo' | 'udp-echo'; port: number }[]>();
  for (const svc of config.services) {
    if (svc.kind !== 'dns' && svc.kind !== 'tunnel') byNode.set(svc.node, [...(byNode.get(svc.node) ?? []), { kind: svc.kind, port: svc.port }]);
  }
  for (const [node, services] of byNode) ops.push({ kind: 'service-start', ns: ns(node), node, services });
  for (const svc of config.services) {
    if (svc.kind !== 'tunnel') continue;
    const dev = devices.find((d) => d.node === svc.node && d.name === svc.device);
    if (dev?.kind !== 'tun' && dev?.kind !== 'tap') throw new Error(`${svc.node}:${svc.device} is not a tun or tap device (the rules should have caught this)`);
    const peer = resolveTarget(svc.peer, svc.peerText, addressesOf, []);
    ops.push({ kind: 'tunnel-start', ns: ns(svc.node), node: svc.node, device: svc.device, type: dev.kind, peer, port: svc.port, ...(svc.local !== undefined ? { local: svc.local } : {}) });
  }
  for (const svc of config.services) {
    if (svc.kind !== 'dns') continue;
    const records = svc.records.map((r) => ({ name: r.name, address: resolveTarget(r.to, r.toText, addressesOf, []) }));
    ops.push({ kind: 'dns-server', ns: ns(svc.node), node: svc.node, port: svc.port, records });
  }
  for (const d of config.dhcpServers) {
    const own = (addressesOf.get(d.node) ?? []).map((a) => ({ a, c: parseCidr(a.cidr) })).find((x) => x.a.ifname === d.ifname && x.c?.family === 4);
    const prefix = own?.c?.prefix ?? 24;
    const netmask = formatValue(((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n), 4);
    ops.push({
      kind: 'dhcp-server',
      ns: ns(d.node),
      node: d.node,
      ifname: d.ifname,
      start: d.start,
      end: d.end,
      netmask,
      ...(d.gateway !== undefined ? { gateway: d.gateway } : {}),
      dns: d.dns,
      leaseSecs: d.leaseSecs,
    });
  }
  for (const c of config.dhcpClients) ops.push({ kind: 'dhcp-client', ns: ns(c.node), node: c.node, ifname: c.ifname });
  return ops;
}

/** One nft-apply per node whose NAT, forwards or firewall this stage changes, carrying the cumulative ruleset. */
function nftOps(config: Config, ns: (node: string) => string, rulesets: Map<string, Ruleset>): Op[] {
  const changed = new Set([...config.nat, ...config.forwards, ...config.firewall].map((x) => x.node));
  const ops: Op[] = [];
  for (const node of changed) {
    const previous = rulesets.get(node);
    const next: Ruleset = structuredClone(previous ?? { nat: [], forwards: [], chains: [] });
    for (const { node: n, at, ...rest } of config.nat) if (n === node) next.nat.push(rest);
    for (const { node: n, at, ...rest } of config.forwards) if (n === node) next.forwards.push(rest);
    for (const c of config.firewall.filter((x) => x.node === node)) {
      const chain = next.chains.find((x) => x.hook === c.hook) ?? next.chains[next.chains.push({ hook: c.hook, policy: 'accept', established: true, rules: [] }) - 1]!;
      if (c.policy !== undefined) chain.policy = c.policy;
      if (c.established !== undefined) chain.established = c.established;
      chain.rules.push(...c.rules);
    }
    rulesets.set(node, next);
    ops.push({ kind: 'nft-apply', ns: ns(node), ruleset: next, ...(previous ? { previous } : {}) });
  }
  return ops;
}

/** The addresses so far, by node, each node's in the order they were declared. */
type AddressIndex = ReadonlyMap<string, readonly Address[]>;

/** The address a check target means at this point of the lab: IPv4 preferred, first declared wins. */
function resolveTarget(to: Target, text: string, addresses: AddressIndex, leased: readonly DhcpClient[]): string {
  if (to.kind === 'address') return to.address;
  const { node, ifname } = to;
  const own = (addresses.get(node) ?? []).filter((a) => ifname === undefined || a.ifname === ifname);
  const pick = own.find((a) => parseCidr(a.cidr)?.family === 4) ?? own[0];
  if (pick) return pick.cidr.split('/')[0] as string;
  // An address only known once the lab runs: the runner swaps in the lease (see leaseTarget).
  const lease = leased.find((c) => c.node === node && (ifname === undefined || c.ifname === ifname));
  if (lease) return leaseTarget(lease);
  throw new Error(`${text} has no address (the rules should have caught this)`);
}

/** Resolves every address a check names. */
function planCheck(c: Check, stage: string, ns: (node: string) => string, addresses: AddressIndex, leased: readonly DhcpClient[]): PlannedCheck {
  const resolve = (t: Target, text: string) => resolveTarget(t, text, addresses, leased);
  const target = 'to' in c ? resolve(c.to, c.toText) : '';
  const more =
    c.kind === 'nat-source'
      ? [resolve(c.seenAs, c.seenAsText)]
      : c.kind === 'path'
        ? c.via.map((t, i) => resolve(t, c.viaText[i] ?? ''))
        : c.kind === 'dns' && c.address !== undefined
          ? [resolve(c.address, c.addressText ?? '')]
          : [];
  return { ...c, stage, fromNs: ns(c.from), target, more };
}

/** Placeholder target for an address a DHCP client will lease: `lease:<node>:<ifname>`. */
export function leaseTarget(ref: { node: string; ifname: string }): string {
  return `lease:${ref.node}:${ref.ifname}`;
}

export interface PlanOptions {
  /**
   * Set net.ipv4.ip_forward explicitly in every node that does not forward (default true). New namespaces copy
   * the root namespace's IPv4 settings; when the root namespace does not forward, the pin is a no-op and the
   * runner skips it (one process per namespace saved).
   */
  pinForwarding?: boolean;
}

/**
 * The ifindex of the first end of veth pair i is this plus i: far above what the kernel hands out in a namespace, so
 * the two ends of a pair never share an index (then the kernel's link watcher delays switching the pair on by up to 1 s).
 */
const VETH_INDEX_BASE = 10_000;

/** Plans a lab for one instance. Pure: same lab, instance and options, same plan. */
export function planLab(lab: Lab, instance: string, opts: PlanOptions = {}): Plan {
  const ns = (node: string) => nsName(instance, node);
  const sysctlNow = new Map<string, string>();
  const addresses: Address[] = [];
  const build: Op[] = [];
  for (const n of lab.nodes) build.push({ kind: 'netns-add', ns: ns(n.name) });
  lab.veths.forEach((v, i) => {
    build.push({ kind: 'veth-add', ns: ns(v.a.node), ifname: v.a.ifname, index: VETH_INDEX_BASE + i, peerNs: ns(v.b.node), peer: v.b.ifname });
  });
  // macvlan/ipvlan children of a parent in another node: created in the parent's namespace, straight into their own.
  const remote = lab.devices.filter((d) => (d.kind === 'macvlan' || d.kind === 'ipvlan') && d.parent.node !== d.node);
  for (const d of remote) build.push({ kind: 'link-add', ns: ns(parentNode(d)), ifname: d.name, spec: linkSpec(d), into: ns(d.node) });
  // Each node's veth ends and devices, in the lab's order: looked up per node, not searched for (a 500-node star
  // has 500 veths; the search was most of `netlab plan`'s own time there).
  const forwarding = new Set(lab.stages[0]?.config.sysctls.filter((s) => s.key === 'net.ipv4.ip_forward').map((s) => s.node));
  const vethEnds = groupBy(lab.veths.flatMap((v) => [v.a, v.b]), (end) => end.node);
  const devicesOf = groupBy(lab.devices, (d) => d.node);
  for (const n of lab.nodes) {
    // New namespaces copy the root namespace's IPv4 settings: pin forwarding so a lab never depends on the host.
    const forwards = forwarding.has(n.name);
    if (!forwards && opts.pinForwarding !== false) build.push({ kind: 'sysctl', ns: ns(n.name), key: 'net.ipv4.ip_forward', value: '0' });
    if (!forwards) sysctlNow.set(`${n.name} net.ipv4.ip_forward`, '0');
    const devices = devicesOf.get(n.name) ?? [];
    const local = devices.filter((d) => !remote.includes(d));
    for (const d of parentsFirst(local)) build.push({ kind: 'link-add', ns: ns(n.name), ifname: d.name, spec: linkSpec(d) });
    const up: Op[] = [{ kind: 'link-up', ns: ns(n.name), ifname: 'lo' }];
    for (const end of vethEnds.get(n.name) ?? []) up.push({ kind: 'link-up', ns: ns(n.name), ifname: end.ifname });
    for (const d of devices) {
      if (d.kind === 'bridge') for (const port of d.ports) build.push({ kind: 'link-master', ns: ns(n.name), ifname: port, master: d.name });
      up.push({ kind: 'link-up', ns: ns(n.name), ifname: d.name });
    }
    build.push(...up);
  }
  const rulesets = new Map<string, Ruleset>();
  const leased: DhcpClient[] = [];
  const stages = lab.stages.map((stage, i): PlannedStage => {
    addresses.push(...stage.config.addresses);
    leased.push(...stage.config.dhcpClients);
    // The addresses of every stage so far, by node: what services and checks resolve their targets against.
    const byNode = groupBy(addresses, (a) => a.node);
    const ops = [
      ...(i === 0 ? build : []),
      ...configOps(stage.config, ns, sysctlNow),
      ...nftOps(stage.config, ns, rulesets),
      ...procOps(stage.config, ns, byNode, lab.devices),
    ];
    const checks = stage.checks.map((c) => planCheck(c, stage.name, ns, byNode, leased));
    return { name: stage.name, title: stage.title, ...(stage.explain !== undefined ? { explain: stage.explain } : {}), ops, checks };
  });
  // Busy bridges: the neighbour entries every check needs, permanent (neighbours.ts).
  stages[0]?.ops.push(...staticNeighbourOps(lab, stages.flatMap((s) => s.checks), ns));
  return { lab: lab.name, instance, namespaces: lab.nodes.map((n) => ({ node: n.name, ns: ns(n.name) })), stages };
}
