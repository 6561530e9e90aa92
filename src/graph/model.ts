// The topology of a lab as of one stage, for `netlab graph` and the lab pages: namespaces with their interfaces
// (and the addresses they have by then), the wires between interfaces (veth pairs, bridge ports, macvlan/ipvlan and
// vlan parents, vxlan underlays and peers), and what each namespace does to traffic (forwarding, NAT, port forwards,
// firewall, services, DHCP). Pure: renderers (mermaid.ts, dot.ts, ascii.ts) draw it; none of them sees the Lab.
// Text here is raw lab text: each renderer escapes it for its own syntax.
import { describeDhcpServer, describeForward, describeLinkSetting, describeNat, describeService, deviceDetail } from '../lab/describe.js';
import type { Config, Device, Lab } from '../lab/types.js';

export type IfaceKind = 'veth' | Device['kind'] | 'lo';

export interface GraphIface {
  /** Stable id, made by netlab (never lab text): `n<node>i<iface>`. */
  id: string;
  name: string;
  kind: IfaceKind;
  /** Addresses as of the stage (CIDRs), and `dhcp` when a DHCP client asks for one. */
  addresses: string[];
  dhcp: boolean;
  /** Kind-specific words: `mode bridge`, `id 10`, `vni 42 port 4789`, `stp`, … */
  detail: string[];
}

/** A note on what a namespace does to traffic, with its kind for renderers that style them. */
export interface GraphNote {
  kind: 'forwarding' | 'nat' | 'forward' | 'firewall' | 'service' | 'dhcp-server';
  text: string;
}

export interface GraphNode {
  id: string;
  name: string;
  description?: string;
  ifaces: GraphIface[];
  notes: GraphNote[];
}

export type EdgeKind = 'veth' | 'port' | 'parent' | 'vlan' | 'underlay' | 'vxlan';

/** A wire between two interfaces (ids). For port/parent/vlan/underlay edges `a` is the child, `b` the master. */
export interface GraphEdge {
  kind: EdgeKind;
  a: string;
  b: string;
  label?: string;
}

