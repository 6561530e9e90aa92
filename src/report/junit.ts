// JUnit XML renderer for CI test views (Jenkins, GitLab, GitHub test reporters): a testsuite per stage, a testcase per check.
import junitModule, { type Builder } from 'junit-report-builder';
import type { CheckResult } from '../checks/result.js';
import { expectedText, pointsText, scoreText, type RunReport } from './model.js';
import { printable } from '../printable.js';

// The package is CommonJS with the builder as module.exports, while its types call it `default`: take whichever is there.
const junit: Builder = (junitModule as { default?: Builder }).default ?? (junitModule as unknown as Builder);

/** Milliseconds as JUnit's seconds, to the millisecond. */
export const seconds = (ms: number): number => Math.round(ms) / 1000;

/** argv as one shell-readable line: words with anything but safe characters single-quoted. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** Lab or tool text for an attribute or a line: printable, line breaks kept (XML escapes them in attributes). */
const text = (s: string): string => printable(s, '\n');

/** A check's evidence and hint as the text of its system-out; control characters escaped, so none is dropped unseen. */
export function evidenceText(r: CheckResult): string {
  const { argv, exitCode, stdout, stderr } = r.evidence;
  const block = (name: string, out: string) => (out ? `${name}:\n${printable(out, '\n\t').replace(/\n?$/, '\n')}` : `${name}: (empty)\n`);
  const all =
    `command: ${argv.length ? commandLine(argv.map((a) => printable(a))) : '(none)'}\n` +
    `exit code: ${exitCode ?? 'none'}\n` +
    block('stdout', stdout) +
    block('stderr', stderr) +
    (r.hint ? `hint: ${text(r.hint)}\n` : '') +
    (r.findings?.length ? `findings:\n${r.findings.map((f) => `  - ${text(f)}\n`).join('')}` : '') +
    (r.attempts ? `attempts: ${r.attempts}\n` : '');
  return cdataSafe(all);
}

/** xmlbuilder splits only the first `]]>` of a CDATA section correctly; break every one so none can end it early. */
const cdataSafe = (s: string): string => s.replaceAll(']]>', ']]\u200b>');

/** A new JUnit document whose root <testsuites> is called `name` (printable first). */
export function junitBuilder(name: string) {
  return junit.newBuilder().name(printable(name));
}
export type JunitBuilder = ReturnType<typeof junitBuilder>;
export type JunitSuite = ReturnType<JunitBuilder['testSuite']>;

/**
 * Adds one check as a testcase of `suite`: a check that could not run is an <error>, one not as expected a
 * <failure> (message: the detail, type: `expected X, got Y`), never both; system-out holds its evidence and hint.
 * `body`: the failure or error also carries that text and the hint as its content (what `netlab test`'s readers
 * show first); the per-run report leaves it to system-out.
 */
export function addCheckCase(suite: JunitSuite, r: CheckResult, className: string, opts: { body?: boolean; scored?: boolean } = {}): void {
  const tc = suite.testCase().className(printable(className)).name(printable(r.name)).time(seconds(r.durationMs));
  // A scored report: each case says what it earned of its points.
  if (opts.scored) tc.property('points', pointsText(r));
  const type = printable(`expected ${expectedText(r)}, got ${r.gotReason !== undefined ? `${r.got} (${r.gotReason})` : r.got}`);
  const body = opts.body && !r.ok ? cdataSafe(`${type}: ${text(r.detail)}\n${r.hint ? `hint: ${text(r.hint)}\n` : ''}${r.findings?.length ? `findings:\n${r.findings.map((f) => `  - ${text(f)}\n`).join('')}` : ''}`) : undefined;
  // One of the two: a check that could not run is an error, not also a failure (the summary counts them apart).
  if (r.got === 'skipped') tc.skipped();
  else if (r.got === 'error') tc.error(text(r.detail), type, body);
  else if (!r.ok) {
    tc.failure(text(r.detail), type);
    if (body) tc.stacktrace(body);
  }
  tc.standardOutput(evidenceText(r));
}

/** Adds an error testcase (e.g. "run" for a run cut short): `message` as its message, `content` as its text. */
export function addErrorCase(suite: JunitSuite, className: string, name: string, message: string, opts: { type: string; durationMs: number; content?: string }): void {
  suite.testCase().className(printable(className)).name(printable(name)).time(seconds(opts.durationMs)).error(text(message), opts.type, opts.content === undefined ? undefined : cdataSafe(text(opts.content)));
}

/** Sets an attribute the builder has no method for (e.g. a testsuite's `file`), after the name; value printable. */
export function setAttribute(node: JunitSuite, name: string, value: string): void {
  (node as unknown as { _attributes: Record<string, string> })._attributes[name] = printable(value, '\n');
}

/**
 * The document as XML text: the root gets the whole duration, and loses `skipped` (each suite counts its own), which
 * the Jenkins JUnit schema does not allow there.
 */
export function finishJunit(builder: JunitBuilder, durationMs: number): string {
  const xml = builder.build().replace(/<testsuites([^>]*?) skipped="\d+"(\/?)>/, `<testsuites$1 time="${seconds(durationMs)}"$2>`);
  return xml + '\n';
}

/**
 * The report as JUnit XML: suites `<lab>/<stage>`, cases `<lab>.<stage>` / check name; an aborted run adds an error
 * case "run". Every text is printable first: junit-report-builder would silently drop what XML 1.0 forbids (ESC…).
 */
export function renderJunit(report: RunReport): string {
  const lab = printable(report.lab);
  const builder = junitBuilder(report.lab);
  for (const stage of report.stages) {
    const suite = builder
      .testSuite()
      .name(`${lab}/${printable(stage.name)}`)
      .timestamp(report.startedAt)
      .time(seconds(stage.results.reduce((sum, r) => sum + r.durationMs, 0)))
      .property('instance', printable(report.instance));
    // A scored report: each suite says its step's score and the total.
    if (report.score) suite.property('score', scoreText(stage.score ?? { points: 0, max: 0 })).property('total-score', scoreText(report.score));
    if (report.hiddenChecks) suite.property('hidden-checks', String(report.hiddenChecks));
    for (const r of stage.results) addCheckCase(suite, r, `${report.lab}.${stage.name}`, { scored: report.score !== undefined });
  }
  if (report.aborted) {
    const suite = builder.testSuite().name(lab).timestamp(report.startedAt).time(seconds(report.durationMs));
    addErrorCase(suite, report.lab, 'run', report.aborted, { type: 'aborted', durationMs: report.durationMs });
  }
  return finishJunit(builder, report.durationMs);
}
