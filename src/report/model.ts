// The run report every renderer reads: one versioned shape, built from check results.
import type { CheckResult } from '../checks/result.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface StageReport {
  name: string;
  title: string;
  explain?: string;
  results: CheckResult[];
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
  summary: { total: number; passed: number; failed: number; errors: number };
}

/** Counts results: passed = as expected; errors = could not run; failed = the rest. */
export function summarize(stages: readonly StageReport[]): RunReport['summary'] {
  const all = stages.flatMap((s) => s.results);
  const errors = all.filter((r) => r.got === 'error').length;
  const passed = all.filter((r) => r.ok).length;
  return { total: all.length, passed, failed: all.length - passed - errors, errors };
}

/** The closing line: `N passed, M failed` (plus errors when there are any). */
export function closingLine(s: RunReport['summary']): string {
  return `${s.passed} passed, ${s.failed} failed${s.errors ? `, ${s.errors} errors` : ''}`;
}

/** Builds a report from stage results; duration runs from `startedAt` to now. */
export function makeReport(fields: { lab: string; title: string; instance: string; startedAt: Date; stages: StageReport[]; aborted?: string }): RunReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    lab: fields.lab,
    title: fields.title,
    instance: fields.instance,
    startedAt: fields.startedAt.toISOString(),
    durationMs: Date.now() - fields.startedAt.getTime(),
    ...(fields.aborted !== undefined ? { aborted: fields.aborted } : {}),
    stages: fields.stages,
    summary: summarize(fields.stages),
  };
}

/** A stage as reports name it: the setup by its name, steps numbered ("2. route-one-way"). */
export function stageLabel(name: string, index: number): string {
  return index === 0 ? name : `${index}. ${name}`;
}

/** The mark of a result: ✔ as expected, ! could not run, ✘ not as expected. */
export function markOf(r: Pick<CheckResult, 'ok' | 'got'>): '✔' | '!' | '✘' {
  return r.ok ? '✔' : r.got === 'error' ? '!' : '✘';
}

/** The expected and got cells' text (defined with the result, so evidence files say the same). */
export { expectedText, gotText } from '../checks/result.js';
