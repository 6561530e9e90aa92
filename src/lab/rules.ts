// Semantic rules over the model: references, names, addressing and routing sanity. Pure; returns every problem.
import { inSubnet, isNetworkOrBroadcast, networkOf, parseCidr, type Cidr } from './ip.js';
import { routeKey, sameRouteMessage } from './address-rules.js';
import { Dropped } from './dropped.js';
import { exerciseProblems } from './exercise-rules.js';
import { CAPTURE_REASONS, CONNECT_REASONS, HTTP_REASONS, dnsNameProblem } from './schema.js';
import { matrixProblems } from './matrix-rules.js';
import type { Path } from './source.js';
import { StageRules } from './stage-rules.js';
import { resolveTarget } from './target-rules.js';
import type { Address, Check, Lab, Ref, Target } from './types.js';

export interface RuleProblem {
  at: Path;
  message: string;
  hint?: string;
  /** Point at the key rather than the value. */
  key?: boolean;
  /** The problem is that this key is absent: not reported when the schema pass left that key out (already reported). */
  absent?: Path;
}

const refKey = (r: Ref) => `${r.node}:${r.ifname}`;

/** Disjoint sets of interfaces joined by veths and bridges: one set per L2 segment. */
class Segments {
  private parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.parent.set(x, p);
    }
    return p;
  }
  join(a: string, b: string): void {
    this.parent.set(this.find(a), this.find(b));
  }
}

/**
 * `reason` of a tcp, udp, http or capture check: only with expect: fail, and then required (a must-fail check says how
 * it must fail).
 */
function reasonProblem(c: Extract<Check, { kind: 'tcp' | 'udp' | 'http' | 'capture' }>): RuleProblem | undefined {
  if (c.expect === 'pass') return c.reason === undefined ? undefined : { at: [...c.at, 'reason'], message: 'reason only applies to checks with expect: fail' };
  if (c.reason !== undefined) return undefined;
  const reasons = (c.kind === 'http' ? HTTP_REASONS : c.kind === 'capture' ? CAPTURE_REASONS : CONNECT_REASONS).join(', ');
  return {
    at: [...c.at, 'expect'],
    absent: [...c.at, 'reason'],
    message: `expect: fail needs a reason saying how this ${c.kind} check must fail: ${reasons}`,
    hint:
      c.kind === 'capture'
        ? 'e.g. mismatch when a packet the filters forbid crossed; without one it would pass when nothing crossed at all'
        : 'e.g. refused when nothing listens, timeout when a firewall drops it; without one it would pass however the lab is broken (server down, router not forwarding)',
  };
}

/**
 * Runs every rule; an empty list means the lab is valid. `dropped`: what the schema pass left out; problems that only
 * follow from it (a reference to a left-out node or interface, an address it held) are not reported.
 */
