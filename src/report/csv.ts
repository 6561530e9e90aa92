// CSV renderer (RFC 4180) for spreadsheets and scripts: a header row, then one row per check; CRLF line ends.
import type { RunReport } from './model.js';

/** The header row, in column order. */
export const CSV_COLUMNS = ['stage', 'check', 'kind', 'from', 'to', 'target', 'expected', 'got', 'ok', 'detail', 'duration_ms', 'hint', 'attempts', 'findings'] as const;

/** One field: quoted, with inner quotes doubled, when it holds a comma, a quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The report as CSV: one row per check, in stage order. */
export function renderCsv(report: RunReport): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const stage of report.stages) {
    for (const r of stage.results) {
      rows.push([stage.name, r.name, r.kind, r.from, r.to, r.target, r.expected, r.got, String(r.ok), r.detail, String(Math.round(r.durationMs)), r.hint ?? '', String(r.attempts ?? 1), (r.findings ?? []).join('; ')]);
    }
  }
  return rows.map((row) => row.map(csvField).join(',') + '\r\n').join('');
}
