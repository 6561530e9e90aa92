// Table renderer (default): one row per check — step, check, from → to, expected, got, time, ✔/✘ — then any matrix
// grids, hints and the closing line. Lab and tool text goes through `printable`; with a width, long columns wrap.
import { formatMs } from '../lab/duration.js';
import { drawTable } from './box.js';
import { paintLines, paintMark, red, yellow } from './color.js';
import { displayWidth, fitRows, wrapWithPrefix, type ColumnSpec } from './fit.js';
import type { RenderOptions } from './formats.js';
import { renderGrids } from './matrix.js';
import { closingLine, expectedText, gotText, hiddenLine, markOf, pointsText, scoreLines, stageLabel, type RunReport } from './model.js';
import { printable } from '../printable.js';
import { titleLines } from './title.js';

const HEAD = ['step', 'check', 'from → to', 'expected', 'got', 'time', ''];
const long = (head: string): ColumnSpec => ({ wrap: true, min: Math.max(displayWidth(head), 6) });
const whole: ColumnSpec = { wrap: false, min: 0 };
/** step, check, from → to and got wrap (words first); expected, time and the mark stay whole. */
const SPECS: ColumnSpec[] = [long('step'), long('check'), long('from → to'), whole, long('got'), whole, whole];

/** The report as a table on a terminal `width` columns wide (none: one line a row, however long). */
export function renderTable(report: RunReport, { color, width }: RenderOptions): string {
  // A scored report has a points column before the mark (earned/points per check).
  const scored = report.score !== undefined;
  const head = scored ? [...HEAD.slice(0, 6), 'points', ''] : HEAD;
  const specs = scored ? [...SPECS.slice(0, 6), whole, whole] : SPECS;
  const markCol = head.length - 1;
  const rows: string[][] = [];
  const results = report.stages.flatMap((stage, i) => stage.results.map((r) => ({ r, step: stageLabel(stage.name, i) })));
  const failedHints: string[] = [];
  for (const { r, step } of results) {
    const to = r.to === r.target ? r.to : `${r.to} (${r.target})`;
    const cells = [step, r.name, `${r.from} → ${to}`, expectedText(r), gotText(r), formatMs(r.durationMs) + (r.attempts ? ` (${r.attempts}×)` : '')];
    rows.push([...cells, ...(scored ? [pointsText(r)] : []), markOf(r)].map((c) => printable(c)));
    // A skipped check says so in its row; the hints below are for what ran and did not hold.
    if (!r.ok && r.got !== 'skipped') {
      const lines = [wrapWithPrefix(`${red(color, '✘')} `, `${printable(r.name)}: ${printable(r.detail, '\n')}`, width)];
      if (r.hint) lines.push(wrapWithPrefix('  hint: ', printable(r.hint, '\n'), width, '    '));
      for (const f of r.findings ?? []) lines.push(wrapWithPrefix('  found: ', printable(f, '\n'), width, '    '));
      failedHints.push(lines.join('\n'));
    }
  }
  const [fitted = head, ...body] = fitRows([head, ...rows], specs, width);
  const painted = body.map((cells, i) => {
    const r = results[i]?.r;
    return r ? cells.map((c, col) => (col === 4 && !r.ok && r.got !== 'skipped' ? paintLines(red, color, c) : col === markCol ? paintMark(color, r) : c)) : cells;
  });
  const lines = [titleLines(report, color, width)];
  if (report.summary.total) lines.push(drawTable(fitted, painted, color));
  const grids = renderGrids(report, { color, width }, false);
  if (grids) lines.push('', grids);
  if (failedHints.length) lines.push('', ...failedHints);
  if (report.aborted) lines.push('', paintLines(yellow, color, wrapWithPrefix('stopped early: ', printable(report.aborted, '\n'), width)));
  if (scored) lines.push('', ...scoreLines(report));
  lines.push('', closingLine(report.summary, report.score));
  const hidden = hiddenLine(report);
  if (hidden) lines.push(hidden);
  return lines.join('\n') + '\n';
}
