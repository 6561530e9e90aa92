// netlab graph: the model of every lab at every step, each format read back by a real parser (Mermaid itself,
// Graphviz), and hostile text that must come out as visible text without breaking either syntax.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAscii } from '../../../src/graph/ascii.js';
import { dotText, renderDot } from '../../../src/graph/dot.js';
import { renderMermaid, mermaidText } from '../../../src/graph/mermaid.js';
import { graphModel, ifaceLines, stageByName, type Graph } from '../../../src/graph/model.js';
import { loadLabFile } from '../../../src/lab/load.js';
import { printable } from '../../../src/printable.js';
import { ESC_RED, RAW_UNSAFE, RLO, TITLE_SEQ, hostileName } from '../report/hostile.js';
import { parseMermaid, renderDot as drawDot } from './parsers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILES = ['labs', 'test/fixtures/labs'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.yaml')).map((f) => `${d}/${f}`));

describe.each(FILES)('%s', (file) => {
  it('draws every stage in every format, each read back by its parser with every interface, note and wire', async () => {
    const lab = await loadLabFile(join(ROOT, file));
    for (let s = 0; s < lab.stages.length; s++) {
      const g = graphModel(lab, s);
      const ifaces = g.nodes.flatMap((n) => n.ifaces);
      const m = await parseMermaid(renderMermaid(g));
      expect(m.type).toBe('flowchart-v2');
      expect(m.subgraphs.map((x) => x.title)).toEqual(g.nodes.map((n) => n.name));
      for (const i of ifaces) expect(m.vertices.get(i.id)).toBe(ifaceLines(i).join('<br>'));
      expect(m.edges).toHaveLength(g.edges.length);
      const d = drawDot(renderDot(g));
      for (const i of ifaces) expect(d.nodes.get(i.id)).toEqual(ifaceLines(i));
      expect(d.edges).toBe(g.edges.length);
      const text = renderAscii(g);
      for (const n of g.nodes) expect(text).toContain(`[${n.name}]`);
    }
  });
});

describe('the model', () => {
  it('has every device kind, wire and note of the every-device fixture', async () => {
    const lab = await loadLabFile(join(ROOT, 'test/fixtures/labs/every-device.yaml'));
    const g = graphModel(lab);
    const kinds = new Set(g.nodes.flatMap((n) => n.ifaces.map((i) => i.kind)));
    expect([...kinds].sort()).toEqual(['bridge', 'dummy', 'ipvlan', 'lo', 'macvlan', 'tap', 'tun', 'veth', 'vlan', 'vxlan']);
    expect([...new Set(g.edges.map((e) => e.kind))].sort()).toEqual(['parent', 'port', 'underlay', 'veth', 'vlan', 'vxlan']);
    const notes = (node: string) => g.nodes.find((n) => n.name === node)!.notes.map((x) => x.text);
    expect(notes('r')).toEqual([
      'forwarding',
      'masquerade src 192.168.10.0/24 out wan',
      'snat to 203.0.113.1 src 10.9.0.0/24 out wan',
      'dnat tcp/8080 in wan → 192.168.10.2:80',
      'firewall forward: policy drop, 1 rule, replies accepted',
    ]);
    expect(notes('sw')).toEqual(['dhcp server on br0: 192.168.10.100–192.168.10.200']);
    expect(notes('c')).toEqual(['dns server :53 (1 record)']);
    const b = g.nodes.find((n) => n.name === 'b')!;
    expect(b.ifaces.find((i) => i.name === 'eth0')).toMatchObject({ dhcp: true, addresses: [] });
    const wan = g.nodes.find((n) => n.name === 'r')!.ifaces.find((i) => i.name === 'wan')!;
    expect(wan.detail).toEqual(['mtu 1400', 'netem delay 10ms loss 1%']);
    // The bridge's ports include the tap device, and the macvlan child in c points at the bridge in sw.
    const id = (node: string, ifname: string) => g.nodes.find((n) => n.name === node)!.ifaces.find((i) => i.name === ifname)!.id;
    expect(g.edges.filter((e) => e.kind === 'port' && e.b === id('sw', 'br0')).map((e) => e.a)).toEqual(['p1', 'p2', 'p3', 'tap0'].map((p) => id('sw', p)));
    expect(g.edges).toContainEqual({ kind: 'parent', a: id('c', 'mv0'), b: id('sw', 'br0'), label: 'macvlan bridge' });
  });

  it('draws a step as of that step: later routes, NAT and addresses are not there yet', async () => {
    const lab = await loadLabFile(join(ROOT, 'labs/host-only.yaml'));
    const host = (g: Graph) => g.nodes.find((n) => n.name === 'host')!.notes.map((x) => x.text);
    expect(host(graphModel(lab, 0))).toEqual([]);
    expect(host(graphModel(lab))).toEqual(['forwarding', 'masquerade src 192.168.56.0/24 out wan']);
    expect(graphModel(lab, 0).stage).toEqual({ index: 0, name: 'setup', title: lab.stages[0]!.title });
    expect(stageByName(lab, 'let-them-out')).toBe(1);
    expect(stageByName(lab, '1')).toBe(1);
    expect(stageByName(lab, '2')).toBeUndefined();
    expect(stageByName(lab, 'nope')).toBeUndefined();
  });
});

