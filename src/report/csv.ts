// CSV renderer (RFC 4180) for spreadsheets and scripts: a header row, then one row per check; CRLF line ends.
// Text cells are printable (control characters escaped) and cannot be read as a formula (OWASP's CSV injection rule).
import type { RunReport } from './model.js';
import { printable } from '../printable.js';

/** The header row, in column order. */
export const CSV_COLUMNS = ['stage', 'check', 'kind', 'from', 'to', 'target', 'expected', 'got', 'ok', 'detail', 'duration_ms', 'hint', 'attempts', 'findings'] as const;

/** One field: quoted, with inner quotes doubled, when it holds a comma, a quote, CR or LF (or `quote` says so). */
export function csvField(value: string, quote = false): string {
  return quote || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** First characters a spreadsheet reads as the start of a formula (OWASP: =, +, -, @, tab, carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell: control characters escaped; one a spreadsheet would take for a formula gets a leading `'` and quotes. */
export function csvText(value: string): string {
  const text = printable(value, '\n');
  return FORMULA_START.test(text) ? csvField(`'${text}`, true) : csvField(text);
}

/** A number netlab measured or counted: never negative (durations come from a monotonic clock), so never a formula. */
const csvCount = (n: number): string => String(Math.max(0, Math.round(n)));

/** The columns a scored report adds at the end: what each check is worth and what it earned. */
export const CSV_SCORE_COLUMNS = ['points', 'score'] as const;

/** Points: never negative (the schema says so), so never a formula; up to two decimals. */
const csvPoints = (n: number): string => String(Math.max(0, Math.round(n * 100) / 100));

/** The report as CSV: one row per check, in stage order (a scored report: with points and score columns). */
export function renderCsv(report: RunReport): string {
  const scored = report.score !== undefined;
  const rows: string[] = [[...CSV_COLUMNS, ...(scored ? CSV_SCORE_COLUMNS : [])].join(',')];
  for (const stage of report.stages) {
    for (const r of stage.results) {
      rows.push(
        [
          csvText(stage.name),
          csvText(r.name),
          csvText(r.kind),
          csvText(r.from),
          csvText(r.to),
          csvText(r.target),
          csvText(r.expected),
          csvText(r.got),
          String(r.ok),
          csvText(r.detail),
          csvCount(r.durationMs),
          csvText(r.hint ?? ''),
          csvCount(r.attempts ?? 1),
          csvText((r.findings ?? []).join('; ')),
          ...(scored ? [csvPoints(r.points ?? 0), csvPoints(r.score ?? 0)] : []),
        ].join(','),
      );
    }
  }
  return rows.map((row) => row + '\r\n').join('');
}
