// Real parsers for what `netlab graph` emits: Mermaid itself (the library GitHub renders Markdown diagrams with; its
// flowchart grammar is not in @mermaid-js/parser) under jsdom, which its DOMPurify needs; and Graphviz (wasm).
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
const g = globalThis as unknown as { window?: unknown; document?: unknown };
g.window ??= dom.window;
g.document ??= dom.window.document;
const { default: mermaid } = await import('mermaid');

export interface MermaidFlowchart {
  type: string;
  /** Node id → label text, Mermaid's entity placeholders decoded back to characters. */
  vertices: Map<string, string>;
  subgraphs: { id: string; title: string; nodes: string[] }[];
  edges: { start: string; end: string; text: string }[];
}

/** Mermaid's own placeholders for `#35;` and `#quot;` entities, turned back into the characters they stand for. */
function decode(s: string): string {
  return s.replace(/ﬂ°°(\d+)¶ß/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/ﬂ°(\w+)¶ß/g, (_, n: string) => new JSDOM(`&${n};`).window.document.body.textContent ?? '');
}

/** Parse a flowchart as mermaid.render would (throws on a syntax error), and read back what it understood. */
export async function parseMermaid(text: string): Promise<MermaidFlowchart> {
  await mermaid.parse(text);
  const d = (await mermaid.mermaidAPI.getDiagramFromText(text)) as unknown as {
    type: string;
    db: { getVertices(): Map<string, { text: string }>; getSubGraphs(): { id: string; title: string; nodes: string[] }[]; getEdges(): { start: string; end: string; text: string }[] };
  };
  return {
    type: d.type,
    vertices: new Map([...d.db.getVertices()].map(([id, v]) => [id, decode(v.text)])),
    subgraphs: d.db.getSubGraphs().map((s) => ({ id: s.id, title: decode(s.title), nodes: s.nodes })),
    edges: d.db.getEdges().map((e) => ({ start: e.start, end: e.end, text: decode(e.text) })),
  };
}

const graphviz = await Graphviz.load();

export interface DotDrawing {
  /** Node name → the lines of text Graphviz drew for it. */
  nodes: Map<string, string[]>;
  /** Cluster name → its label as drawn. */
  clusters: Map<string, string>;
  edges: number;
}

/** Lay out and draw DOT with Graphviz (throws on a syntax error), and read the drawn SVG back. */
export function renderDot(text: string): DotDrawing {
  const svg = graphviz.dot(text, 'svg');
  const doc = new JSDOM(svg, { contentType: 'image/svg+xml' }).window.document;
  const texts = (el: Element) => [...el.querySelectorAll('text')].map((t) => t.textContent ?? '');
  const nodes = new Map<string, string[]>();
  const clusters = new Map<string, string>();
  for (const el of doc.querySelectorAll('g.node')) nodes.set(el.querySelector('title')?.textContent ?? '', texts(el));
  for (const el of doc.querySelectorAll('g.cluster')) clusters.set(el.querySelector('title')?.textContent ?? '', texts(el).join('\n'));
  return { nodes, clusters, edges: doc.querySelectorAll('g.edge').length };
}
