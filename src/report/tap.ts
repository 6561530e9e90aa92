// TAP version 14 renderer for TAP consumers: one test point per check, a YAML diagnostic block for each one not as expected.
import { stringify } from 'yaml';
import type { CheckResult } from '../checks/result.js';
import { closingLine, hiddenLine, pointsText, scoreLines, type RunReport } from './model.js';
import { printable } from '../printable.js';

/**
 * A test point description: printable (a line break shows as `\n`, so it stays on one line), with `\` and `#`
 * escaped (TAP 14), so no text is read as a directive (`# TODO`, `# SKIP`) or starts a line of its own.
 */
export function tapDescription(s: string): string {
  return printable(s).replace(/[\\#]/g, '\\$&');
}

/** Text of a diagnostic: printable, keeping the line breaks and tabs YAML writes as they are. */
const diagText = (s: string): string => printable(s, '\n\t');

/** The YAML diagnostic of a check not as expected, indented two spaces and fenced by `---` and `...`. */
function diagnostic(r: CheckResult): string[] {
  const { argv, exitCode, stdout, stderr } = r.evidence;
  const doc = {
    expected: r.expected,
    got: r.got,
    detail: diagText(r.detail),
    ...(r.hint !== undefined ? { hint: diagText(r.hint) } : {}),
    ...(r.findings?.length ? { findings: r.findings.map(diagText) } : {}),
    ...(r.attempts !== undefined ? { attempts: r.attempts } : {}),
    duration_ms: Math.round(r.durationMs),
    evidence: { argv: argv.map((a) => printable(a)), ...(exitCode !== undefined ? { exitCode } : {}), stdout: diagText(stdout), stderr: diagText(stderr) },
  };
  // Literal block scalars for multi-line strings, never folded; no control character is left to quote.
  const yaml = stringify(doc, { blockQuote: 'literal', lineWidth: 0 }).replace(/\n$/, '');
  return ['  ---', ...yaml.split('\n').map((l) => (l ? `  ${l}` : l)), '  ...'];
}

/** The report as TAP 14: plan, test points `<stage>: <check>`, the closing line as a comment, `Bail out!` if the run stopped early. */
export function renderTap(report: RunReport): string {
  const lines = ['TAP version 14', `1..${report.stages.reduce((sum, s) => sum + s.results.length, 0)}`];
  let n = 0;
  for (const stage of report.stages) {
    for (const r of stage.results) {
      const points = report.score ? ` (${pointsText(r)} points)` : '';
      // TAP 14: a skipped test point is "ok" with a SKIP directive and its reason.
      if (r.got === 'skipped') {
        lines.push(`ok ${++n} - ${tapDescription(`${stage.name}: ${r.name}`)}${points} # SKIP ${tapDescription(r.detail)}`);
        continue;
      }
      lines.push(`${r.ok ? 'ok' : 'not ok'} ${++n} - ${tapDescription(`${stage.name}: ${r.name}`)}${points}`);
      if (!r.ok) lines.push(...diagnostic(r));
    }
  }
  for (const l of scoreLines(report)) lines.push(`# ${l}`);
  lines.push(`# ${closingLine(report.summary, report.score)}`);
  const hidden = hiddenLine(report);
  if (hidden) lines.push(`# ${hidden}`);
  if (report.aborted) lines.push(`Bail out! ${printable(report.aborted)}`);
  return lines.join('\n') + '\n';
}
