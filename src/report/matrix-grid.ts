// The grids of a report's matrices: per stage and matrix name, rows = source sides, columns = target sides, each
// cell summing up its pairs (expected yes/no against what they got). Shared by the matrix, table and markdown formats.
import type { CheckResult } from '../checks/result.js';
import { stageLabel, type RunReport } from './model.js';

/** One cell: the pairs of one "A -> B" direction and how they came out. */
export interface GridCell {
  expected: 'pass' | 'fail';
  results: CheckResult[];
}

/** One matrix of one stage, laid out. */
export interface Grid {
  /** The stage as the table format names it: `setup`, `1. route-back`. */
  stage: string;
  name: string;
  rows: string[];
  cols: string[];
  cells: Map<string, GridCell>;
}

const cellKey = (row: string, col: string) => `${row}\u0000${col}`;

/** The grids of every matrix in the report, in the order their first results appear. */
export function matrixGrids(report: RunReport): Grid[] {
  const grids: Grid[] = [];
  report.stages.forEach((stage, i) => {
    const byName = new Map<string, { labels: string[]; results: CheckResult[] }>();
    for (const r of stage.results) {
      if (!r.matrix) continue;
      const m = byName.get(r.matrix.name) ?? { labels: [], results: [] };
      byName.set(r.matrix.name, m);
      m.results.push(r);
      for (const side of [r.matrix.from, r.matrix.to]) if (!m.labels.includes(side)) m.labels.push(side);
    }
    for (const [name, m] of byName) {
      const cells = new Map<string, GridCell>();
      for (const r of m.results) {
        const key = cellKey(r.matrix!.from, r.matrix!.to);
        const cell = cells.get(key) ?? { expected: r.expected, results: [] };
        cells.set(key, cell);
        cell.results.push(r);
      }
      const rows = m.labels.filter((l) => m.results.some((r) => r.matrix!.from === l));
      const cols = m.labels.filter((l) => m.results.some((r) => r.matrix!.to === l));
      grids.push({ stage: stageLabel(stage.name, i), name, rows, cols, cells });
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
export function cellText(c: GridCell): { text: string; mark: '✔' | '✘' | '!'; state: 'ok' | 'failed' | 'error' } {
  const expected = word(c.expected);
  const bad = c.results.filter((r) => !r.ok);
  if (bad.length === 0) return { text: `${expected} ✔`, mark: '✔', state: 'ok' };
  const total = c.results.length;
  const reachable = c.results.filter((r) => r.got === 'pass').length;
  const errors = c.results.filter((r) => r.got === 'error').length;
  const got = errors === total ? 'error' : reachable === total ? 'yes' : reachable === 0 ? 'no' : `partly ${reachable}/${total}`;
  const withErrors = errors > 0 && errors < total ? `, ${errors} error${errors === 1 ? '' : 's'}` : '';
  const onlyErrors = bad.every((r) => r.got === 'error');
  const mark = onlyErrors ? '!' : '✘';
  return { text: `${expected} ${mark} (got ${got}${withErrors})`, mark, state: onlyErrors ? 'error' : 'failed' };
}
