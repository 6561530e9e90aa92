// Matrix format and grids: one grid per matrix and stage, cells expected vs got, the other checks, the closing line;
// the table and Markdown formats show the same grids.
import { describe, expect, it } from 'vitest';
import { cellText, matrixGrids } from '../../../src/report/matrix-grid.js';
import { markdownGrids, renderMarkdown } from '../../../src/report/markdown.js';
import { renderMatrix } from '../../../src/report/matrix.js';
import { closingLine } from '../../../src/report/model.js';
import { renderTable } from '../../../src/report/table.js';
import { fixtureReport } from './fixture.js';
import { matrixReport, matrixResults } from './matrix-fixture.js';

const report = matrixReport();

describe('matrix grids', () => {
  const grids = matrixGrids(report);

  it('one per matrix and stage; rows are sources, columns targets, both in the order the sides first appear', () => {
    expect(grids.map((g) => [g.stage, g.name, g.rows, g.cols])).toEqual([
      ['setup', 'VirtualBox NAT mode', ['vm', 'host', 'vm1', 'internet'], ['vm', 'host', 'vm2', 'internet']],
      ['1. fix', 'after | fix', ['a'], ['b']],
    ]);
  });

  it('each cell says what was expected and, when not that, what came out', () => {
    const g = grids[0]!;
    const text = (row: string, col: string) => {
      const cell = g.cells.get(`${row}\u0000${col}`);
      return cell && cellText(cell).text;
    };
    expect(text('vm', 'host')).toBe('yes ✔');
    expect(text('host', 'vm')).toBe('no ✔');
    expect(text('vm1', 'vm2')).toBe('no ✘ (got yes)');
    expect(text('vm', 'internet')).toBe('yes ✘ (got partly 1/2)');
    expect(text('internet', 'vm')).toBe('no ! (got error)');
    expect(text('vm', 'vm2')).toBeUndefined();
  });

  it('a cell whose pairs partly could not run counts the errors; only errors make it "!"', () => {
    const [, , , , , reached, silent, err] = matrixResults;
    const error = { ...err!, expected: 'pass' as const };
    expect(cellText({ expected: 'pass', results: [reached!, silent!, error] })).toEqual({ text: 'yes ✘ (got partly 1/3, 1 error)', mark: '✘', state: 'failed' });
    expect(cellText({ expected: 'pass', results: [reached!, error] })).toEqual({ text: 'yes ! (got partly 1/2, 1 error)', mark: '!', state: 'error' });
  });
});

