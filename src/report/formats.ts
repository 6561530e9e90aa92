// The report formats, apart from their renderers so the CLI can list them without loading any renderer.

export const FORMATS = ['table', 'json', 'junit', 'tap', 'markdown', 'csv', 'matrix'] as const;
export type Format = (typeof FORMATS)[number];

/** How a report is rendered: colour (terminal only), and the width to fit (table and matrix; none: no limit). */
export interface RenderOptions {
  color: boolean;
  width?: number | undefined;
}
