// Scores in the report model and in every format: per step and in total, skipped checks, and the learner's view.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderCsv } from '../../../src/report/csv.js';
import { renderJson } from '../../../src/report/json.js';
import { renderJunit } from '../../../src/report/junit.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { renderMatrix } from '../../../src/report/matrix.js';
import { closingLine, learnerView, makeReport, markOf } from '../../../src/report/model.js';
import { RunReportSchema } from '../../../src/report/schema.js';
import { renderTable } from '../../../src/report/table.js';
import { renderTap } from '../../../src/report/tap.js';
import { fixtureReport, passing } from './fixture.js';
import { scored, scoredReport } from './score-fixture.js';
import { parseTap } from './tap-parse.js';

const plain = { color: false };

describe('score in the report model', () => {
  const report = scoredReport();

  it('every result gets its points (default 1) and what it earned; stages and the whole sum them', () => {
    const [setup, fix] = report.stages;
    expect(setup?.results.map((r) => [r.points, r.score])).toEqual([[2, 2], [3, 3], [1, 1]]);
    expect(fix?.results.map((r) => [r.points, r.score])).toEqual([[4, 0], [5, 0], [1, 0]]);
    expect(setup?.score).toEqual({ points: 6, max: 6 });
    expect(fix?.score).toEqual({ points: 0, max: 10 });
    expect(report.score).toEqual({ points: 6, max: 16 });
  });

  it('skipped checks are counted apart: total = passed + failed + errors + skipped', () => {
    expect(report.summary).toEqual({ total: 6, passed: 3, failed: 1, errors: 0, skipped: 2 });
    expect(closingLine(report.summary, report.score)).toBe('3 passed, 1 failed, 2 skipped; score 6/16');
    expect(markOf(scored.skipped)).toBe('-');
  });

  it('an unscored run stays as it was: no score, no points, no skipped count', () => {
    const r = fixtureReport();
    expect(r.score).toBeUndefined();
    expect(r.stages.some((s) => s.score !== undefined || s.results.some((x) => x.points !== undefined || x.score !== undefined))).toBe(false);
    expect(Object.keys(r.summary)).toEqual(['total', 'passed', 'failed', 'errors']);
  });

  it('a rubric scores a run whose checks carry no points: 1 each', () => {
    const r = makeReport({ lab: 'l', title: 't', instance: 'i', startedAt: new Date(), stages: [{ name: 'setup', title: 's', results: [passing, passing] }], scored: true });
    expect(r.score).toEqual({ points: 2, max: 2 });
  });

  it('points may be fractions: 0.5 + 0.25', () => {
    const r = makeReport({ lab: 'l', title: 't', instance: 'i', startedAt: new Date(), stages: [{ name: 'setup', title: 's', results: [{ ...passing, points: 0.5 }, { ...passing, points: 0.25, ok: false, got: 'fail' }] }] });
    expect(r.score).toEqual({ points: 0.5, max: 0.75 });
    expect(renderTable(r, plain)).toContain('score 0.5/0.75');
  });
});

describe('learnerView', () => {
  const grader = scoredReport();
  const learner = learnerView(grader);
  const text = JSON.stringify(learner);

  it('leaves hidden checks out: no name, no result, no points', () => {
    expect(text).not.toContain(scored.secret.name);
    expect(learner.stages[0]?.results.map((r) => r.id)).toEqual(['setup/1', 'setup/3']);
    expect(learner.stages.flatMap((s) => s.results).some((r) => r.hidden)).toBe(false);
  });

  it('score and summary over the visible checks only, and how many hidden checks are graded too', () => {
    expect(learner.stages[0]?.score).toEqual({ points: 3, max: 3 });
    expect(learner.score).toEqual({ points: 3, max: 13 });
    expect(learner.summary).toEqual({ total: 5, passed: 2, failed: 1, errors: 0, skipped: 2 });
    expect(learner.hiddenChecks).toBe(1);
    expect(renderTable(learner, plain)).toContain('1 hidden check is graded too');
    expect(RunReportSchema.safeParse(learner).success).toBe(true);
  });

  it('a check skipped by a hidden gate does not name that gate', () => {
    const hiddenGate = { ...scored.gateBad, hidden: true as const };
    const r = makeReport({ lab: 'l', title: 't', instance: 'i', startedAt: new Date(), stages: [{ name: 'setup', title: 's', results: [hiddenGate, scored.skipped] }] });
    const v = learnerView(r);
    expect(JSON.stringify(v)).not.toContain(scored.gateBad.name);
    expect(v.stages[0]?.results[0]?.detail).toBe('not run: a check before it did not hold');
  });

  it('a report without hidden checks is the same apart from nothing', () => {
    const r = fixtureReport();
    expect(learnerView(r)).toEqual(r);
  });
});

