// The run report every renderer reads: one versioned shape, built from check results.
import type { CheckResult } from '../checks/result.js';

export const REPORT_SCHEMA_VERSION = 1;

/** Points earned out of the points there were to earn. */
export interface Score {
  points: number;
  max: number;
}

export interface StageReport {
  name: string;
  title: string;
  explain?: string;
  results: CheckResult[];
  /** In a scored report: the stage's score. */
  score?: Score;
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  lab: string;
  title: string;
  instance: string;
  startedAt: string;
  durationMs: number;
  /** Set when the run was cut short (build failure or signal). */
  aborted?: string;
  stages: StageReport[];
  /** skipped: only when a gate skipped some (then total = passed + failed + errors + skipped). */
  summary: { total: number; passed: number; failed: number; errors: number; skipped?: number };
  /** In a scored report (a check carries points, or a rubric is in use): the total score. */
  score?: Score;
  /** In a learner's report (learnerView): how many hidden checks are graded besides those shown. */
  hiddenChecks?: number;
}

/** Counts results: passed = as expected; errors = could not run; skipped = not run (a gate); failed = the rest. */
export function summarize(stages: readonly StageReport[]): RunReport['summary'] {
  const all = stages.flatMap((s) => s.results);
  const errors = all.filter((r) => r.got === 'error').length;
  const skipped = all.filter((r) => r.got === 'skipped').length;
  const passed = all.filter((r) => r.ok).length;
  return { total: all.length, passed, failed: all.length - passed - errors - skipped, errors, ...(skipped ? { skipped } : {}) };
}

/** The closing line: `N passed, M failed` (plus errors and skipped when there are any, and the score of a scored run). */
export function closingLine(s: RunReport['summary'], score?: Score): string {
  const counts = `${s.passed} passed, ${s.failed} failed${s.errors ? `, ${s.errors} errors` : ''}${s.skipped ? `, ${s.skipped} skipped` : ''}`;
  return score ? `${counts}; score ${scoreText(score)}` : counts;
}

/** `7/10`: points earned out of the maximum (at most two decimals). */
export function scoreText(s: Score): string {
  const n = (x: number) => String(Math.round(x * 100) / 100);
  return `${n(s.points)}/${n(s.max)}`;
}

/** What a result is worth and earned in a scored report: its points (default 1), all of them when it held. */
export function scoreResult(r: CheckResult): CheckResult {
  const points = r.points ?? 1;
  return { ...r, points, score: r.ok ? points : 0 };
}

/** The score of some results that were scored (scoreResult). */
export function sumScore(results: readonly CheckResult[]): Score {
  return results.reduce((s, r) => ({ points: s.points + (r.score ?? 0), max: s.max + (r.points ?? 0) }), { points: 0, max: 0 });
}

/** A report is scored when any check carries points, or a rubric is in use (`scored`). */
export function isScored(stages: readonly StageReport[], scored = false): boolean {
  return scored || stages.some((s) => s.results.some((r) => r.points !== undefined));
}

/** The stages with every result's points and score and each stage's score filled in, and the total (scored runs). */
export function scoreStages(stages: readonly StageReport[]): { stages: StageReport[]; score: Score } {
  const scored = stages.map((s) => {
    const results = s.results.map(scoreResult);
    return { ...s, results, score: sumScore(results) };
  });
  return { stages: scored, score: sumScore(scored.flatMap((s) => s.results)) };
}

/**
 * Builds a report from stage results; duration runs from `startedAt` to now. Scored (`scored`, or a check carrying
 * points): every result gets its points and score, each stage and the whole its score.
 */
export function makeReport(fields: { lab: string; title: string; instance: string; startedAt: Date; stages: StageReport[]; aborted?: string; scored?: boolean }): RunReport {
  const scored = isScored(fields.stages, fields.scored) ? scoreStages(fields.stages) : undefined;
  const stages = scored?.stages ?? fields.stages;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    lab: fields.lab,
    title: fields.title,
    instance: fields.instance,
    startedAt: fields.startedAt.toISOString(),
    durationMs: Date.now() - fields.startedAt.getTime(),
    ...(fields.aborted !== undefined ? { aborted: fields.aborted } : {}),
    stages,
    summary: summarize(stages),
    ...(scored ? { score: scored.score } : {}),
  };
}

/** A stage as reports name it: the setup by its name, steps numbered ("2. route-one-way"). */
export function stageLabel(name: string, index: number): string {
  return index === 0 ? name : `${index}. ${name}`;
}

/** The mark of a result: ✔ as expected, ! could not run, - skipped (a gate before it did not hold), ✘ not as expected. */
export function markOf(r: Pick<CheckResult, 'ok' | 'got'>): '✔' | '!' | '-' | '✘' {
  return r.ok ? '✔' : r.got === 'error' ? '!' : r.got === 'skipped' ? '-' : '✘';
}

/**
 * The report a learner sees: hidden checks left out, and nothing computed from them — the summary and score are
 * over the visible checks only, and `hiddenChecks` says how many more are graded (no names, no results).
 */
export function learnerView(report: RunReport): RunReport {
  const hidden = report.stages.reduce((n, s) => n + s.results.filter((r) => r.hidden).length, 0);
  const stages = report.stages.map((s) => {
    // The skipped name the gate that skipped them: when that gate is hidden, its name is not for the learner.
    const closing = s.results.find((r) => r.gate && (!r.ok || s.results.some((m) => m.matrix !== undefined && m.matrix.name === r.matrix?.name && !m.ok)));
    const results = s.results.filter((r) => !r.hidden).map((r) => (r.got === 'skipped' && closing?.hidden ? { ...r, detail: 'not run: a check before it did not hold' } : r));
    const { score: _, ...rest } = s;
    return { ...rest, results, ...(report.score ? { score: sumScore(results) } : {}) };
  });
  const { score: _score, hiddenChecks: _h, ...rest } = report;
  return {
    ...rest,
    stages,
    summary: summarize(stages),
    ...(report.score ? { score: sumScore(stages.flatMap((s) => s.results)) } : {}),
    ...(hidden ? { hiddenChecks: hidden } : {}),
  };
}

/** A result's cell in a points column: `earned/points` (scored reports). */
export function pointsText(r: Pick<CheckResult, 'points' | 'score'>): string {
  return scoreText({ points: r.score ?? 0, max: r.points ?? 0 });
}

/** A scored report's lines per stage and in total, e.g. `score: setup 2/3`, `score: 1. fix 0/2`, `score: total 2/5`. */
export function scoreLines(report: Pick<RunReport, 'stages' | 'score'>): string[] {
  if (!report.score) return [];
  const per = report.stages.map((s, i) => `score: ${stageLabel(s.name, i)} ${scoreText(s.score ?? { points: 0, max: 0 })}`);
  return [...per, `score: total ${scoreText(report.score)}`];
}

/** The line a learner's report ends with when hidden checks are graded too. */
export function hiddenLine(report: Pick<RunReport, 'hiddenChecks'>): string | undefined {
  const n = report.hiddenChecks;
  return n ? `${n} hidden check${n === 1 ? ' is' : 's are'} graded too` : undefined;
}

/** The expected and got cells' text (defined with the result, so evidence files say the same). */
export { expectedText, gotText } from '../checks/result.js';
