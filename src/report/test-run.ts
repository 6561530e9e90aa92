// `netlab test`'s results: one outcome per lab file (invalid, ran, could not run), rendered as a table, JSON, or one
// JUnit document — a testsuite per lab, a testcase per check — built with junit.ts's building blocks.
import { formatMs } from '../lab/duration.js';
import { formatProblem, type Problem } from '../errors.js';
import { printable } from '../printable.js';
import { drawTable } from './box.js';
import { green, red, yellow } from './color.js';
import { jsonText } from './json.js';
import { addCheckCase, addErrorCase, finishJunit, junitBuilder, seconds, setAttribute } from './junit.js';
import type { RunReport } from './model.js';

export const TEST_RUN_SCHEMA_VERSION = 1;

/**
 * How a lab came out: `ok` every check as expected; `failed` a check not as expected (or could not run); `invalid`
 * the file is no valid lab; `error` it could not be built or run for reasons outside it (environment, exit 3);
 * `interrupted` cut short by a signal, or never started because of one.
 */
export type LabStatus = 'ok' | 'failed' | 'invalid' | 'error' | 'interrupted';

export interface LabOutcome {
  /** The lab file, as found. */
  file: string;
  /** The lab's name; for a file that is no valid lab, its file name without the extension. */
  lab: string;
  status: LabStatus;
  durationMs: number;
  /** invalid: every problem, with file:line:col. */
  problems?: Problem[];
  /** The run's report (absent when it did not get as far as writing one). */
  report?: RunReport;
  /** error / interrupted (and a report-less failure): what went wrong, as the run said it on stderr. */
  error?: string;
}

export interface TestRun {
  schemaVersion: typeof TEST_RUN_SCHEMA_VERSION;
  startedAt: string;
  durationMs: number;
  labs: LabOutcome[];
  summary: { labs: number; ok: number; failed: number; invalid: number; errors: number; interrupted: number; checks: RunReport['summary'] };
}

/** Counts outcomes per status, and the checks of every report. */
export function summarizeRun(labs: readonly LabOutcome[]): TestRun['summary'] {
  const n = (s: LabStatus) => labs.filter((l) => l.status === s).length;
  const checks = { total: 0, passed: 0, failed: 0, errors: 0 };
  for (const l of labs) {
    if (!l.report) continue;
    checks.total += l.report.summary.total;
    checks.passed += l.report.summary.passed;
    checks.failed += l.report.summary.failed;
    checks.errors += l.report.summary.errors;
  }
  return { labs: labs.length, ok: n('ok'), failed: n('failed'), invalid: n('invalid'), errors: n('error'), interrupted: n('interrupted'), checks };
}

/** The closing line: `7 labs: 6 as expected, 1 failed` (and whatever else there is). */
export function runClosingLine(s: TestRun['summary']): string {
  const parts = [`${s.ok} as expected`, ...(s.failed ? [`${s.failed} failed`] : []), ...(s.invalid ? [`${s.invalid} invalid`] : []), ...(s.errors ? [`${s.errors} could not run`] : []), ...(s.interrupted ? [`${s.interrupted} interrupted`] : [])];
  return `${s.labs} lab${s.labs === 1 ? '' : 's'}: ${parts.join(', ')}; ${s.checks.passed} of ${s.checks.total} checks as expected`;
}

const STATUS_TEXT: Record<LabStatus, string> = { ok: '✔', failed: '✘ failed', invalid: '✘ invalid', error: '! could not run', interrupted: '! interrupted' };

