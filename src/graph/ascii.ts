// A Graph as plain text for a terminal: each namespace with its interfaces (kind, addresses) and what each
// interface is wired to, then its notes (forwarding, NAT, forwards, firewall, services, DHCP). ASCII connectors only;
// lab text goes through printable.
import { printable } from '../printable.js';
import type { Graph, GraphEdge, GraphIface } from './model.js';

export function renderAscii(g: Graph): string {
  const where = new Map<string, string>();
  for (const n of g.nodes) for (const i of n.ifaces) where.set(i.id, `${n.name}:${i.name}`);
  const name = new Map<string, string>();
  for (const n of g.nodes) for (const i of n.ifaces) name.set(i.id, i.name);

  /** What one interface is wired to, as seen from it. */
  const wires = (i: GraphIface): string[] => {
    const out: string[] = [];
    const ends = (e: GraphEdge) => (e.a === i.id ? e.b : e.a);
    for (const e of g.edges.filter((x) => x.a === i.id || x.b === i.id)) {
      const other = where.get(ends(e)) ?? '?';
      if (e.kind === 'veth') out.push(`<==veth==> ${other}`);
      else if (e.kind === 'port') out.push(e.a === i.id ? `port of ${name.get(e.b)}` : '');
      else if (e.kind === 'vxlan') out.push(`~~${e.label}~~ ${other}`);
      else if (e.a === i.id) out.push(`${e.kind === 'underlay' ? 'over' : 'on'} ${other}${e.label && e.kind !== 'underlay' ? ` (${e.label})` : ''}`);
    }
    if (i.kind === 'bridge') {
      const ports = g.edges.filter((e) => e.kind === 'port' && e.b === i.id).map((e) => name.get(e.a));
      out.push(`ports: ${ports.join(', ') || '(none)'}`);
    }
    return out.filter(Boolean);
  };

  const stage = g.stage.index ? `as of step ${g.stage.index}: ${g.stage.name}` : 'setup, before any step';
  const out = [`${g.title || g.lab}  (${g.lab}, ${stage})`, ''];
  for (const n of g.nodes) {
    out.push(`[${n.name}]${n.description ? `  ${n.description}` : ''}`);
    const rows = [
      ...n.ifaces.map((i) => {
        const addr = [...i.addresses, ...(i.dhcp ? ['dhcp'] : [])].join(', ');
        const kind = i.kind === 'veth' ? '' : ` (${[i.kind, ...i.detail].join(', ')})`;
        const detail = i.kind === 'veth' && i.detail.length ? ` (${i.detail.join(', ')})` : '';
        return `${i.name}${kind}${detail}${addr ? `  ${addr}` : ''}${wires(i).map((w) => `  ${w}`).join('')}`;
      }),
      ...n.notes.map((x) => `* ${x.text}`),
    ];
    rows.forEach((r, k) => out.push(`  ${k === rows.length - 1 ? '`-' : '|-'} ${r}`));
    if (!rows.length) out.push('  (no interfaces)');
    out.push('');
  }
  return out.map((l) => printable(l)).join('\n');
}
