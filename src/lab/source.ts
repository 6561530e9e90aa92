// A parsed YAML document that can say where any dotted path of the lab file is (line and column).
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Problem } from '../errors.js';

export type Path = readonly (string | number)[];

/** The parsed text of one lab file plus the means to point at a path in it. */
export class LabSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();
  constructor(readonly file: string, readonly text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** Syntax errors from the YAML parser, as problems. */
  syntaxProblems(): Problem[] {
    return this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0]);
      const message = e.message.split('\n')[0] ?? e.message;
      return {
        file: this.file,
        line: pos.line,
        col: pos.col,
        path: '',
        message: `YAML: ${message}`,
        hint: e.code === 'DUPLICATE_KEY' ? 'each name may appear once in a map' : 'check indentation and quoting near this line',
      };
    });
  }

  /** Line and column of the value at `path`, or of its key when `key` is set; falls back to the deepest existing parent. */
  locate(path: Path, key = false): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        if (last && key) {
          offset = rangeStart(pair.key) ?? offset;
          break;
        }
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        node = item;
      } else break;
      offset = rangeStart(node) ?? offset;
    }
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  }

  /** Builds a problem at `path` (pointing at the key when `key`). */
  problem(path: Path, message: string, hint?: string, key = false): Problem {
    const { line, col } = this.locate(path, key);
    return { file: this.file, line, col, path: dotted(path), message, ...(hint ? { hint } : {}) };
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

/** `['links', 0, 'endpoints', 1]` → `links[0].endpoints[1]`. */
export function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
