// Lab → Plan: a pure function producing the ordered ops of every stage and the checks with resolved targets.
import { parseCidr } from '../lab/ip.js';
import type { Address, Check, Config, Lab } from '../lab/types.js';
import { nsName } from './naming.js';
import type { Op } from './ops.js';

/** A check ready to run: source namespace and target address resolved. */
export type PlannedCheck = Check & { stage: string; fromNs: string; target: string };

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

function configOps(config: Config, ns: (node: string) => string, sysctlNow: Map<string, string>): Op[] {
  const ops: Op[] = [];
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
  return ops;
}

/** The address a check target means at this point of the lab: IPv4 preferred, first declared wins. */
function resolveTarget(check: Check, addresses: readonly Address[]): string {
  if (check.to.kind === 'address') return check.to.address;
  const { node, ifname } = check.to;
  const own = addresses.filter((a) => a.node === node && (ifname === undefined || a.ifname === ifname));
  const pick = own.find((a) => parseCidr(a.cidr)?.family === 4) ?? own[0];
  if (!pick) throw new Error(`${check.toText} has no address (the rules should have caught this)`);
  return pick.cidr.split('/')[0] as string;
}

/** Plans a lab for one instance. Pure: same lab and instance, same plan. */
export function planLab(lab: Lab, instance: string): Plan {
  const ns = (node: string) => nsName(instance, node);
  const sysctlNow = new Map<string, string>();
  const addresses: Address[] = [];
  const build: Op[] = [];
  for (const n of lab.nodes) build.push({ kind: 'netns-add', ns: ns(n.name) });
  for (const v of lab.veths) {
    build.push({ kind: 'veth-add', ns: ns(v.a.node), ifname: v.a.ifname, peerNs: ns(v.b.node), peer: v.b.ifname });
  }
  for (const b of lab.bridges) build.push({ kind: 'bridge-add', ns: ns(b.node), ifname: b.name });
  for (const n of lab.nodes) {
    // New namespaces copy the root namespace's IPv4 settings: pin forwarding so a lab never depends on the host.
    const forwards = lab.stages[0]?.config.sysctls.some((s) => s.node === n.name && s.key === 'net.ipv4.ip_forward');
    if (!forwards) build.push({ kind: 'sysctl', ns: ns(n.name), key: 'net.ipv4.ip_forward', value: '0' });
    if (!forwards) sysctlNow.set(`${n.name} net.ipv4.ip_forward`, '0');
    const up: Op[] = [{ kind: 'link-up', ns: ns(n.name), ifname: 'lo' }];
    for (const b of lab.bridges.filter((x) => x.node === n.name)) {
      for (const port of b.ports) build.push({ kind: 'link-master', ns: ns(n.name), ifname: port, master: b.name });
      up.push({ kind: 'link-up', ns: ns(n.name), ifname: b.name });
    }
    for (const v of lab.veths) {
      for (const end of [v.a, v.b]) if (end.node === n.name) up.push({ kind: 'link-up', ns: ns(n.name), ifname: end.ifname });
    }
    build.push(...up);
  }
  const stages = lab.stages.map((stage, i): PlannedStage => {
    const ops = [...(i === 0 ? build : []), ...configOps(stage.config, ns, sysctlNow)];
    addresses.push(...stage.config.addresses);
    const checks = stage.checks.map((c) => ({ ...c, stage: stage.name, fromNs: ns(c.from), target: resolveTarget(c, addresses) }));
    return { name: stage.name, title: stage.title, ...(stage.explain !== undefined ? { explain: stage.explain } : {}), ops, checks };
  });
  return { lab: lab.name, instance, namespaces: lab.nodes.map((n) => ({ node: n.name, ns: ns(n.name) })), stages };
}
