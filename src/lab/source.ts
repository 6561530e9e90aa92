// A parsed YAML document that can say where any dotted path of the lab file is (line and column). Parsing is
// bounded: nesting deeper than FIXED_LIMITS.nesting, aliases that expand past the aliases limit, alias cycles,
// unresolved aliases and duplicate or non-scalar keys are located problems, never an exception or a stack overflow.
import { Composer, Document, isAlias, isCollection, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, type Node } from 'yaml';
import type { Problem } from '../errors.js';
import { activeLimits, FIXED_LIMITS, formatLimit, raiseHint, type Limits } from './limits.js';

export type Path = readonly (string | number)[];

/** The parsed text of one lab file plus the means to point at a path in it. */
export class LabSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();
  /** Problems found while parsing that the YAML library does not report: nesting, aliases, keys. */
  private readonly shape: Problem[] = [];
  constructor(readonly file: string, readonly text: string, limits: Limits = activeLimits()) {
    const bytes = Buffer.byteLength(text);
    const nested: ReturnType<LabSource['parseBounded']> =
      bytes > limits['file-size']
        ? { problem: { file, line: 1, col: 1, path: '', message: `lab file is ${bytes} bytes; the limit is ${formatLimit('file-size', limits['file-size'])}`, hint: raiseHint('file-size', bytes) } }
        : this.parseBounded();
    if (nested.problem) {
      this.doc = new Document(null);
      this.shape.push(nested.problem);
    } else {
      this.doc = nested.doc;
      if (!this.doc.errors.length && !this.shape.length) this.shape.push(...new ShapeWalk(this, limits).run());
    }
  }

  /**
   * parseDocument, except that the CST parser's stack is watched token by token: input nested deeper than
   * FIXED_LIMITS.nesting stops there, before the (recursive) composer could overflow the stack.
   */
  private parseBounded(): { doc: Document; problem?: undefined } | { problem: Problem } {
    const parser = new Parser(this.lines.addNewLine);
    this.lines.addNewLine(0);
    const tokens = [];
    for (const lexeme of new Lexer().lex(this.text)) {
      for (const token of parser.next(lexeme)) tokens.push(token);
      // The stack holds the document and each open collection (a block map and its value's collection count once each).
      if (parser.stack.length - 1 > FIXED_LIMITS.nesting) {
        const at = this.lines.linePos(Math.max(0, parser.offset - lexeme.length));
        return {
          problem: {
            file: this.file,
            line: at.line,
            col: at.col,
            path: '',
            message: `YAML: collections nested more than ${FIXED_LIMITS.nesting} deep`,
            hint: `no lab needs more than a few levels (the built-in ones use 8); this limit is fixed`,
          },
        };
      }
    }
    for (const token of parser.end()) tokens.push(token);
    const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
    let doc: Document | undefined;
    for (const d of composer.compose(tokens, true, this.text.length)) {
      if (!doc) doc = d as Document;
      else {
        doc.errors.push(...(d as Document).errors);
        this.shape.push(this.problemAt(d.range[0], 'YAML: a lab file holds one document; this is a second one (after ---)', 'remove the --- line, or split the file'));
        break;
      }
    }
    return { doc: doc ?? new Document(null) };
  }

  /** Syntax errors from the YAML parser and the bounded parse (nesting, aliases, keys), as problems. */
  syntaxProblems(): Problem[] {
    const parser = this.doc.errors.map((e) => this.problemAt(e.pos[0], `YAML: ${e.message.split('\n')[0] ?? e.message}`, 'check indentation and quoting near this line'));
    return [...parser, ...this.shape];
  }

  /** The plain data of the document. Call only without syntax problems: aliases are then bounded and acyclic. */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: -1 });
  }

  /** A problem at a character offset of the text, with no path. */
  problemAt(offset: number, message: string, hint?: string, path: Path = []): Problem {
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col, path: dotted(path), message, ...(hint ? { hint } : {}) };
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

/**
 * One walk over the document in text order: each alias must name an anchor set before it and outside itself (no
 * cycle), and together the aliases may add at most `limits.aliases` values; map keys are plain values, each once.
 * Stops at the first alias problem (the sizes after it would mean nothing).
 */
class ShapeWalk {
  private readonly anchors = new Map<string, Node>();
  private readonly sizes = new Map<Node, number>();
  private readonly open = new Set<Node>();
  private added = 0;
  private readonly out: Problem[] = [];
  private stop = false;
  constructor(private readonly src: LabSource, private readonly limits: Limits) {}

  run(): Problem[] {
    if (this.src.doc.contents) this.size(this.src.doc.contents as Node, []);
    return this.out;
  }

  /** The number of values `node` stands for once every alias in it is expanded. */
  private size(node: Node, path: Path): number {
    if (this.stop) return 0;
    if (isAlias(node)) return this.alias(node, path);
    if (node.anchor) this.anchors.set(node.anchor, node);
    let n = 1;
    if (isCollection(node)) {
      this.open.add(node);
      const keys = new Set<string>();
      node.items.forEach((item, i) => {
        if (!isPair(item)) {
          n += item === null ? 1 : this.size(item as Node, [...path, i]);
          return;
        }
        const key = item.key as Node | null;
        const name = isScalar(key) ? String(key.value) : undefined;
        if (isMap(node) && key !== null && name === undefined) {
          this.out.push(this.at(key, 'YAML: a map key must be a plain value (a name), not a list, map or alias', 'write the key as a name', path));
        } else if (name !== undefined && keys.has(name)) {
          this.out.push(this.at(key!, `YAML: duplicate key "${name}": map keys must be unique`, 'each name may appear once in a map', [...path, name]));
        }
        if (name !== undefined) keys.add(name);
        if (key !== null) n += this.size(key, path);
        n += item.value === null ? 1 : this.size(item.value as Node, isSeq(node) ? [...path, i] : [...path, name ?? i]);
      });
      this.open.delete(node);
    }
    // Only an alias reads a size, and only its anchor's.
    if (node.anchor) this.sizes.set(node, n);
    return n;
  }

  private alias(node: Node & { source: string }, path: Path): number {
    const target = this.anchors.get(node.source);
    if (!target) {
      this.fail(node, `YAML: alias *${node.source} has no anchor &${node.source} before it`, 'set the anchor (&name) on a value above the alias', path);
      return 0;
    }
    if (this.open.has(target)) {
      this.fail(node, `YAML: alias *${node.source} is inside the value it refers to (a cycle)`, 'an alias may only repeat a value that is complete before it', path);
      return 0;
    }
    const n = this.sizes.get(target) ?? 0;
    this.added += n;
    if (this.added > this.limits.aliases) {
      this.fail(node, `YAML: aliases expand to more than ${this.limits.aliases} values (*${node.source} adds ${n}); the limit is ${this.limits.aliases}`, raiseHint('aliases', this.added), path);
    }
    return n;
  }

  private fail(node: Node, message: string, hint: string, path: Path): void {
    this.out.push(this.at(node, message, hint, path));
    this.stop = true;
  }

  private at(node: Node, message: string, hint: string, path: Path): Problem {
    return this.src.problemAt(rangeStart(node) ?? 0, message, hint, path);
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

/** `['links', 0, 'endpoints', 1]` → `links[0].endpoints[1]`. */
export function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