export interface Graph {
  lab: string;
  title: string;
  /** The stage drawn: its index (0 = setup) and name. */
  stage: { index: number; name: string; title: string };
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Every config item of stages 0..upTo, in order (steps add to what is there). */
export function cumulative(lab: Lab, upTo: number): Config {
  const stages = lab.stages.slice(0, upTo + 1);
  const all = <K extends keyof Config>(k: K): Config[K] => stages.flatMap((s) => s.config[k] as unknown[]) as Config[K];
  return {
    nodes: all('nodes'),
    addresses: all('addresses'),
    routes: all('routes'),
    sysctls: all('sysctls'),
    links: all('links'),
    nat: all('nat'),
    forwards: all('forwards'),
    firewall: all('firewall'),
    services: all('services'),
    dhcpServers: all('dhcpServers'),
    dhcpClients: all('dhcpClients'),
  };
}

/** Interface settings that show on a drawing: MTU, MAC, netem. */
function linkDetail(cfg: Config, node: string, ifname: string): string[] {
  return cfg.links.filter((x) => x.node === node && x.ifname === ifname).flatMap(describeLinkSetting);
}

/** The NAT, forward, firewall, service and DHCP notes of one node, in words. */
function notesOf(cfg: Config, node: string): GraphNote[] {
  const notes: GraphNote[] = [];
  const fwd = cfg.sysctls.filter((s) => s.node === node && (s.key === 'net.ipv4.ip_forward' || s.key === 'net.ipv6.conf.all.forwarding'));
  const v4 = fwd.filter((s) => s.key === 'net.ipv4.ip_forward').at(-1)?.value === '1';
  const v6 = fwd.filter((s) => s.key !== 'net.ipv4.ip_forward').at(-1)?.value === '1';
  if (v4 || v6) notes.push({ kind: 'forwarding', text: v4 && v6 ? 'forwarding' : v4 ? 'IPv4 forwarding' : 'IPv6 forwarding' });
  for (const n of cfg.nat.filter((x) => x.node === node)) notes.push({ kind: 'nat', text: describeNat(n) });
  for (const f of cfg.forwards.filter((x) => x.node === node)) notes.push({ kind: 'forward', text: describeForward(f) });
  // As the planner merges them: a later policy wins, rules are appended, established defaults to true.
  const chains = new Map<string, { policy?: string; rules: number; established: boolean }>();
  for (const c of cfg.firewall.filter((x) => x.node === node)) {
    const cur = chains.get(c.hook) ?? { rules: 0, established: true };
    chains.set(c.hook, { ...(c.policy ? { policy: c.policy } : cur.policy ? { policy: cur.policy } : {}), rules: cur.rules + c.rules.length, established: c.established ?? cur.established });
  }
  for (const [hook, c] of chains) {
    notes.push({ kind: 'firewall', text: `firewall ${hook}: policy ${c.policy ?? 'accept'}, ${c.rules} rule${c.rules === 1 ? '' : 's'}${c.established ? ', replies accepted' : ''}` });
  }
  for (const s of cfg.services.filter((x) => x.node === node)) notes.push({ kind: 'service', text: describeService(s) });
  for (const d of cfg.dhcpServers.filter((x) => x.node === node)) notes.push({ kind: 'dhcp-server', text: describeDhcpServer(d) });
  return notes;
}

/** The lab's topology as of stage `upTo` (default: the last), every step up to it applied. */
export function graphModel(lab: Lab, upTo = lab.stages.length - 1): Graph {
  const cfg = cumulative(lab, upTo);
  const nodeIndex = new Map(lab.nodes.map((n, i) => [n.name, i]));
  const nodes: GraphNode[] = lab.nodes.map((n, i) => ({ id: `n${i}`, name: n.name, ...(n.description ? { description: n.description } : {}), ifaces: [], notes: notesOf(cfg, n.name) }));
  const ifaceIds = new Map<string, string>();
  const key = (node: string, ifname: string) => `${node}\u0000${ifname}`;

  /** The interface node:ifname, made on first mention (a reference to an unknown node is left out). */
  const iface = (node: string, ifname: string, kind: IfaceKind, detail: string[] = []): string | undefined => {
    const k = key(node, ifname);
    const known = ifaceIds.get(k);
    if (known) return known;
    const ni = nodeIndex.get(node);
    if (ni === undefined) return undefined;
    const g = nodes[ni]!;
    const id = `${g.id}i${g.ifaces.length}`;
    const addresses = cfg.addresses.filter((a) => a.node === node && a.ifname === ifname).map((a) => a.cidr);
    const dhcp = cfg.dhcpClients.some((c) => c.node === node && c.ifname === ifname);
    g.ifaces.push({ id, name: ifname, kind, addresses: [...new Set(addresses)], dhcp, detail: [...detail, ...linkDetail(cfg, node, ifname)] });
    ifaceIds.set(k, id);
    return id;
  };

  const edges: GraphEdge[] = [];
  const edge = (kind: EdgeKind, a: string | undefined, b: string | undefined, label?: string) => {
    if (a && b) edges.push({ kind, a, b, ...(label ? { label } : {}) });
  };
  // Devices first, so a bridge comes before its ports and a parent's kind is known when its child points at it.
  for (const d of lab.devices) iface(d.node, d.name, d.kind, deviceDetail(d));
  for (const v of lab.veths) edge('veth', iface(v.a.node, v.a.ifname, 'veth'), iface(v.b.node, v.b.ifname, 'veth'));
  for (const d of lab.devices) {
    const self = ifaceIds.get(key(d.node, d.name));
    if (d.kind === 'bridge') for (const p of d.ports) edge('port', iface(d.node, p, 'veth'), self);
    else if (d.kind === 'macvlan' || d.kind === 'ipvlan') edge('parent', self, iface(d.parent.node, d.parent.ifname, 'veth'), `${d.kind} ${d.mode}`);
    else if (d.kind === 'vlan') edge('vlan', self, iface(d.node, d.parent, 'veth'), `vlan ${d.id}`);
    else if (d.kind === 'vxlan' && d.dev) edge('underlay', self, iface(d.node, d.dev, 'veth'), 'underlay');
  }
  // VXLAN devices with one VNI are one segment: chain them.
  const vxlans = lab.devices.filter((d): d is Extract<Device, { kind: 'vxlan' }> => d.kind === 'vxlan');
  for (const vni of [...new Set(vxlans.map((d) => d.id))]) {
    const same = vxlans.filter((d) => d.id === vni);
    for (let i = 1; i < same.length; i++) edge('vxlan', ifaceIds.get(key(same[i - 1]!.node, same[i - 1]!.name)), ifaceIds.get(key(same[i]!.node, same[i]!.name)), `vni ${vni}`);
  }
  // Interfaces only config names (lo with an address, an interface of a DHCP server or client).
  for (const a of cfg.addresses) iface(a.node, a.ifname, a.ifname === 'lo' ? 'lo' : 'veth');
  for (const c of cfg.dhcpClients) iface(c.node, c.ifname, 'veth');
  const s = lab.stages[upTo]!;
  return { lab: lab.name, title: lab.title, stage: { index: upTo, name: s.name, title: s.title }, nodes, edges };
}

/** What a drawing says of an interface, line by line: name (and kind), kind details, addresses. */
export function ifaceLines(i: GraphIface): string[] {
  const head = i.kind === 'veth' || i.kind === 'lo' ? i.name : `${i.name} (${i.kind})`;
  return [head, ...i.detail, ...i.addresses, ...(i.dhcp ? ['address by DHCP'] : [])];
}

/** A step by name or number (0 is the setup), or undefined when the lab has none such. */
export function stageByName(lab: Lab, step: string): number | undefined {
  const i = /^\d+$/.test(step) ? Number(step) : lab.stages.findIndex((s) => s.name === step);
  return i >= 0 && i < lab.stages.length ? i : undefined;
}
