// The table and matrix grids fit the terminal: no line wider than it, every cell's text all there and in order,
// words kept whole where they can be; with no width (--wide, or piped) one line a row.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import type { CheckResult } from '../../../src/checks/result.js';
import { emitReport, withReportOptions } from '../../../src/commands/common.js';
import { formatMs } from '../../../src/lab/duration.js';
import { printable } from '../../../src/printable.js';
import { displayWidth, outputWidth, wrapText } from '../../../src/report/fit.js';
import { renderMatrix } from '../../../src/report/matrix.js';
import { makeReport, stageLabel, type RunReport } from '../../../src/report/model.js';
import { renderTable } from '../../../src/report/table.js';
import { fixtureReport } from './fixture.js';
import { hostileReport } from './hostile.js';
import { matrixReport } from './matrix-fixture.js';

const check = (o: Partial<CheckResult> & Pick<CheckResult, 'name'>): CheckResult => ({
  id: 's/1', stage: 'setup', kind: 'ping', from: 'ns1', to: '10.10.20.2', target: '10.10.20.2', expected: 'pass', got: 'pass', ok: true,
  detail: 'reply, TTL 64', durationMs: 10, evidence: { argv: [], exitCode: 0, stdout: '', stderr: '' }, ...o,
});

/** The README's run of veth-routing, and one with long and wide (CJK, emoji) text. */
const readme = makeReport({
  lab: 'veth-routing', title: 'Two networks joined by a router (veth pairs and routes)', instance: 'veth-routing-cf83', startedAt: new Date(0),
  stages: [
    { name: 'setup', title: 'Setup', results: [check({ name: 'ns1 reaches its end of the cable (host v1_r)', to: 'host:v1_r', target: '10.10.10.1' }), check({ name: 'ns2 reaches its end of the cable (host v2_r)', from: 'ns2', to: 'host:v2_r', target: '10.10.20.1' })] },
    { name: 'no-routes', title: 'x', results: [check({ name: 'ns1 → ns2 fails at once (no route)', expected: 'fail', got: 'fail', detail: 'no route (Network is unreachable)' })] },
    { name: 'route-one-way', title: 'x', results: [check({ name: 'ns1 → ns2 gets no reply (ns2 has no way back)', expected: 'fail', got: 'fail', detail: 'no reply in time', durationMs: 508 })] },
    { name: 'routes-both-ways', title: 'x', results: [check({ name: 'ns1 → ns2 replies with TTL 63 (one hop)', detail: 'reply, TTL 63' }), check({ name: 'ns2 → ns1 works too', from: 'ns2', to: 'ns1:v1', target: '10.10.10.2', detail: 'reply, TTL 63' })] },
  ],
});
const wide = makeReport({
  lab: 'wide', title: 'T'.repeat(150), instance: 'w-1', startedAt: new Date(0),
  stages: [{ name: 'a-very-long-step-name-that-has-no-spaces-at-all-anywhere', title: 'x', results: [
    check({ name: `检查 ${'名称很长'.repeat(20)} 😀😀😀 done`, got: 'fail', ok: false, detail: 'x'.repeat(120), hint: 'h '.repeat(100), findings: ['f'.repeat(200)], attempts: 3 }),
    check({ name: 'a b c', to: 'ns2:averyveryveryverylonginterfacename', target: 'fd00:1234:5678:9abc:def0:1234:5678:9abc' }),
  ] }],
});

const reports: [string, RunReport][] = [['the README run', readme], ['long and wide text', wide], ['the fixture', fixtureReport()], ['hostile text', hostileReport()], ['matrices', matrixReport()]];

/** Body lines of the first box-drawn table in `out` (between the rule under the head and the bottom rule). */
function body(out: string): string[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('├'));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('└'));
  return lines.slice(start + 1, end);
}

/** Each column's text over all body lines, whitespace removed: wrapping may only move text, never lose it. */
function columns(lines: string[]): string[] {
  const cols: string[] = [];
  for (const l of lines) l.split('│').slice(1, -1).forEach((c, i) => (cols[i] = (cols[i] ?? '') + c.replace(/\s+/g, '')));
  return cols;
}

/** The cells of the check table as the table shows them (printable), in order, whitespace removed. */
function expectedColumns(report: RunReport): string[] {
  const cols = ['', '', '', '', '', '', ''];
  report.stages.forEach((s, i) => {
    for (const r of s.results) {
      const to = r.to === r.target ? r.to : `${r.to} (${r.target})`;
      const cells = [stageLabel(s.name, i), r.name, `${r.from} → ${to}`, r.expected, `${r.got}: ${r.detail}`, formatMs(r.durationMs) + (r.attempts ? ` (${r.attempts}×)` : ''), r.ok ? '✔' : r.got === 'error' ? '!' : '✘'];
      cells.forEach((c, k) => (cols[k] += printable(c).replace(/\s+/g, '')));
    }
  });
  return cols;
}

describe.each(reports)('the table of %s', (_, report) => {
  it.each([80, 120, 200])('at %i columns: no line is wider, and every cell is all there', (width) => {
    const out = renderTable(report, { color: false, width });
    for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
    expect(columns(body(out))).toEqual(expectedColumns(report));
  });

  it('in colour, too', () => {
    const out = renderTable(report, { color: true, width: 80 });
    for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(80);
  });

  it('with no width (--wide or piped): one line a check', () => {
    const out = renderTable(report, { color: false });
    expect(body(out)).toHaveLength(report.summary.total);
  });
});

