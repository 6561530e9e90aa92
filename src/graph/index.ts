// Graph formats: one pure renderer each (mermaid.ts, dot.ts, ascii.ts), from the model in model.ts.
import { renderAscii } from './ascii.js';
import { renderDot } from './dot.js';
import { renderMermaid } from './mermaid.js';
import type { Graph } from './model.js';

export const GRAPH_FORMATS = ['ascii', 'mermaid', 'dot'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export const GRAPH_RENDERERS = { ascii: renderAscii, mermaid: renderMermaid, dot: renderDot } satisfies { [F in GraphFormat]: (g: Graph) => string };