/** One row per lab — lab, file, passed, failed, errors, duration, result — then each problem, and the closing line. */
export function renderRunTable(run: TestRun, color: boolean): string {
  const head = ['lab', 'file', 'passed', 'failed', 'errors', 'time', ''];
  const rows = run.labs.map((l) => {
    const s = l.report?.summary;
    const mark = STATUS_TEXT[l.status];
    const painted = l.status === 'ok' ? green(color, mark) : l.status === 'failed' || l.status === 'invalid' ? red(color, mark) : yellow(color, mark);
    return [printable(l.lab), printable(l.file), s ? String(s.passed) : '-', s ? String(s.failed) : '-', s ? String(s.errors) : '-', formatMs(l.durationMs), painted];
  });
  const notes: string[] = [];
  for (const l of run.labs) {
    const name = printable(l.lab);
    if (l.problems?.length) notes.push(`${red(color, '✘')} ${name} is not a valid lab:`, ...l.problems.map((p) => `  ${formatProblem(p).replaceAll('\n', '\n  ')}`));
    for (const [i, stage] of (l.report?.stages ?? []).entries()) {
      for (const r of stage.results.filter((x) => !x.ok)) {
        notes.push(`${red(color, '✘')} ${name} / ${printable(i === 0 ? stage.name : `${i}. ${stage.name}`)}: ${printable(r.name)}: ${printable(r.detail)}`);
        if (r.hint) notes.push(`  hint: ${printable(r.hint)}`);
      }
    }
    if (l.error !== undefined) notes.push(`${yellow(color, '!')} ${name}: ${printable(l.error, '\n').trimEnd().replaceAll('\n', '\n  ')}`);
  }
  return [drawTable(head, rows, color), ...(notes.length ? ['', ...notes] : []), '', runClosingLine(run.summary)].join('\n') + '\n';
}

/** The run as JSON: each lab's outcome with its full report (the same shape `netlab run -f json` writes). */
export function renderRunJson(run: TestRun): string {
  return jsonText(run) + '\n';
}

/** A lab's checks' stage as a testcase's classname: `lab/step`. */
const className = (lab: string, stage: string) => `${lab}/${stage}`;

/**
 * One JUnit document for the whole run: a <testsuite> per lab (name: the lab, file: its path), a <testcase> per
 * check (classname `lab/step`, name: the check) with a <failure> or <error> carrying expected/got, the detail and
 * the hint. An invalid lab's suite has one testcase "validate" failing with every problem (file:line:col); a lab
 * that could not run, or was cut short, has an error testcase "run".
 */
export function renderRunJunit(run: TestRun): string {
  const builder = junitBuilder('netlab test');
  for (const l of run.labs) {
    const suite = builder.testSuite().name(printable(l.lab));
    setAttribute(suite, 'file', l.file);
    suite.timestamp(l.report?.startedAt ?? run.startedAt).time(seconds(l.durationMs));
    if (l.report) suite.property('instance', printable(l.report.instance));
    if (l.problems?.length) {
      const n = l.problems.length;
      const tc = suite.testCase().className(printable(l.lab)).name('validate').time(0);
      tc.failure(printable(`${n} problem${n === 1 ? '' : 's'} in ${l.file}: ${l.problems[0]?.message ?? ''}`, '\n'), 'invalid lab file');
      tc.stacktrace(l.problems.map(formatProblem).join('\n') + '\n');
    }
    for (const stage of l.report?.stages ?? []) for (const r of stage.results) addCheckCase(suite, r, className(l.lab, stage.name), { body: true, scored: l.report?.score !== undefined });
    const why = l.report?.aborted ?? l.error;
    if ((l.status === 'error' || l.status === 'interrupted' || l.report?.aborted !== undefined) && why !== undefined) {
      addErrorCase(suite, l.lab, 'run', why.split('\n', 1)[0] ?? why, { type: l.status === 'interrupted' ? 'interrupted' : 'aborted', durationMs: l.durationMs, ...(l.error !== undefined ? { content: l.error } : {}) });
    }
  }
  return finishJunit(builder, run.durationMs);
}

/** A Markdown summary for GITHUB_STEP_SUMMARY: a row per lab and the closing line. */
export function renderRunMarkdown(run: TestRun): string {
  const cell = (s: string) => printable(s).replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);
  const rows = run.labs.map((l) => {
    const s = l.report?.summary;
    return `| ${cell(l.lab)} | ${cell(l.file)} | ${s?.passed ?? '-'} | ${s?.failed ?? '-'} | ${s?.errors ?? '-'} | ${formatMs(l.durationMs)} | ${STATUS_TEXT[l.status]} |`;
  });
  return ['### netlab test', '', '| lab | file | passed | failed | errors | time | |', '|---|---|---:|---:|---:|---:|---|', ...rows, '', `**${runClosingLine(run.summary)}**`, ''].join('\n');
}