describe('every format shows score / max per step and in total, and skipped checks', () => {
  const report = scoredReport();

  it('table: a points column, a - mark and the skip reason, score lines per step and in total', () => {
    const t = renderTable(report, plain);
    expect(t).toMatch(/│ points │/);
    expect(t).toMatch(/the server sees the uplink .*skipped: not run: the gate "vm1 reaches the internet" did not hold.* 0\/5 +│ - │/);
    expect(t).toContain('score: setup 6/6');
    expect(t).toContain('score: 1. fix 0/10');
    expect(t).toContain('score: total 6/16');
    expect(t).toContain('3 passed, 1 failed, 2 skipped; score 6/16');
    // Skipped checks are not listed again among the failures.
    expect(t).not.toMatch(/✘ the server sees the uplink/);
  });

  it('table fitted to a narrow terminal keeps the points column whole', () => {
    const t = renderTable(report, { color: false, width: 80 });
    expect(t).toContain(' 0/5 ');
    expect(t.split('\n').every((l) => [...l].length <= 80)).toBe(true);
  });

  it('matrix format: skipped pairs in the grid, score lines', () => {
    const m = renderMatrix(report, plain);
    expect(m).toContain('yes - (skipped)');
    expect(m).toContain('score: total 6/16');
  });

  it('markdown: a points column and a score table', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| step | check | from → to | expected | got | time | points | result |');
    expect(md).toMatch(/\| 0\/5 \| - \|/);
    expect(md).toContain('| setup | 6/6 |');
    expect(md).toContain('| 1. fix | 0/10 |');
    expect(md).toContain('| **total** | **6/16** |');
    expect(md).toContain('**3 passed, 1 failed, 2 skipped; score 6/16**');
  });

  it('JSON: score per stage and in total, per check points and score, valid against schema/report.schema.json', async () => {
    const json = JSON.parse(renderJson(report)) as typeof report;
    expect(json.score).toEqual({ points: 6, max: 16 });
    expect(json.stages.map((s) => s.score)).toEqual([{ points: 6, max: 6 }, { points: 0, max: 10 }]);
    const committed = JSON.parse(readFileSync('schema/report.schema.json', 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true, formats: { 'date-time': true } }).compile(committed);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  });

  it('CSV: points and score columns at the end', () => {
    const rows = renderCsv(report).trimEnd().split('\r\n');
    expect(rows[0]?.endsWith(',findings,points,score')).toBe(true);
    expect(rows.slice(1).map((r) => r.split(',').slice(-2).join('/'))).toEqual(['2/2', '3/3', '1/1', '4/0', '5/0', '1/0']);
    expect(rows[5]).toContain(',skipped,false,');
    // Unscored: the columns as before.
    expect(renderCsv(fixtureReport()).split('\r\n')[0]?.endsWith(',findings')).toBe(true);
  });

  it('JUnit: suite score properties, a points property per case, skipped as <skipped/>', () => {
    const xml = renderJunit(report);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase', 'property'].includes(n) }).parse(xml) as {
      testsuites: { skipped?: string; testsuite: { name: string; skipped: string; properties: { property: { name: string; value: string }[] }; testcase: { name: string; skipped?: unknown; properties: { property: { name: string; value: string }[] } }[] }[] };
    };
    const [setup, fix] = doc.testsuites.testsuite;
    const props = (p: { property: { name: string; value: string }[] }) => Object.fromEntries(p.property.map((x) => [x.name, x.value]));
    expect(props(setup!.properties)).toMatchObject({ score: '6/6', 'total-score': '6/16' });
    expect(props(fix!.properties)).toMatchObject({ score: '0/10', 'total-score': '6/16' });
    expect(fix!.testcase.map((t) => props(t.properties).points)).toEqual(['0/4', '0/5', '0/1']);
    expect(fix!.skipped).toBe('2');
    expect(fix!.testcase[1]?.skipped).toBeDefined();
    expect(doc.testsuites.skipped).toBeUndefined();
  });

  it('TAP: skipped points are ok with # SKIP and the reason; score comments', () => {
    const tap = renderTap(report);
    const { results, points } = parseTap(tap);
    expect(results).toMatchObject({ count: 6, pass: 5, fail: 1, skip: 2 });
    expect(points[4]).toMatchObject({ ok: true, skip: 'not run: the gate "vm1 reaches the internet" did not hold' });
    expect(tap).toContain('# score: total 6/16');
    expect(tap).toContain('# 3 passed, 1 failed, 2 skipped; score 6/16');
    expect(tap).toContain('(0/5 points)');
  });
});
