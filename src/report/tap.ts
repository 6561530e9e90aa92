// TAP version 14 renderer for TAP consumers: one test point per check, a YAML diagnostic block for each one not as expected.
import { stringify } from 'yaml';
import type { CheckResult } from '../checks/result.js';
import { closingLine, type RunReport } from './model.js';

/** A test point description: on one line, with `\` and `#` escaped (TAP 14), so no text is read as a directive. */
export function tapDescription(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\\#]/g, '\\$&');
}

/** The YAML diagnostic of a check not as expected, indented two spaces and fenced by `---` and `...`. */
function diagnostic(r: CheckResult): string[] {
  const { argv, exitCode, stdout, stderr } = r.evidence;
  const doc = {
    expected: r.expected,
    got: r.got,
    detail: r.detail,
    ...(r.hint !== undefined ? { hint: r.hint } : {}),
    ...(r.findings?.length ? { findings: r.findings } : {}),
    ...(r.attempts !== undefined ? { attempts: r.attempts } : {}),
    duration_ms: Math.round(r.durationMs),
    evidence: { argv, ...(exitCode !== undefined ? { exitCode } : {}), stdout, stderr },
  };
  // Literal block scalars for multi-line strings, never folded; strings with control characters come out double-quoted.
  const yaml = stringify(doc, { blockQuote: 'literal', lineWidth: 0 }).replace(/\n$/, '');
  return ['  ---', ...yaml.split('\n').map((l) => (l ? `  ${l}` : l)), '  ...'];
}

/** The report as TAP 14: plan, test points `<stage>: <check>`, the closing line as a comment, `Bail out!` if the run stopped early. */
export function renderTap(report: RunReport): string {
  const lines = ['TAP version 14', `1..${report.stages.reduce((sum, s) => sum + s.results.length, 0)}`];
  let n = 0;
  for (const stage of report.stages) {
    for (const r of stage.results) {
      lines.push(`${r.ok ? 'ok' : 'not ok'} ${++n} - ${tapDescription(`${stage.name}: ${r.name}`)}`);
      if (!r.ok) lines.push(...diagnostic(r));
    }
  }
  lines.push(`# ${closingLine(report.summary)}`);
  if (report.aborted) lines.push(`Bail out! ${report.aborted.replace(/\s*[\r\n]+\s*/g, ' ')}`);
  return lines.join('\n') + '\n';
}
