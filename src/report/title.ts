// The first line of the table and matrix formats: the lab's title, then (lab, instance), fitted to the width.
import { bold, dim, paintLines } from './color.js';
import { displayWidth, wrapText } from './fit.js';
import type { RunReport } from './model.js';
import { printable } from '../printable.js';

/** The title line: title and (lab, instance) on one line, or the second part on its own line(s) when it does not fit. */
export function titleLines(report: RunReport, color: boolean, width: number | undefined): string {
  const title = printable(report.title);
  const where = `(lab ${printable(report.lab)}, instance ${printable(report.instance)})`;
  if (width === undefined || displayWidth(`${title}  ${where}`) <= width) return bold(color, title) + dim(color, `  ${where}`);
  return paintLines(bold, color, wrapText(title, width)) + '\n' + paintLines(dim, color, wrapText(where, width));
}
