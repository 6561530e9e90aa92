// Format name → renderer, exhaustively: a new format must add its renderer here to compile.
import { renderCsv } from './csv.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderMatrix } from './matrix.js';
import type { RunReport } from './model.js';
import { renderTable } from './table.js';
import { renderTap } from './tap.js';

import { type Format } from './formats.js';

export { FORMATS, type Format } from './formats.js';

const RENDERERS = {
  table: (r, color) => renderTable(r, color),
  json: (r) => renderJson(r),
  junit: (r) => renderJunit(r),
  tap: (r) => renderTap(r),
  markdown: (r) => renderMarkdown(r),
  csv: (r) => renderCsv(r),
  matrix: (r, color) => renderMatrix(r, color),
} satisfies { [K in Format]: (r: RunReport, color: boolean) => string };

/** Renders a report in one format. */
export function render(format: Format, report: RunReport, color: boolean): string {
  return RENDERERS[format](report, color);
}