describe('matrix format', () => {
  const out = renderMatrix(report, { color: false });

  it('draws every grid under its name and stage, with no colour when colour is off', () => {
    expect(out).not.toMatch(/\u001b\[/);
    expect(out).toContain('VirtualBox NAT mode  (setup)\n');
    expect(out).toContain('after | fix  (1. fix)\n');
    const rows = out.split('\n').filter((l) => l.startsWith('│'));
    expect(rows.map((l) => l.split('│').slice(1, -1).map((c) => c.trim()))).toEqual([
      ['from \\ to', 'vm', 'host', 'vm2', 'internet'],
      ['vm', '', 'yes ✔', '', 'yes ✘ (got partly 1/2)'],
      ['host', 'no ✔', '', '', ''],
      ['vm1', '', '', 'no ✘ (got yes)', ''],
      ['internet', 'no ! (got error)', '', '', ''],
      ['from \\ to', 'b'],
      ['a', 'yes ✔'],
    ]);
  });

  it('lists the pairs not as expected with their hints, the other checks briefly, and the closing line', () => {
    expect(out).toContain('✘ vm1 → vm2: pass: reply, TTL 64\n  hint: look at the NAT device\n');
    expect(out).toContain('✘ vm2 → internet (vm → internet): fail: no reply in time\n');
    expect(out).toContain('! internet → vm1 (internet → vm): error: spawn ping ENOENT\n');
    expect(out).toContain('Other checks (1 of 1 as expected):\n  ✔ setup: ns1 reaches its end of the cable (host v1_r)\n');
    expect(out.trimEnd().split('\n').at(-1)).toBe(closingLine(report.summary));
    expect(closingLine(report.summary)).toBe('7 passed, 2 failed, 2 errors');
  });

  it('colours cells when colour is on', () => {
    const coloured = renderMatrix(report, { color: true });
    expect(coloured).toContain('\u001b[32myes ✔\u001b[39m');
    expect(coloured).toContain('\u001b[31mno ✘ (got yes)\u001b[39m');
  });

  it('says so when a run has no matrix, and still lists its checks', () => {
    const plain = renderMatrix(fixtureReport(), { color: false });
    expect(plain).toContain('No matrix in this run.');
    expect(plain).toContain('  ✘ 1. route-one-way: ns1 → ns2 replies | #1 — fail: no reply in time');
  });
});

describe('the table and Markdown formats show the grids too', () => {
  it('table: after its table, without repeating the failures (its hints list them)', () => {
    const out = renderTable(report, { color: false });
    const grid = out.indexOf('VirtualBox NAT mode  (setup)');
    expect(grid).toBeGreaterThan(out.indexOf('│ 1. fix'));
    expect(out).toContain('│ vm1       │                  │       │ no ✘ (got yes) │                        │');
    expect(out.match(/✘ vm1 → vm2: /g)).toHaveLength(1);
    expect(renderTable(fixtureReport(), { color: false })).not.toContain('from \\ to');
  });

  it('markdown: one table per matrix after the check table', () => {
    expect(markdownGrids(report)).toEqual([
      '#### VirtualBox NAT mode (setup)',
      '',
      '| from \\\\ to | vm | host | vm2 | internet |',
      '|---|:---:|:---:|:---:|:---:|',
      '| vm |  | yes ✔ |  | yes ✘ (got partly 1/2) |',
      '| host | no ✔ |  |  |  |',
      '| vm1 |  |  | no ✘ (got yes) |  |',
      '| internet | no ! (got error) |  |  |  |',
      '',
      '#### after \\| fix (1. fix)',
      '',
      '| from \\\\ to | b |',
      '|---|:---:|',
      '| a | yes ✔ |',
      '',
    ]);
    const md = renderMarkdown(report);
    expect(md.indexOf('#### VirtualBox NAT mode')).toBeGreaterThan(md.indexOf('| step | check |'));
    expect(md.indexOf('#### VirtualBox NAT mode')).toBeLessThan(md.indexOf(`**${closingLine(report.summary)}**`));
  });
});

describe('a matrix table in the grids', () => {
  /** A pair of table "modes": row × column, the cell's label, expected and got. */
  const cell = (n: number, row: string, column: string, label: string, expected: 'pass' | 'fail', got: 'pass' | 'fail' | 'error') => {
    const base = matrixResults[0]!;
    return { ...base, id: `setup/3.${n}`, name: `pair ${n}`, expected, got, ok: got === expected, matrix: { name: 'modes', from: 'a', to: 'b', row, column, cell: label } };
  };
  const results = [
    cell(1, 'NAT', 'VM→host', 'yes', 'pass', 'pass'),
    cell(2, 'NAT', 'host→VM', 'port forward', 'fail', 'fail'),
    cell(3, 'NAT', 'host→VM', 'port forward', 'pass', 'pass'),
    cell(4, 'internal', 'VM→host', 'no', 'fail', 'fail'),
    cell(5, 'internal', 'host→VM', 'port forward', 'fail', 'fail'),
    cell(6, 'internal', 'host→VM', 'port forward', 'pass', 'fail'),
  ];
  const tableReport = { ...report, stages: [{ name: 'setup', title: 'Setup', results }] };

  it('rows and columns as written, an empty corner, each cell under its label', () => {
    const [g] = matrixGrids(tableReport);
    expect([g!.rows, g!.cols, g!.corner]).toEqual([['NAT', 'internal'], ['VM→host', 'host→VM'], '']);
    const text = (row: string, col: string) => cellText(g!.cells.get(`${row}\u0000${col}`)!).text;
    expect([text('NAT', 'VM→host'), text('NAT', 'host→VM'), text('internal', 'VM→host'), text('internal', 'host→VM')]).toEqual([
      'yes ✔',
      'port forward ✔',
      'no ✔',
      'port forward ✘ (1 of 2 not as expected)',
    ]);
  });

  it('the matrix format draws it like the document\'s table', () => {
    const rows = renderMatrix(tableReport, { color: false })
      .split('\n')
      .filter((l) => l.startsWith('│'))
      .map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));
    expect(rows).toEqual([
      ['', 'VM→host', 'host→VM'],
      ['NAT', 'yes ✔', 'port forward ✔'],
      ['internal', 'no ✔', 'port forward ✘ (1 of 2 not as expected)'],
    ]);
  });
});