describe('the README run', () => {
  it('at 80 columns only the columns that wrap wrap: expected, time and the mark stay whole', () => {
    const out = renderTable(readme, { color: false, width: 80 });
    expect(out.split('\n')[0]).toBe('Two networks joined by a router (veth pairs and routes)');
    expect(out.split('\n')[1]).toBe('(lab veth-routing, instance veth-routing-cf83)');
    const head = out.split('\n')[3] ?? '';
    expect(head.split('│').map((c) => c.trim())).toEqual(['', 'step', 'check', 'from → to', 'expected', 'got', 'time', '', '']);
    expect(out).toContain('│ 508 ms │ ✔ │');
    // Words stay whole where a column can hold them.
    for (const word of ['reaches', 'host:v1_r', '(10.10.10.1)', '10.10.20.2', 'route-one-way'.slice(0, 6)]) expect(out).toContain(word);
  });

  it('fits on one line a row at 200 columns, as in the README', () => {
    const out = renderTable(readme, { color: false, width: 200 });
    expect(out).toBe(renderTable(readme, { color: false }));
    expect(body(out)).toHaveLength(6);
  });
});

describe('matrix grids', () => {
  it.each([80, 120])('fit %i columns, cells all there', (width) => {
    const report = matrixReport();
    const out = renderMatrix(report, { color: false, width });
    for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
    const wideOut = renderMatrix(report, { color: false });
    expect(columns(body(out))).toEqual(columns(body(wideOut)));
  });
});

describe('displayWidth', () => {
  it('counts a symbol of the BMP emoji block alone as the grapheme segmenter does, without it', () => {
    expect(displayWidth('a ✔ → b')).toBe(7);
    expect(displayWidth('⌚')).toBe(2); // emoji presentation
    expect(displayWidth('✔\ufe0f')).toBe(2); // a variation selector: the segmenter's path
    // Each symbol alone (the fast path) and followed by a combining mark (the segmenter's path: the mark is in its
    // grapheme and takes no column) are as wide.
    for (let cp = 0x2300; cp <= 0x2bff; cp++) {
      const ch = String.fromCodePoint(cp);
      expect(displayWidth(ch), ch).toBe(displayWidth(`${ch}\u0301`));
    }
  });
});

describe('wrapText', () => {
  it('wraps at spaces, splits only words wider than the column, after a - / . where it can', () => {
    expect(wrapText('ns1 reaches its end of the cable', 12)).toBe('ns1 reaches\nits end of\nthe cable');
    expect(wrapText('3. routes-both-ways', 10)).toBe('3.\nroutes-\nboth-ways');
    expect(wrapText('abcdefghij', 4)).toBe('abcd\nefgh\nij');
    expect(wrapText('line one\nline two', 20)).toBe('line one\nline two');
    expect(wrapText('中文中文', 5)).toBe('中文\n中文');
    expect(wrapText('😀😀😀', 3)).toBe('😀\n😀\n😀');
    expect(wrapText('👍🏽👍🏽', 2)).toBe('👍🏽\n👍🏽');
  });

  it('never makes a line wider than the column (2 or more), and loses no text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', '-', '.', '中', 'é', '😀', '\n') }), fc.integer({ min: 2, max: 40 }), (s, w) => {
        const out = wrapText(s, w);
        for (const l of out.split('\n')) {
          expect(displayWidth(l)).toBeLessThanOrEqual(w);
          expect(l).not.toMatch(/[\ud800-\udfff]/u); // no emoji cut in half (no lone surrogate)
        }
        expect(out.replace(/\s/g, '')).toBe(s.replace(/\s/g, ''));
      }),
      { numRuns: 300 },
    );
  });
});

describe('outputWidth', () => {
  it('COLUMNS when set (a positive integer), else the terminal\'s width, else none', () => {
    expect(outputWidth({ isTTY: true, columns: 120 }, { COLUMNS: '80' })).toBe(80);
    expect(outputWidth({ isTTY: true, columns: 120 }, {})).toBe(120);
    expect(outputWidth({ isTTY: true, columns: 120 }, { COLUMNS: 'wide' })).toBe(120);
    expect(outputWidth({ isTTY: false }, { COLUMNS: '100' })).toBe(100);
    expect(outputWidth({ isTTY: false }, {})).toBeUndefined();
    expect(outputWidth({}, { COLUMNS: '0' })).toBeUndefined();
  });
});

describe('--wide', () => {
  const saved = process.env.COLUMNS;
  afterEach(() => {
    vi.restoreAllMocks();
    if (saved === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = saved;
  });

  async function stdoutOf(wideOpt: boolean): Promise<string> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    await emitReport(readme, [{ format: 'table' }], { wide: wideOpt });
    vi.restoreAllMocks();
    return out;
  }

  it('is a report option, off by default', () => {
    const parse = (...argv: string[]) => withReportOptions(yargs(argv)).exitProcess(false).strict().parseSync();
    expect(parse().wide).toBe(false);
    expect(parse('--wide').wide).toBe(true);
  });

  it('the table on stdout fits COLUMNS; with --wide it keeps one line a row', async () => {
    process.env.COLUMNS = '80';
    const fitted = await stdoutOf(false);
    for (const line of fitted.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(80);
    expect(body(fitted).length).toBeGreaterThan(6);
    const wideOut = await stdoutOf(true);
    expect(body(wideOut)).toHaveLength(6);
    expect(Math.max(...wideOut.split('\n').map(displayWidth))).toBeGreaterThan(80);
  });
});
