// TAP renderer: parsed back with tap-parser (the parser of node-tap): plan, counts, diagnostics, bail out.
import { describe, expect, it } from 'vitest';
import { renderTap, tapDescription } from '../../../src/report/tap.js';
import type { RunReport } from '../../../src/report/model.js';
import { erroring, failing, fixtureReport, passing } from './fixture.js';
import { parseTap } from './tap-parse.js';

const parse = parseTap;

describe('tap', () => {
  const tap = renderTap(fixtureReport());

  it('is TAP version 14 with a plan and one test point per check', () => {
    expect(tap.split('\n').slice(0, 2)).toEqual(['TAP version 14', '1..3']);
    const { results, points } = parse(tap);
    expect(results).toMatchObject({ ok: false, count: 3, pass: 1, fail: 2, bailout: false, plan: { start: 1, end: 3 } });
    expect(points.map((t) => [t.id, t.ok, t.name])).toEqual([
      [1, true, `setup: ${passing.name}`],
      [2, false, `route-one-way: ${failing.name}`],
      [3, false, `route-one-way: ${erroring.name}`],
    ]);
  });

  it('a YAML diagnostic for each check not as expected: expected, got, detail, hint, findings, attempts, evidence', () => {
    const [, fail, error] = parse(tap).points;
    expect(fail?.diag).toEqual({
      expected: 'pass',
      got: 'fail',
      detail: failing.detail,
      hint: failing.hint,
      findings: failing.findings,
      attempts: 3,
      evidence: { argv: failing.evidence.argv, exitCode: 1, stdout: failing.evidence.stdout, stderr: failing.evidence.stderr },
    });
    expect(fail?.time).toBe(508); // tap-parser reads duration_ms as the test point's time
    expect(error?.diag).toEqual({
      expected: 'pass',
      got: 'error',
      detail: 'spawn ping ENOENT',
      // ESC from the tool's output shows as the text \x1b (see the hostile-text tests).
      evidence: { argv: erroring.evidence.argv, stdout: '', stderr: '\\x1b[31mno ping\\x1b[0m ]]> and ]]> again' },
    });
    expect(tap).toMatch(/^ {2}---\n {2}expected: pass\n/m);
    expect(tap).toMatch(/^ {4}stdout: \|\n {6}PING /m);
  });

  it('a passing check has no diagnostic', () => {
    expect(parse(tap).points[0]?.diag).toBeNull();
  });

  it('an aborted run ends with Bail out! and its reason', () => {
    const aborted = renderTap(fixtureReport({ aborted: 'interrupted by SIGINT' }));
    expect(aborted.trimEnd().split('\n').at(-1)).toBe('Bail out! interrupted by SIGINT');
    expect(parse(aborted).results).toMatchObject({ ok: false, count: 3, bailout: 'interrupted by SIGINT' });
  });

  it('an all-passing report is ok; an empty one has plan 1..0', () => {
    const report = fixtureReport();
    const good: RunReport = { ...report, stages: [{ name: 'setup', title: 'Setup', results: [passing] }], summary: { total: 1, passed: 1, failed: 0, errors: 0 } };
    expect(parse(renderTap(good)).results).toMatchObject({ ok: true, count: 1, pass: 1, fail: 0 });
    const empty: RunReport = { ...report, stages: [], summary: { total: 0, passed: 0, failed: 0, errors: 0 } };
    expect(parse(renderTap(empty)).results).toMatchObject({ ok: true, count: 0, plan: { start: 1, end: 0 } });
  });

  it('descriptions stay on one line (a line break shows as \\n) with # and \\ escaped', () => {
    expect(tapDescription('a # b \\ c\nd')).toBe('a \\# b \\\\ c\\\\nd');
  });
});
