// A Graph as Graphviz DOT: one cluster per namespace, one box per interface, a note per namespace. Ids are netlab's
// own and quoted; every label is a DOT string with backslashes and quotes escaped and control characters shown as
// visible escapes, so no lab text can end a string or start an escape sequence (\N, \G, \l) or an entity (&lt;).
import { printable } from '../printable.js';
import { ifaceLines, type EdgeKind, type Graph, type GraphIface } from './model.js';

/** Lab text as the inside of a DOT double-quoted string (Graphviz also reads HTML entities there: `&` is one). */
export function dotText(s: string): string {
  return printable(s).replace(/[\\"&]/g, (c) => (c === '&' ? '&amp;' : `\\${c}`));
}

/** A quoted DOT string of lines (each escaped), joined with DOT's centred line break. */
const str = (lines: string[]): string => `"${lines.map(dotText).join('\\n')}"`;

function shape(i: GraphIface): string {
  if (i.kind === 'bridge') return 'hexagon';
  if (i.kind === 'tap' || i.kind === 'tun') return 'cds';
  if (i.kind === 'dummy' || i.kind === 'lo') return 'ellipse';
  return 'box';
}

const STYLE: Record<EdgeKind, string> = { veth: 'penwidth=2', port: 'style=solid', parent: 'style=dashed', vlan: 'style=dashed', underlay: 'style=dotted', vxlan: 'style=dashed, color=gray40' };

export function renderDot(g: Graph): string {
  const title = `${g.title || g.lab}${g.stage.index ? ` — as of step ${g.stage.index}: ${g.stage.name}` : ''}`;
  const out = [
    `graph ${str([g.lab])} {`,
    `  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label=${str([title])}];`,
    '  node [shape=box, fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const n of g.nodes) {
    out.push(`  subgraph "cluster_${n.id}" {`, `    label=${str([n.name])};`, '    style=rounded;');
    for (const i of n.ifaces) out.push(`    "${i.id}" [label=${str(ifaceLines(i))}, shape=${shape(i)}];`);
    if (n.notes.length) out.push(`    "${n.id}note" [label=${str(n.notes.map((x) => x.text))}, shape=note, style=filled, fillcolor="#fff8dc"];`);
    if (!n.ifaces.length && !n.notes.length) out.push(`    "${n.id}empty" [label="no interfaces", shape=plaintext];`);
    out.push('  }');
  }
  for (const e of g.edges) out.push(`  "${e.a}" -- "${e.b}" [${STYLE[e.kind]}${e.label ? `, label=${str([e.label])}` : ''}];`);
  out.push('}');
  return out.join('\n') + '\n';
}