export function checkRules(lab: Lab, dropped: Dropped = Dropped.none): RuleProblem[] {
  const out: RuleProblem[] = [];
  const nodes = new Set(lab.nodes.map((n) => n.name));
  const nodeNames = [...nodes].join(', ');
  const ifaces = new Map<string, Set<string>>([...nodes].map((n) => [n, new Set(['lo'])]));
  const knownNode = (node: string, at: Path, key = false): boolean => {
    if (nodes.has(node)) return true;
    if (dropped.node(node)) return false;
    out.push({ at, key, message: `unknown node "${node}"`, hint: `nodes in this lab: ${nodeNames}` });
    return false;
  };
  const addIface = (ref: Ref, at: Path): void => {
    const set = ifaces.get(ref.node);
    if (!set) return;
    if (set.has(ref.ifname)) {
      out.push({
        at,
        message: `interface "${ref.ifname}" is defined twice in node "${ref.node}"`,
        hint: 'interface names must be unique within a node',
      });
    }
    set.add(ref.ifname);
  };
  const knownIface = (ref: Ref, at: Path, key = false): boolean => {
    const set = ifaces.get(ref.node);
    if (!set || set.has(ref.ifname)) return true;
    if (dropped.iface(ref)) return false;
    out.push({
      at,
      key,
      message: `node "${ref.node}" has no interface "${ref.ifname}"`,
      hint: `interfaces of ${ref.node}: ${[...set].join(', ')} (interfaces come from links and devices)`,
    });
    return false;
  };

  // Topology: veth ends and devices create interfaces; segments join them.
  const seg = new Segments();
  for (const v of lab.veths) {
    const okA = knownNode(v.a.node, [...v.at, 'endpoints', 0]);
    const okB = knownNode(v.b.node, [...v.at, 'endpoints', 1]);
    for (const [end, i] of [[v.a, 0], [v.b, 1]] as const) {
      if (end.ifname === 'lo') out.push({ at: [...v.at, 'endpoints', i], message: '"lo" is the loopback device and cannot be a veth end' });
    }
    if (okA && v.a.ifname !== 'lo') addIface(v.a, [...v.at, 'endpoints', 0]);
    if (okB && v.b.ifname !== 'lo') addIface(v.b, [...v.at, 'endpoints', 1]);
    seg.join(refKey(v.a), refKey(v.b));
  }
  for (const d of lab.devices) {
    if (!knownNode(d.node, [...d.at, 'node'])) continue;
    if (d.name === 'lo') out.push({ at: [...d.at, 'name'], message: '"lo" is the loopback device and cannot be created' });
    else addIface({ node: d.node, ifname: d.name }, [...d.at, 'name']);
  }
  const enslaved = new Map<string, string>();
  const vlans: { key: string; parent: string; id: number }[] = [];
  for (const d of lab.devices) {
    if (!nodes.has(d.node)) continue;
    const self = refKey({ node: d.node, ifname: d.name });
    switch (d.kind) {
      case 'bridge':
        if (d.forwardDelayMs !== undefined && !d.stp) {
          out.push({ at: [...d.at, 'forward_delay'], message: 'forward_delay only matters with spanning tree on', hint: 'add stp: true, or drop forward_delay' });
        }
        d.ports.forEach((port, i) => {
          const at: Path = [...d.at, 'ports', i];
          if (port === d.name) return out.push({ at, message: `bridge "${d.name}" cannot be its own port` });
          if (!knownIface({ node: d.node, ifname: port }, at)) return;
          const key = refKey({ node: d.node, ifname: port });
          const owner = enslaved.get(key);
          if (owner) return out.push({ at, message: `"${port}" is already a port of bridge "${owner}"`, hint: 'an interface can belong to one bridge' });
          enslaved.set(key, d.name);
          seg.join(key, self);
        });
        break;
      case 'macvlan':
      case 'ipvlan': {
        const at: Path = [...d.at, 'parent'];
        if (!knownNode(d.parent.node, at) || !knownIface(d.parent, at)) break;
        if (refKey(d.parent) === self || d.parent.ifname === 'lo') {
          out.push({ at, message: `a ${d.kind} needs a parent other than itself and lo`, hint: 'the parent is usually a veth end or a dummy device' });
          break;
        }
        seg.join(self, refKey(d.parent));
        break;
      }
      case 'vlan': {
        const parent = { node: d.node, ifname: d.parent };
        if (d.parent === d.name) out.push({ at: [...d.at, 'parent'], message: 'a vlan cannot be its own parent' });
        else if (knownIface(parent, [...d.at, 'parent'])) vlans.push({ key: self, parent: refKey(parent), id: d.id });
        break;
      }
      case 'vxlan':
        if (d.dev !== undefined) knownIface({ node: d.node, ifname: d.dev }, [...d.at, 'dev']);
        seg.join(self, `vxlan#${d.id}`);
        break;
      case 'dummy':
      case 'tap':
      case 'tun':
        break;
    }
  }
  // VLAN sub-interfaces with the same id on one underlying segment form a segment of their own.
  for (const v of vlans) seg.join(v.key, `vlan#${v.id}@${seg.find(v.parent)}`);

  // Stages, cumulatively: addresses, routes, sysctls, checks.
  const addrs: { a: Address; c: Cidr }[] = [];
  const routeKeys = new Map<string, string>();
  const stageRules = new StageRules(nodes, (r) => seg.find(refKey(r)), dropped);
  const servicePorts = new Set<string>();
  /** node:device of every tun/tap device a tunnel opens → the stage that opens it. */
  const tunnelDevices = new Map<string, string>();
  /** Subnets DHCP servers serve, by segment; and the subnet each DHCP client will get an address in. */
  const dhcpSegments: { segment: string; net: Cidr }[] = [];
  const dhcpNets: { node: string; ifname: string; net: Cidr }[] = [];
  /** DHCP clients whose server may have been left out by the schema pass: they may have an address, in a subnet not known. */
  const unknownLeases = new Set<string>();
  const mayLease = (node: string, ifname?: string) => [...unknownLeases].some((k) => k === `${node}:${ifname}` || (ifname === undefined && k.startsWith(`${node}:`)));
  const stageNames = new Set<string>();
  lab.stages.forEach((stage, si) => {
    if (si > 0) {
      if (stage.name === 'setup') {
        out.push({ at: ['steps', si - 1, 'name'], message: 'step name "setup" is reserved for the initial build', hint: 'pick another name' });
      } else if (stageNames.has(stage.name)) {
        out.push({ at: ['steps', si - 1, 'name'], message: `step name "${stage.name}" is used twice`, hint: 'every step needs its own name' });
      }
    }
    stageNames.add(stage.name);
    // Only steps can configure a node that is not declared: at setup, node config lives under `nodes:` itself,
    // and a link or bridge on an unknown node was already reported where it names that node.
    const configNodes = si === 0 ? [] : stage.config.nodes;
    for (const n of configNodes) {
      if (!nodes.has(n) && !dropped.node(n)) out.push({ at: ['steps', si - 1, 'nodes', n], key: true, message: `unknown node "${n}"`, hint: `nodes in this lab: ${nodeNames}` });
    }
    for (const a of stage.config.addresses) {
      if (!nodes.has(a.node)) continue;
      const under = a.at.lastIndexOf('interfaces');
      if (!knownIface(a, under >= 0 ? a.at.slice(0, under + 2) : a.at, under >= 0)) continue;
      const c = parseCidr(a.cidr, true);
      if (!c) continue;
      if (isNetworkOrBroadcast(c)) {
        out.push({ at: a.at, message: `${a.cidr} is the network or broadcast address of its subnet`, hint: 'pick a host address inside the subnet' });
      }
      const segment = seg.find(refKey(a));
      const clash = addrs.find((x) => x.c.value === c.value && x.c.family === c.family && seg.find(refKey(x.a)) === segment);
      if (clash) {
        out.push({
          at: a.at,
          message: `address ${c.address} is used twice on one segment (also on ${refKey(clash.a)})`,
          hint: 'every interface on a segment needs its own address',
        });
      }
      addrs.push({ a, c });
    }
    // MTU, MAC, netem and up/down of an interface that does not exist (unless an address there said so already).
    for (const l of stage.config.links) {
      const addressed = [...stage.config.addresses, ...stage.config.dhcpClients].some((a) => a.node === l.node && a.ifname === l.ifname);
      if (nodes.has(l.node) && !addressed) knownIface(l, l.at, true);
    }
    for (const d of stage.config.dhcpServers) {
      if (!nodes.has(d.node) || !knownIface(d, [...d.at, 'interface'])) continue;
      const own = addrs.find((x) => x.a.node === d.node && x.a.ifname === d.ifname && x.c.family === 4);
      if (!own) {
        if (!dropped.addresses(d.node)) out.push({ at: [...d.at, 'interface'], message: `${d.node}:${d.ifname} has no static IPv4 address for a DHCP server to serve`, hint: 'give the interface an address; the range must lie in its subnet' });
        continue;
      }
      const [start, end] = [parseCidr(d.start), parseCidr(d.end)];
      [start, end].forEach((x, i) => {
        if (x && !inSubnet(x, own.c)) out.push({ at: [...d.at, 'range', i], message: `${x.address} is outside ${networkOf(own.c)}, the subnet of ${d.node}:${d.ifname}` });
      });
      if (start && end && start.value > end.value) out.push({ at: [...d.at, 'range'], message: `the range starts (${d.start}) after it ends (${d.end})` });
      const gw = typeof d.gateway === 'string' ? parseCidr(d.gateway) : undefined;
      if (gw && !inSubnet(gw, own.c)) out.push({ at: [...d.at, 'gateway'], message: `gateway ${d.gateway} is outside ${networkOf(own.c)}` });
      dhcpSegments.push({ segment: seg.find(refKey(d)), net: own.c });
    }
    for (const c of stage.config.dhcpClients) {
      if (!nodes.has(c.node) || !knownIface(c, c.at)) continue;
      const server = dhcpSegments.find((x) => x.segment === seg.find(refKey(c)));
      if (server) dhcpNets.push({ ...c, net: server.net });
      else if (dropped.dhcpServing()) unknownLeases.add(refKey(c));
      else out.push({ at: c.at, message: `no DHCP server serves the segment of ${c.node}:${c.ifname}`, hint: 'add dhcp_servers to a node on the same link or bridge' });
    }
    for (const s of stage.config.sysctls) {
      const m = /^net\.ipv[46]\.conf\.([^.]+)\./.exec(s.key);
      if (m && m[1] !== 'all' && m[1] !== 'default' && nodes.has(s.node)) knownIface({ node: s.node, ifname: m[1] as string }, s.at, true);
    }
    for (const r of stage.config.routes) {
      if (!nodes.has(r.node)) continue;
      if (r.dev !== undefined) knownIface({ node: r.node, ifname: r.dev }, [...r.at, 'dev']);
      const dst = r.dst === 'default' ? undefined : parseCidr(r.dst);
      const key = routeKey(r);
      const earlier = key === undefined ? undefined : routeKeys.get(key);
      if (earlier !== undefined) out.push({ at: [...r.at, 'dst'], message: sameRouteMessage(r, earlier) });
      if (key !== undefined) routeKeys.set(key, r.dst);
      if (r.via === undefined) {
        if (r.dev === undefined) out.push({ at: r.at, message: 'a route needs a gateway (via) or an interface (dev)' });
        continue;
      }
      const via = parseCidr(r.via);
      if (!via) continue;
      if (dst && dst.family !== via.family) out.push({ at: [...r.at, 'via'], message: `gateway ${r.via} and destination ${r.dst} are of different IP families` });
      const own = addrs.filter((x) => x.a.node === r.node && (r.dev === undefined || x.a.ifname === r.dev));
      const leased = dhcpNets.filter((x) => x.node === r.node && (r.dev === undefined || x.ifname === r.dev));
      const unsure = dropped.addresses(r.node) || mayLease(r.node, r.dev);
      if (!own.some((x) => inSubnet(via, x.c)) && !leased.some((x) => inSubnet(via, x.net)) && !unsure) {
        const nets = own.map((x) => `${x.a.cidr} (${x.a.ifname})`).join(', ') || 'none';
        out.push({
          at: [...r.at, 'via'],
          message: `gateway ${r.via} is on no subnet node "${r.node}" is connected to`,
          hint: `addresses of ${r.node} at this point: ${nets}`,
        });
      }
    }
    for (const n of stage.config.nat) {
      if (!nodes.has(n.node)) continue;
      if (n.out !== undefined) knownIface({ node: n.node, ifname: n.out }, [...n.at, 'out']);
    }
    for (const f of stage.config.forwards) {
      if (!nodes.has(f.node)) continue;
      if (f.in !== undefined) knownIface({ node: f.node, ifname: f.in }, [...f.at, 'in']);
      const to = parseCidr(f.toAddress);
      if (to && !addrs.some((x) => x.c.value === to.value && x.c.family === to.family) && !dropped.anyAddress()) {
        out.push({
          at: [...f.at, 'to'],
          message: `port forward to ${f.toAddress}, an address no interface of this lab has (at step "${stage.name}")`,
          hint: 'forward to the address of a node on one of the segments, e.g. the VM behind the NAT',
        });
      }
      const dst = f.dst === undefined ? undefined : parseCidr(f.dst);
      if (dst && !addrs.some((x) => x.a.node === f.node && x.c.value === dst.value) && !dropped.addresses(f.node)) {
        out.push({ at: [...f.at, 'dst'], message: `${f.dst} is not an address of node "${f.node}"` });
      }
    }
    for (const chain of stage.config.firewall) {
      if (!nodes.has(chain.node)) continue;
      chain.rules.forEach((r, i) => {
        const at: Path = [...chain.at, 'rules', i];
        if (r.port !== undefined && r.proto !== 'tcp' && r.proto !== 'udp') out.push({ at: [...at, 'port'], message: 'a port match needs proto: tcp or udp' });
        if (r.in !== undefined) knownIface({ node: chain.node, ifname: r.in }, [...at, 'in']);
        if (r.out !== undefined) knownIface({ node: chain.node, ifname: r.out }, [...at, 'out']);
      });
    }
    /**
     * A check target must be an address, or a node (interface) that has one at this point of the lab; a DNS
     * record's or a tunnel peer's (staticOnly: what needs it) needs a static one, because its process starts before
     * any lease is taken.
     */
    const checkTarget = (t: Target, text: string, at: Path, staticOnly?: string): void => {
      if (t.kind === 'address') {
        const bad = !parseCidr(t.address) || t.address.includes('/');
        if (bad && !dropped.node(text.split(':')[0] ?? text)) out.push({ at, message: `"${text}" is neither an address, a node nor node:ifname` });
        return;
      }
      if (!knownNode(t.node, at)) return;
      if (t.ifname !== undefined && !knownIface({ node: t.node, ifname: t.ifname }, at)) return;
      const hasStatic = addrs.some((x) => x.a.node === t.node && (t.ifname === undefined || x.a.ifname === t.ifname));
      const hasLease = dhcpNets.some((x) => x.node === t.node && (t.ifname === undefined || x.ifname === t.ifname)) || mayLease(t.node, t.ifname);
      if (!hasStatic && hasLease && staticOnly !== undefined) out.push({ at, message: `"${text}" gets its address by DHCP; ${staticOnly} needs a static address`, hint: 'name an address, or an interface with a static address' });
      else if (!hasStatic && !hasLease && !dropped.addresses(t.node)) out.push({ at, message: `"${text}" has no address at step "${stage.name}"`, hint: 'give the interface an address, or name an address directly' });
    };
    for (const svc of stage.config.services) {
      // A DNS server listens on UDP and TCP; a tunnel on UDP; netlab's services on one of them.
      const protos = svc.kind === 'dns' ? ['udp', 'tcp'] : [svc.kind === 'udp-echo' || svc.kind === 'tunnel' ? 'udp' : 'tcp'];
      const taken = protos.find((p) => servicePorts.has(`${svc.node} ${p} ${svc.port}`));
      if (taken) out.push({ at: [...svc.at, 'port'], message: `node "${svc.node}" already has a service on ${taken} port ${svc.port}` });
      for (const p of protos) servicePorts.add(`${svc.node} ${p} ${svc.port}`);
      if (svc.kind === 'tunnel') tunnelProblems(svc);
      if (svc.kind !== 'dns') continue;
      for (const r of svc.records) {
        const problem = dnsNameProblem(r.name);
        if (problem) out.push({ at: r.at, key: true, message: problem });
        checkTarget(r.to, r.toText, r.at, 'a DNS record');
      }
    }
    /**
     * A tunnel opens a tun or tap device of its node, once in the whole lab, and sends to a peer that is not the node
     * itself, from one of the node's own addresses (when `local` is given) of the peer's IP family.
     */
    function tunnelProblems(svc: Extract<Lab['stages'][number]['config']['services'][number], { kind: 'tunnel' }>): void {
      if (!nodes.has(svc.node)) return;
      const devAt: Path = [...svc.at, 'device'];
      if (knownIface({ node: svc.node, ifname: svc.device }, devAt)) {
        const dev = lab.devices.find((d) => d.node === svc.node && d.name === svc.device);
        const key = `${svc.node}:${svc.device}`;
        if (dev?.kind !== 'tun' && dev?.kind !== 'tap') {
          out.push({ at: devAt, message: `"${svc.device}" of node "${svc.node}" is not a tun or tap device: a tunnel opens one`, hint: 'add devices: [{ kind: tun, name: tun0, node: ... }] (or kind: tap) and name it here' });
        } else if (tunnelDevices.has(key)) {
          out.push({ at: devAt, message: `${key} is already opened by the tunnel at ${tunnelDevices.get(key)}: a device is held by one program`, hint: 'give each tunnel its own device' });
        } else tunnelDevices.set(key, stage.name === 'setup' ? 'setup' : `step "${stage.name}"`);
      }
      const peerAt: Path = [...svc.at, 'peer'];
      if (svc.peer.kind === 'node' && svc.peer.node === svc.node) {
        out.push({ at: peerAt, message: `the peer "${svc.peerText}" is node "${svc.node}" itself: a tunnel carries traffic to another node`, hint: 'name the other end: its underlay address, node or node:ifname' });
      } else checkTarget(svc.peer, svc.peerText, peerAt, 'a tunnel\'s peer');
      // The address the planner will send to (a node: its first address, IPv4 preferred).
      const peer = resolveTarget(svc.peer, addrs);
      if (svc.peer.kind === 'address' && peer && addrs.some((x) => x.a.node === svc.node && x.c.family === peer.family && x.c.value === peer.value)) {
        out.push({ at: peerAt, message: `${svc.peerText} is an address of node "${svc.node}" itself: a tunnel carries traffic to another node` });
      }
      if (svc.local === undefined) return;
      const local = parseCidr(svc.local);
      if (!local) return;
      if (!addrs.some((x) => x.a.node === svc.node && x.c.family === local.family && x.c.value === local.value) && !dropped.addresses(svc.node)) {
        const own = addrs.filter((x) => x.a.node === svc.node).map((x) => `${x.a.cidr} (${x.a.ifname})`).join(', ') || 'none';
        out.push({ at: [...svc.at, 'local'], message: `${svc.local} is not an address of node "${svc.node}" at step "${stage.name}"`, hint: `addresses of ${svc.node} at this point: ${own}` });
      }
      if (peer && peer.family !== local.family) out.push({ at: [...svc.at, 'local'], message: `local ${svc.local} and peer ${svc.peerText} (${peer.address}) are of different IP families` });
    }
    const checkRegex = (re: string | undefined, at: Path): void => {
      if (re === undefined) return;
      try {
        new RegExp(re);
      } catch (e) {
        out.push({ at, message: `not a valid regular expression: ${(e as Error).message}` });
      }
    };
    out.push(
      ...matrixProblems(stage.matrices, {
        nodes,
        dropped: (name) => dropped.node(name),
        source: (t, at) => knownNode(t.node, at) && t.ifname !== undefined && knownIface({ node: t.node, ifname: t.ifname }, at),
        target: checkTarget,
      }),
    );
    for (const c of stage.checks) {
      // Checks a matrix expanded into were checked above, where its groups and keys are written.
      if (c.matrix) continue;
      const fromOk = knownNode(c.from, [...c.at, c.kind === 'state' || c.kind === 'cmd' ? 'node' : 'from']);
      switch (c.kind) {
        case 'ping':
          if (c.expect === 'pass' && c.reason !== undefined) out.push({ at: [...c.at, 'reason'], message: 'reason only applies to checks with expect: fail' });
          if (c.expect === 'fail' && c.ttl !== undefined) out.push({ at: [...c.at, 'ttl'], message: 'ttl only applies to checks with expect: pass' });
          break;
        case 'nat-source':
          checkTarget(c.seenAs, c.seenAsText, [...c.at, 'seen_as']);
          break;
        case 'path':
          c.via.forEach((t, i) => checkTarget(t, c.viaText[i] ?? '', [...c.at, 'via', i]));
          break;
        case 'http':
          checkRegex(c.regex, [...c.at, 'regex']);
          out.push(...[reasonProblem(c)].filter((p) => p !== undefined));
          break;
        case 'cmd':
          checkRegex(c.stdout, [...c.at, 'stdout']);
          break;
        case 'state': {
          const q = c.query;
          const dev = q.what === 'address' || q.what === 'address-range' || q.what === 'link' || q.what === 'route' ? q.dev : undefined;
          if (fromOk && dev !== undefined) knownIface({ node: c.from, ifname: dev }, [...c.at, q.what === 'address-range' ? 'address' : q.what, 'dev']);
          break;
        }
        case 'dns': {
          const problem = dnsNameProblem(c.query);
          if (problem) out.push({ at: [...c.at, 'query'], message: problem });
          if (c.address !== undefined) checkTarget(c.address, c.addressText ?? '', [...c.at, 'address']);
          if (c.type === 'A' && c.address?.kind === 'address' && c.address.address.includes(':')) {
            out.push({ at: [...c.at, 'type'], message: `type A answers hold IPv4 addresses, but ${c.address.address} is IPv6`, hint: 'write type: AAAA, or leave type out' });
          }
          if (c.expect === 'pass' && c.reason !== undefined) out.push({ at: [...c.at, 'reason'], message: 'reason only applies to checks with expect: fail' });
          break;
        }
        case 'tcp':
        case 'udp':
          out.push(...[reasonProblem(c)].filter((p) => p !== undefined));
          break;
        case 'capture':
          out.push(...[reasonProblem(c)].filter((p) => p !== undefined));
          if (knownNode(c.on.node, [...c.at, 'on'])) knownIface(c.on, [...c.at, 'on']);
          if (c.on.ifname === 'lo') out.push({ at: [...c.at, 'on'], message: 'capturing on lo sees only traffic inside one node', hint: 'capture on the interface the traffic crosses, e.g. the underlay link' });
          break;
        case 'mtu':
          break;
      }
      if ('to' in c) checkTarget(c.to, c.toText, [...c.at, c.kind === 'dns' ? 'server' : 'to']);
    }
    out.push(...stageRules.stage(stage, addrs));
  });
  out.push(...exerciseProblems(lab, dropped));
  return out;
}
