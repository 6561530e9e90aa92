// JUnit XML renderer for CI test views (Jenkins, GitLab, GitHub test reporters): a testsuite per stage, a testcase per check.
import junitModule, { type Builder } from 'junit-report-builder';
import type { CheckResult } from '../checks/result.js';
import { expectedText, pointsText, scoreText, type RunReport } from './model.js';
import { printable } from '../printable.js';

// The package is CommonJS with the builder as module.exports, while its types call it `default`: take whichever is there.
const junit: Builder = (junitModule as { default?: Builder }).default ?? (junitModule as unknown as Builder);

/** Milliseconds as JUnit's seconds, to the millisecond. */
const seconds = (ms: number): number => Math.round(ms) / 1000;

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
  // xmlbuilder splits only the first `]]>` of a CDATA section correctly; break every one so none can end it early.
  return all.replaceAll(']]>', ']]\u200b>');
}

/**
 * The report as JUnit XML: suites `<lab>/<stage>`, cases `<lab>.<stage>` / check name; an aborted run adds an error
 * case "run". Every text is printable first: junit-report-builder would silently drop what XML 1.0 forbids (ESC…).
 */
export function renderJunit(report: RunReport): string {
  const lab = printable(report.lab);
  const builder = junit.newBuilder().name(lab);
  for (const stage of report.stages) {
    const suite = builder
      .testSuite()
      .name(`${lab}/${printable(stage.name)}`)
      .timestamp(report.startedAt)
      .time(seconds(stage.results.reduce((sum, r) => sum + r.durationMs, 0)))
      .property('instance', printable(report.instance));
    // A scored report: each suite says its step's score and the total; each case what it earned of its points.
    if (report.score) suite.property('score', scoreText(stage.score ?? { points: 0, max: 0 })).property('total-score', scoreText(report.score));
    if (report.hiddenChecks) suite.property('hidden-checks', String(report.hiddenChecks));
    for (const r of stage.results) {
      const tc = suite.testCase().className(`${lab}.${printable(stage.name)}`).name(printable(r.name)).time(seconds(r.durationMs));
      if (report.score) tc.property('points', pointsText(r));
      const type = printable(`expected ${expectedText(r)}, got ${r.gotReason !== undefined ? `${r.got} (${r.gotReason})` : r.got}`);
      // One of the two: a check that could not run is an error, not also a failure (the summary counts them apart).
      if (r.got === 'skipped') tc.skipped();
      else if (r.got === 'error') tc.error(text(r.detail), type);
      else if (!r.ok) tc.failure(text(r.detail), type);
      tc.standardOutput(evidenceText(r));
    }
  }
  if (report.aborted) {
    builder.testSuite().name(lab).timestamp(report.startedAt).time(seconds(report.durationMs))
      .testCase().className(lab).name('run').time(seconds(report.durationMs)).error(text(report.aborted), 'aborted');
  }
  // The root gets the run's duration, and loses `skipped` (each suite counts its own), which the Jenkins JUnit schema does not allow there.
  const xml = builder.build().replace(/<testsuites([^>]*?) skipped="\d+"(\/?)>/, `<testsuites$1 time="${seconds(report.durationMs)}"$2>`);
  return xml + '\n';
}
