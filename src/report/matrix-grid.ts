// The grids of a report's matrices: per stage and matrix name, rows = source sides, columns = target sides (or, for a
// matrix table, its rows and columns as written), each cell summing up its pairs (expected yes/no, or the cell's
// label, against what they got). Shared by the matrix, table and markdown formats.
import type { CheckResult } from '../checks/result.js';
import { stageLabel, type RunReport } from './model.js';

/** One cell: the pairs of one "A -> B" direction and how they came out. */
export interface GridCell {
  expected: 'pass' | 'fail';
  /** A table cell's label (yes, no, or its is:, e.g. port forward); its pairs may then expect pass and fail. */
  label?: string;
  results: CheckResult[];
}

/** One matrix of one stage, laid out. */
export interface Grid {
  /** The stage as the table format names it: `setup`, `1. route-back`. */
  stage: string;
  name: string;
  rows: string[];
  cols: string[];
  /** The corner of the header: `from \\ to` for sources × targets, empty for a table (rows and columns as written). */
  corner: string;
  cells: Map<string, GridCell>;
}

const cellKey = (row: string, col: string) => `${row}\u0000${col}`;

/** The row and column of a result: the table's, else its source and target side. */
const placeOf = (m: NonNullable<CheckResult['matrix']>) => (m.row !== undefined && m.column !== undefined ? { row: m.row, col: m.column } : { row: m.from, col: m.to });

/** The grids of every matrix in the report, in the order their first results appear. */
export function matrixGrids(report: RunReport): Grid[] {
  const grids: Grid[] = [];
  report.stages.forEach((stage, i) => {
    const byName = new Map<string, { rows: string[]; cols: string[]; table: boolean; results: CheckResult[] }>();
    for (const r of stage.results) {
      if (!r.matrix) continue;
      const m = byName.get(r.matrix.name) ?? { rows: [], cols: [], table: r.matrix.row !== undefined, results: [] };
      byName.set(r.matrix.name, m);
      m.results.push(r);
      const { row, col } = placeOf(r.matrix);
      if (!m.rows.includes(row)) m.rows.push(row);
      if (!m.cols.includes(col)) m.cols.push(col);
    }
    for (const [name, m] of byName) {
      const cells = new Map<string, GridCell>();
      for (const r of m.results) {
        const { row, col } = placeOf(r.matrix!);
        const key = cellKey(row, col);
        const cell = cells.get(key) ?? { expected: r.expected, ...(r.matrix!.cell !== undefined ? { label: r.matrix!.cell } : {}), results: [] };
        cells.set(key, cell);
        cell.results.push(r);
      }
      // Sources × targets: rows and columns in the order the sides first appear (a side may be both); a table as written.
      const sides = [...new Set(m.results.flatMap((r) => [r.matrix!.from, r.matrix!.to]))];
      const order = (xs: string[]) => (m.table ? xs : sides.filter((l) => xs.includes(l)));
      grids.push({ stage: stageLabel(stage.name, i), name, rows: order(m.rows), cols: order(m.cols), corner: m.table ? '' : 'from \\ to', cells });
    }
  });
  return grids;
}

/** The cell at row × column, if the matrix expects anything there. */
export function gridCell(g: Grid, row: string, col: string): GridCell | undefined {
  return g.cells.get(cellKey(row, col));
}

const word = (x: 'pass' | 'fail') => (x === 'pass' ? 'yes' : 'no');

/** A cell in words: `yes ✔`, `no ✔`, `yes ✘ (got no)`, `yes ✘ (got partly 2/3)`, `yes ! (got error)`; and its state. */
export function cellText(c: GridCell): { text: string; mark: '✔' | '✘' | '!' | '-'; state: 'ok' | 'failed' | 'error' | 'skipped' } {
  const expected = c.label ?? word(c.expected);
  const bad = c.results.filter((r) => !r.ok);
  if (bad.length === 0) return { text: `${expected} ✔`, mark: '✔', state: 'ok' };
  // Not run: a gate before the matrix did not hold.
  if (bad.length === c.results.length && bad.every((r) => r.got === 'skipped')) return { text: `${expected} - (skipped)`, mark: '-', state: 'skipped' };
  const total = c.results.length;
  const onlyErrors = bad.every((r) => r.got === 'error');
  const mark = onlyErrors ? '!' : '✘';
  const state = onlyErrors ? 'error' : 'failed';
  // A cell whose pairs expect different things (a port forward: the VM's address no, the forwarded port yes).
  if (c.results.some((r) => r.expected !== c.results[0]!.expected)) {
    const errors = bad.filter((r) => r.got === 'error').length;
    const withErrors = errors > 0 ? `, ${errors} error${errors === 1 ? '' : 's'}` : '';
    return { text: `${expected} ${mark} (${bad.length} of ${total} not as expected${withErrors})`, mark, state };
  }
  const reachable = c.results.filter((r) => r.got === 'pass').length;
  const errors = c.results.filter((r) => r.got === 'error').length;
  const got = errors === total ? 'error' : reachable === total ? 'yes' : reachable === 0 ? 'no' : `partly ${reachable}/${total}`;
  const withErrors = errors > 0 && errors < total ? `, ${errors} error${errors === 1 ? '' : 's'}` : '';
  return { text: `${expected} ${mark} (got ${got}${withErrors})`, mark, state };
}