/** A graph whose every text is hostile: what no lab file passes validation with, but what a renderer must survive. */
function hostileGraph(): Graph {
  const evil = [hostileName, `"]; x --- y; end %% ${ESC_RED}`, '"} subgraph cluster_x { "a" } graph {', 'a\\"b\\\\c\\N\\G', '`**md**` <img src=x onerror=alert(1)> #quot; &lt; <br/>', `${RLO}${TITLE_SEQ}\u2028x`];
  return {
    lab: evil[0]!,
    title: evil[1]!,
    stage: { index: 1, name: evil[2]!, title: evil[3]! },
    nodes: evil.map((t, k) => ({
      id: `n${k}`,
      name: t,
      description: t,
      ifaces: [{ id: `n${k}i0`, name: t, kind: k % 2 ? 'bridge' : 'veth', addresses: [t], dhcp: k === 0, detail: [t] }],
      notes: [{ kind: 'nat', text: t }, { kind: 'service', text: evil[(k + 1) % evil.length]! }],
    })),
    edges: evil.slice(1).map((t, k) => ({ kind: k % 2 ? 'veth' : 'parent', a: `n${k}i0`, b: `n${k + 1}i0`, label: t })),
  };
}

describe('hostile text', () => {
  const g = hostileGraph();
  const shown = (t: string) => printable(t);

  it('Mermaid: every label comes back as the visible text, no node or edge more or less', async () => {
    const text = renderMermaid(g);
    expect(text).not.toMatch(RAW_UNSAFE);
    const m = await parseMermaid(text);
    expect(m.subgraphs.map((s) => s.title)).toEqual(g.nodes.map((n) => shown(n.name)));
    expect(m.vertices.size).toBe(g.nodes.length * 2);
    for (const n of g.nodes) {
      expect(m.vertices.get(n.ifaces[0]!.id)).toBe(ifaceLines(n.ifaces[0]!).map(shown).join('<br>'));
      expect(m.vertices.get(`${n.id}note`)).toBe(n.notes.map((x) => shown(x.text)).join('<br>'));
    }
    expect(m.edges.map((e) => e.text)).toEqual(g.edges.map((e) => shown(e.label!)));
  });

  it('DOT: Graphviz draws every label as the visible text, and nothing more', () => {
    const text = renderDot(g);
    expect(text).not.toMatch(RAW_UNSAFE);
    const d = drawDot(text);
    expect([...d.nodes.keys()].sort()).toEqual(g.nodes.flatMap((n) => [n.ifaces[0]!.id, `${n.id}note`]).sort());
    for (const n of g.nodes) {
      expect(d.nodes.get(n.ifaces[0]!.id)).toEqual(ifaceLines(n.ifaces[0]!).map(shown));
      expect(d.nodes.get(`${n.id}note`)).toEqual(n.notes.map((x) => shown(x.text)));
      expect(d.clusters.get(`cluster_${n.id}`)).toBe(shown(n.name));
    }
    expect(d.edges).toBe(g.edges.length);
  });

  it('ASCII: escapes control characters and bidi marks', () => {
    const text = renderAscii(g);
    expect(text.replace(/\n/g, '')).not.toMatch(RAW_UNSAFE);
    expect(text).toContain(`[${shown(hostileName)}]`);
  });

  it('the escapers leave plain text alone and write everything else as entities or escapes', () => {
    expect(mermaidText('eth0 10.0.0.1/24 (bridge) → 网络')).toBe('eth0 10.0.0.1/24 (bridge) → 网络');
    expect(mermaidText('a"b<c>#;`%')).toBe('a#34;b#60;c#62;#35;#59;#96;#37;');
    expect(dotText('a"b\\n&lt;')).toBe('a\\"b\\\\n&amp;lt;');
    expect(dotText(`x${ESC_RED}`)).toBe('x\\\\x1b[31m');
  });
});
