// A lab in words for `netlab show`: what it builds (nodes, links, bridges and devices), then per stage what that
// stage adds (addresses, link settings, routes, sysctls, NAT, forwards, firewall, DHCP, services) and the checks it
// will run — marked `•`, since nothing ran. Every text from the lab file goes through printable.
import { printable } from '../printable.js';
import { describeDhcpServer, describeExpectation, describeFirewallRule, describeForward, describeLinkSetting, describeNat, describeRoute, describeService, deviceDetail } from './describe.js';
import type { Check, Config, Device, Lab, Matrix, Stage } from './types.js';

/** Parent and kind details of a device, e.g. " on host:eth0 — mode bridge" or " — ports p1, p2". */
export function deviceWords(d: Device): string {
  const on = d.kind === 'macvlan' || d.kind === 'ipvlan' ? ` on ${d.parent.node}:${d.parent.ifname}` : d.kind === 'vlan' ? ` on ${d.parent}` : d.kind === 'vxlan' && d.dev ? ` over ${d.dev}` : '';
  const ports = d.kind === 'bridge' ? [`ports ${d.ports.join(', ') || '(none)'}`] : [];
  const words = [...ports, ...deviceDetail(d)];
  return `${on}${words.length ? ` — ${words.join(', ')}` : ''}`;
}

/** What a check expects in words, with the reason a must-fail check must fail for. */
export function expectationWords(c: Check): string {
  if (c.expect === 'fail' && 'reason' in c && c.reason) return `must fail (${c.reason})`;
  return describeExpectation(c);
}

/** One line per config item a stage adds, e.g. "route    ns1: 10.10.20.0/24 via 10.10.10.1". */
export function configLines(cfg: Config): string[] {
  const out: string[] = [];
  const row = (what: string, text: string) => out.push(`${what.padEnd(9)} ${text}`);
  for (const a of cfg.addresses) row('address', `${a.node}:${a.ifname} ${a.cidr}`);
  for (const c of cfg.dhcpClients) row('dhcp', `${c.node}:${c.ifname} gets its address by DHCP`);
  for (const l of cfg.links) row('link', `${l.node}:${l.ifname} ${describeLinkSetting(l).join(', ')}`);
  for (const r of cfg.routes) row('route', `${r.node}: ${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`);
  for (const s of cfg.sysctls) row('sysctl', `${s.node}: ${s.key} = ${s.value}`);
  for (const n of cfg.nat) row('nat', `${n.node}: ${describeNat(n)}`);
  for (const f of cfg.forwards) row('forward', `${f.node}: ${describeForward(f)}`);
  for (const c of cfg.firewall) {
    const head = [c.policy && `policy ${c.policy}`, c.established === false ? 'replies not accepted first' : 'replies (established) accepted first'].filter(Boolean).join(', ');
    row('firewall', `${c.node} ${c.hook}: ${head}`);
    for (const r of c.rules) out.push(`${''.padEnd(9)}   ${describeFirewallRule(r)}`);
  }
  for (const d of cfg.dhcpServers) row('dhcp', `${d.node}: ${describeDhcpServer(d)}`);
  for (const s of cfg.services) row('service', `${s.node}: ${describeService(s, true)}`);
  return out;
}

/** A matrix in one line: its name and each expectation with the number of pairs it checks. */
export function matrixWords(m: Matrix): string {
  return `matrix ${m.name}: ${m.entries.map((e) => `${e.key} ${e.expect === 'pass' ? 'yes' : 'no'} (${e.pairs.length} pair${e.pairs.length === 1 ? '' : 's'})`).join('; ')}`;
}

/** The checks of a stage, one line each; the checks of a matrix as one line for the matrix. */
export function checkLines(s: Stage, mark = '•'): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const c of s.checks) {
    if (c.matrix) {
      if (seen.has(c.matrix.name)) continue;
      seen.add(c.matrix.name);
      const m = s.matrices.find((x) => x.name === c.matrix!.name);
      out.push(`${mark} ${m ? matrixWords(m) : `matrix ${c.matrix.name}`}`);
    } else out.push(`${mark} ${c.name} — ${c.kind} ${describeRoute(c)}, ${expectationWords(c)}`);
  }
  return out;
}

/** A lab in words; every text from the lab file is printable (multi-line texts keep their lines). */
export function describeLab(lab: Lab): string {
  const out = [`${lab.title}  (${lab.name})`, ''];
  if (lab.difficulty) out.push(`Difficulty: ${lab.difficulty}`);
  if (lab.source) out.push(`Source: ${lab.source}`);
  if (lab.difficulty || lab.source) out.push('');
  if (lab.description) out.push(...lab.description.trim().split('\n'), '');
  if (lab.goals.length) out.push('Goals:', ...lab.goals.map((g) => `  - ${g}`), '');
  out.push('Nodes:', ...lab.nodes.map((n) => `  ${n.name}${n.description ? ` — ${n.description}` : ''}`), '');
  if (lab.veths.length) out.push('Links (veth):', ...lab.veths.map((v) => `  ${v.a.node}:${v.a.ifname} ⇄ ${v.b.node}:${v.b.ifname}`), '');
  if (lab.devices.length) out.push('Bridges and devices:', ...lab.devices.map((d) => `  ${d.kind} ${d.node}:${d.name}${deviceWords(d)}`), '');
  lab.stages.forEach((s, i) => {
    out.push(i === 0 ? 'Setup:' : `Step ${i}: ${s.title}  (${s.name})`);
    if (i > 0 && s.explain) out.push(...s.explain.trim().split('\n').map((l) => `  ${l}`));
    const cfg = configLines(s.config);
    if (i > 0 && s.explain && cfg.length) out.push('');
    out.push(...cfg.map((l) => `  ${l}`));
    if (s.checks.length) out.push('  Checks:', ...checkLines(s).map((l) => `  ${l}`));
    if (s.exercise) {
      out.push(`  Exercise (netlab up ${lab.name} --exercise${lab.stages.findIndex((x) => x.exercise) === i ? '' : ` ${s.name}`}):`);
      out.push(...s.exercise.task.trim().split('\n').map((l) => `    ${l}`));
    }
    if (!cfg.length && !s.checks.length && !(i > 0 && s.explain)) out.push('  (nothing)');
    out.push('');
  });
  // Lines are joined by netlab; anything else that would act on a terminal came from the lab file.
  return out.map((l) => printable(l)).join('\n');
}
