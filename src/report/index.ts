// Format name → renderer, exhaustively: a new format must add its renderer here to compile. Each renderer's module is
// loaded only when its format is asked for (junit-report-builder and yaml cost tens of ms to load).
import type { RunReport } from './model.js';
import type { Format, RenderOptions } from './formats.js';

export { FORMATS, type Format, type RenderOptions } from './formats.js';

type Renderer = (r: RunReport, opts: RenderOptions) => string;

const RENDERERS = {
  table: async () => (await import('./table.js')).renderTable,
  json: async () => (await import('./json.js')).renderJson,
  junit: async () => (await import('./junit.js')).renderJunit,
  tap: async () => (await import('./tap.js')).renderTap,
  markdown: async () => (await import('./markdown.js')).renderMarkdown,
  csv: async () => (await import('./csv.js')).renderCsv,
  matrix: async () => (await import('./matrix.js')).renderMatrix,
} satisfies { [K in Format]: () => Promise<Renderer> };

/** Renders a report in one format. */
export async function render(format: Format, report: RunReport, opts: RenderOptions): Promise<string> {
  return (await RENDERERS[format]())(report, opts);
}
