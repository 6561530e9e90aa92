// Matrix renderer (`-f matrix`): every reachability matrix as a grid (rows: sources, columns: targets, each cell
// expected vs got), the pairs not as expected, the other checks in brief, then the closing line.
import Table from 'cli-table3';
import { bold, dim, green, paintMark, red, yellow } from './color.js';
import { cellText, gridCell, matrixGrids, type Grid } from './matrix-grid.js';
import { closingLine, stageLabel, type RunReport } from './model.js';

const paint = (color: boolean, state: 'ok' | 'failed' | 'error', s: string) => (state === 'ok' ? green : state === 'error' ? yellow : red)(color, s);

/** One grid as a cli-table3 table under its name, followed (with `failures`) by the pairs that were not as expected. */
export function renderGrid(g: Grid, color: boolean, failures = true): string {
  const table = new Table({
    head: ['from \\ to', ...g.cols],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [], compact: true },
  });
  for (const row of g.rows) {
    table.push([
      row,
      ...g.cols.map((col) => {
        const cell = gridCell(g, row, col);
        if (!cell) return '';
        const t = cellText(cell);
        return paint(color, t.state, t.text);
      }),
    ]);
  }
  const lines = [bold(color, g.name) + dim(color, `  (${g.stage})`), table.toString()];
  for (const cell of failures ? g.cells.values() : []) {
    for (const r of cell.results.filter((x) => !x.ok)) {
      lines.push(`${paint(color, r.got === 'error' ? 'error' : 'failed', r.got === 'error' ? '!' : '✘')} ${r.name}: ${r.got}: ${r.detail}`);
      if (r.hint) lines.push(`  hint: ${r.hint}`);
    }
  }
  return lines.join('\n');
}

/** The grids of every matrix in the report, blank-line separated; '' when it has none. */
export function renderGrids(report: RunReport, color: boolean, failures = true): string {
  return matrixGrids(report)
    .map((g) => renderGrid(g, color, failures))
    .join('\n\n');
}

/** The matrix format: title, grids, the checks outside any matrix (one line each), the closing line. */
export function renderMatrix(report: RunReport, color: boolean): string {
  const lines = [bold(color, report.title) + dim(color, `  (lab ${report.lab}, instance ${report.instance})`), ''];
  const grids = renderGrids(report, color);
  lines.push(grids || 'No matrix in this run.');
  const others = report.stages.flatMap((s, i) => s.results.filter((r) => !r.matrix).map((r) => ({ r, stage: stageLabel(s.name, i) })));
  if (others.length) {
    lines.push('', `Other checks (${others.filter((o) => o.r.ok).length} of ${others.length} as expected):`);
    for (const { r, stage } of others) {
      const mark = paintMark(color, r);
      lines.push(`  ${mark} ${stage}: ${r.name}${r.ok ? '' : ` — ${r.got}: ${r.detail}`}`);
    }
  }
  if (report.aborted) lines.push('', yellow(color, `stopped early: ${report.aborted}`));
  lines.push('', closingLine(report.summary));
  return lines.join('\n') + '\n';
}
