// Matrix renderer (`-f matrix`): every reachability matrix as a grid (rows: sources, columns: targets, each cell
// expected vs got), the pairs not as expected, the other checks in brief, then the closing line.
import { drawTable } from './box.js';
import { bold, dim, green, paintLines, paintMark, red, yellow } from './color.js';
import { fitRows, wrapText, wrapWithPrefix, type ColumnSpec } from './fit.js';
import type { RenderOptions } from './formats.js';
import { cellText, gridCell, matrixGrids, type Grid } from './matrix-grid.js';
import { closingLine, hiddenLine, markOf, scoreLines, stageLabel, type RunReport } from './model.js';
import { printable } from '../printable.js';
import { titleLines } from './title.js';

const paint = (state: 'ok' | 'failed' | 'error' | 'skipped') => (state === 'ok' ? green : state === 'error' ? yellow : state === 'skipped' ? dim : red);

/** Every column of a grid may wrap, down to 8 columns (`yes ✘ (got partly 2/3)` wraps at its spaces). */
const GRID_COLUMN: ColumnSpec = { wrap: true, min: 8 };

/** One grid as a box-drawn table under its name, followed (with `failures`) by the pairs that were not as expected. */
export function renderGrid(g: Grid, { color, width }: RenderOptions, failures = true): string {
  const states: (('ok' | 'failed' | 'error' | 'skipped') | undefined)[][] = [];
  const rows = g.rows.map((row) => {
    const line = [printable(row)];
    const st: (typeof states)[number] = [undefined];
    for (const col of g.cols) {
      const cell = gridCell(g, row, col);
      const t = cell ? cellText(cell) : undefined;
      line.push(t?.text ?? '');
      st.push(t?.state);
    }
    states.push(st);
    return line;
  });
  const head = [g.corner, ...g.cols.map((c) => printable(c))];
  const [fittedHead = head, ...body] = fitRows([head, ...rows], head.map(() => GRID_COLUMN), width);
  const painted = body.map((cells, i) =>
    cells.map((c, j) => {
      const state = states[i]?.[j];
      return state ? paintLines(paint(state), color, c) : c;
    }),
  );
  const heading = `${printable(g.name)}  (${printable(g.stage)})`;
  const lines = [width === undefined ? bold(color, printable(g.name)) + dim(color, `  (${printable(g.stage)})`) : paintLines(bold, color, wrapText(heading, width)), drawTable(fittedHead, painted, color)];
  for (const cell of failures ? g.cells.values() : []) {
    for (const r of cell.results.filter((x) => !x.ok && x.got !== 'skipped')) {
      const mark = paint(r.got === 'error' ? 'error' : 'failed')(color, markOf(r));
      lines.push(wrapWithPrefix(`${mark} `, `${printable(r.name)}: ${r.got}: ${printable(r.detail, '\n')}`, width));
      if (r.hint) lines.push(wrapWithPrefix('  hint: ', printable(r.hint, '\n'), width, '    '));
    }
  }
  return lines.join('\n');
}

/** The grids of every matrix in the report, blank-line separated; '' when it has none. */
export function renderGrids(report: RunReport, opts: RenderOptions, failures = true): string {
  return matrixGrids(report)
    .map((g) => renderGrid(g, opts, failures))
    .join('\n\n');
}

/** The matrix format: title, grids, the checks outside any matrix (one line each), the closing line. */
export function renderMatrix(report: RunReport, { color, width }: RenderOptions): string {
  const lines = [titleLines(report, color, width), ''];
  const grids = renderGrids(report, { color, width });
  lines.push(grids || 'No matrix in this run.');
  const others = report.stages.flatMap((s, i) => s.results.filter((r) => !r.matrix).map((r) => ({ r, stage: stageLabel(s.name, i) })));
  if (others.length) {
    lines.push('', `Other checks (${others.filter((o) => o.r.ok).length} of ${others.length} as expected):`);
    for (const { r, stage } of others) {
      const text = `${printable(stage)}: ${printable(r.name)}${r.ok ? '' : ` — ${r.got}: ${printable(r.detail, '\n')}`}`;
      lines.push(wrapWithPrefix(`  ${paintMark(color, r)} `, text, width, '    '));
    }
  }
  if (report.aborted) lines.push('', paintLines(yellow, color, wrapWithPrefix('stopped early: ', printable(report.aborted, '\n'), width)));
  if (report.score) lines.push('', ...scoreLines(report));
  lines.push('', closingLine(report.summary, report.score));
  const hidden = hiddenLine(report);
  if (hidden) lines.push(hidden);
  return lines.join('\n') + '\n';
}
