// docs/labs/ is generated from labs/*.yaml (scripts/gen-lab-docs): every checked-in page must be what the generator
// makes now, and every Mermaid diagram in them must parse with Mermaid itself (what GitHub renders them with).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { citedSeeds, fenced, labDocs, labPage, prose, REGENERATE } from '../../../src/docs/lab-page.js';
import { loadLabFile } from '../../../src/lab/load.js';
import type { Lab } from '../../../src/lab/types.js';
import { ESC_RED, RAW_UNSAFE, RLO, hostileName } from '../report/hostile.js';
import { parseMermaid } from '../graph/parsers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIR = join(ROOT, 'docs/labs');
const checkedIn = () => new Map(readdirSync(DIR).filter((f) => f.endsWith('.md')).map((f) => [f, readFileSync(join(DIR, f), 'utf8')]));

/** The bodies of the ```mermaid blocks of a page. */
const mermaidBlocks = (md: string): string[] => [...md.matchAll(/^(`{3,})mermaid\n([\s\S]*?)^\1$/gm)].map((m) => m[2]!);

describe('docs/labs', () => {
  it('is what the generator makes from labs/*.yaml now', async () => {
    const want = await labDocs();
    const have = checkedIn();
    const stale = [...want].filter(([f, text]) => have.get(f) !== text).map(([f]) => f);
    const extra = [...have.keys()].filter((f) => !want.has(f));
    expect({ stale, extra }, `docs/labs is out of date; run \`${REGENERATE}\` and commit docs/labs`).toEqual({ stale: [], extra: [] });
  });

  it.each([...checkedIn().keys()].filter((f) => f !== 'README.md'))('%s: its Mermaid topology parses (Mermaid itself)', async (f) => {
    const blocks = mermaidBlocks(checkedIn().get(f)!);
    expect(blocks).toHaveLength(1);
    for (const b of blocks) expect((await parseMermaid(b)).type).toBe('flowchart-v2');
  });
});

describe('a lab page', () => {
  it('cites the seed files a source names', () => {
    expect(citedSeeds('seed 004, section 3.2.2 (同主机网段不同的两台虚拟机如何通信)')).toEqual(['seeds/004_fc53e30d51fbab0f.txt']);
    expect(citedSeeds('seeds 002 and 003 (x)')).toEqual(['seeds/002_5b2d0d972e9351c9.txt', 'seeds/003_47df29a69f6f689f.txt']);
    expect(citedSeeds('a blog post')).toEqual([]);
  });

  it('keeps code spans and escapes the rest; a fence is longer than any backtick run inside', () => {
    expect(prose('run `ip -n a|b <x>` then <b>*x*</b>')).toBe('run `ip -n a\\|b <x>` then \\<b\\>\\*x\\*\\</b\\>');
    expect(fenced('sh', 'a\n````\nb\n')).toEqual(['`````sh', 'a', '````', 'b', '`````']);
  });

  it('has every section and stays inert with hostile lab text', async () => {
    const lab = await loadLabFile(join(ROOT, 'test/fixtures/labs/every-device.yaml'));
    const evil = (lab: Lab): Lab => ({
      ...lab,
      title: `# ${hostileName}`,
      description: `${ESC_RED} </details> \`\`\` <script>x</script>`,
      goals: [hostileName],
      source: `seed 001 ${RLO}`,
      stages: lab.stages.map((s) => ({ ...s, title: hostileName, explain: `</details>\n\`\`\`\n${RLO}`, checks: s.checks.map((c) => ({ ...c, name: `a | b ${hostileName}`, hint: '`x|y` </td>' })) })),
    });
    const page = labPage(evil(lab), 'test/fixtures/labs/every-device.yaml');
    expect(page).not.toMatch(RAW_UNSAFE);
    expect(page).not.toContain('<script>');
    expect(page.match(/<\/?details>/g)).toEqual(['<details>', '</details>', '<details>', '</details>']);
    expect(page.split('\n').filter((l) => l.startsWith('## '))).toEqual(['## Goals', '## Topology', '## Setup', `## Step 1: ${prose(hostileName)}`]);
    expect(page).toContain('**Reproduces:** seed 001 \\\\u202e — `seeds/001_031dd1d5a5a1289a.txt`');
    // Table rows keep their five cells whatever the check name and hint say.
    const rows = page.split('\n').filter((l) => l.startsWith('| a \\| b'));
    expect(rows.length).toBe(lab.stages.reduce((n, s) => n + s.checks.length, 0));
    for (const r of rows) expect(r.split(/(?<!\\)\|/).length - 2).toBe(5);
    for (const b of mermaidBlocks(page)) expect((await parseMermaid(b)).type).toBe('flowchart-v2');
  });
});
