// A Graph as a Mermaid flowchart (what GitHub renders in Markdown): one subgraph per namespace, one box per interface,
// a note per namespace for NAT, forwards, firewall, services and DHCP; veth pairs as thick lines, bridge ports and
// parents as dotted ones. Every id is netlab's own (n0, n0i1); every text is a quoted label with anything but plain
// letters, digits and a few safe marks written as a Mermaid entity (#35;), so no lab text can end a label, start a
// comment or a Markdown string, or inject HTML.
import { printable } from '../printable.js';
import { ifaceLines, type EdgeKind, type Graph, type GraphIface } from './model.js';

/** Lab text as the inside of a quoted Mermaid label: control characters escaped, ASCII punctuation as entities. */
export function mermaidText(s: string): string {
  // Letters and marks beyond ASCII (CJK, arrows) are kept; anything ASCII and not plainly safe is an entity.
  return [...printable(s)].map((c) => (SAFE.test(c) || c.codePointAt(0)! > 0xa0 ? c : `#${c.codePointAt(0)};`)).join('');
}

const SAFE = /^[A-Za-z0-9 .,:/_+=()-]$/;

/** Lines of a label: each escaped, joined with Mermaid's line break. */
const label = (lines: string[]): string => `"${lines.map(mermaidText).join('<br/>')}"`;

function shape(i: GraphIface, text: string): string {
  if (i.kind === 'bridge') return `{{${text}}}`;
  if (i.kind === 'tap' || i.kind === 'tun') return `([${text}])`;
  if (i.kind === 'dummy' || i.kind === 'lo') return `(${text})`;
  return `[${text}]`;
}

const LINK: Record<EdgeKind, string> = { veth: '===', port: '---', parent: '-.-', vlan: '-.-', underlay: '-.-', vxlan: '-.-' };

export function renderMermaid(g: Graph): string {
  const out = ['flowchart LR'];
  for (const n of g.nodes) {
    out.push(`  subgraph ${n.id}[${label([n.name])}]`);
    for (const i of n.ifaces) out.push(`    ${i.id}${shape(i, label(ifaceLines(i)))}`);
    if (n.notes.length) out.push(`    ${n.id}note>${label(n.notes.map((x) => x.text))}]`);
    if (!n.ifaces.length && !n.notes.length) out.push(`    ${n.id}empty[${label(['no interfaces'])}]`);
    out.push('  end');
  }
  for (const e of g.edges) out.push(`  ${e.a} ${LINK[e.kind]}${e.label ? `|${label([e.label])}|` : ''} ${e.b}`);
  const notes = g.nodes.filter((n) => n.notes.length).map((n) => `${n.id}note`);
  if (notes.length) out.push('  classDef note fill:#fff8dc,stroke:#b8860b', `  class ${notes.join(',')} note`);
  return out.join('\n') + '\n';
}
