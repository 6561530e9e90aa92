// A parsed YAML document that can say where any dotted path of the lab file is (line and column).
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Problem } from '../errors.js';

export type Path = readonly (string | number)[];

/** The parsed text of one lab file plus the means to point at a path in it. */
export class LabSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();
  constructor(readonly file: string, readonly text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** Syntax errors from the YAML parser, and aliases with no anchor before them, as problems. */
  syntaxProblems(): Problem[] {
    return [...this.parseErrors(), ...this.unresolvedAliases()];
  }

  /**
   * Aliases (`*name`) with no anchor (`&name`) before them: the parser accepts them, but turning the document into
   * data throws a ReferenceError — netlab's internal error — so they are problems here, at the alias.
   */
  private unresolvedAliases(): Problem[] {
    const out: Problem[] = [];
    visit(this.doc, {
      Alias: (_, alias, ancestors) => {
        if (alias.resolve(this.doc)) return;
        const pos = this.lines.linePos(alias.range?.[0] ?? 0);
        const chain = [...ancestors, alias];
        const path = chain.flatMap<string | number>((n, i) =>
          isPair(n) && isScalar(n.key) ? [String(n.key.value)] : isSeq(n) ? [n.items.indexOf(chain[i + 1] as never)] : [],
        );
        out.push({
          file: this.file,
          line: pos.line,
          col: pos.col,
          path: dotted(path),
          message: `YAML: alias *${alias.source} has no anchor &${alias.source} before it`,
          hint: 'define the anchor (&name) before the alias (*name), or quote the value if * is meant literally',
        });
      },
    });
    return out;
  }

  private parseErrors(): Problem[] {
    return this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0]);
      const dup = e.code === 'DUPLICATE_KEY' ? this.keyAt(e.pos[0]) : undefined;
      const message = dup ? `duplicate key "${String(dup.at(-1))}": map keys must be unique` : (e.message.split('\n')[0] ?? e.message);
      return {
        file: this.file,
        line: pos.line,
        col: pos.col,
        path: dup ? dotted(dup) : '',
        message: `YAML: ${message}`,
        hint: e.code === 'DUPLICATE_KEY' ? 'each name may appear once in a map' : 'check indentation and quoting near this line',
      };
    });
  }

  /** The path of the map key whose text starts at `offset` (the YAML parser reports duplicate keys by offset). */
  private keyAt(offset: number): Path | undefined {
    let found: Path | undefined;
    visit(this.doc, {
      Pair: (_, pair, ancestors) => {
        if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return undefined;
        const chain = [...ancestors, pair];
        found = chain.flatMap<string | number>((n, i) =>
          isPair(n) && isScalar(n.key) ? [String(n.key.value)] : isSeq(n) ? [n.items.indexOf(chain[i + 1] as never)] : [],
        );
        return visit.BREAK;
      },
    });
    return found;
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
