// Fitting text to a terminal's width: display width, word wrapping, and shrinking a table's wrappable columns until
// the table fits. Used by the table and matrix formats; other formats are not for terminals and never wrap.

/** The width to fit: COLUMNS when set (as Python's shutil does), else the terminal's, else none (a pipe or file). */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromEnv = Number(env.COLUMNS);
  if (env.COLUMNS !== undefined && Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  if (stream.isTTY && stream.columns !== undefined && stream.columns > 0) return stream.columns;
  return undefined;
}

const SGR = /\u001b\[[0-9;]*m/g;
let segmenter: Intl.Segmenter | undefined; // made on first use: the CLI imports outputWidth for every report

/** East Asian wide and fullwidth code points (the ranges of the string-width package). */
function isWide(cp: number): boolean {
  return (
    cp >= 0x1100 &&
    (cp <= 0x115f ||
      cp === 0x2329 ||
      cp === 0x232a ||
      (cp >= 0x2e80 && cp <= 0x3247 && cp !== 0x303f) ||
      (cp >= 0x3250 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0xa4c6) ||
      (cp >= 0xa960 && cp <= 0xa97c) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe10 && cp <= 0xfe19) ||
      (cp >= 0xfe30 && cp <= 0xfe6b) ||
      (cp >= 0xff01 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1b000 && cp <= 0x1b001) ||
      (cp >= 0x1f200 && cp <= 0x1f251) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
  );
}

/** Columns one grapheme takes: 2 wide or emoji, 0 for marks and zero-width characters alone, else 1. */
function graphemeWidth(g: string): number {
  const cp = g.codePointAt(0) ?? 0;
  if (isWide(cp) || /\p{Emoji_Presentation}|\ufe0f/u.test(g)) return 2;
  if (/^[\p{Mn}\p{Me}\u200b-\u200d\ufeff]+$/u.test(g)) return 0;
  return 1;
}

/** Graphemes of a text; one per UTF-16 unit when nothing COMPLEX is in it (fast). */
function graphemes(s: string): string[] {
  if (!COMPLEX.test(s)) return s.split('');
  return Array.from((segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(s), (x) => x.segment);
}

/**
 * What needs the grapheme segmenter: marks, joiners, selectors, jamo, anything beyond the BMP. A symbol of the BMP's
 * emoji block (✔, →, ⌚) alone is one grapheme, measured without it: the segmenter costs ~20 ms to make, and every
 * report's table has ✔ and →.
 */
const COMPLEX = /[\p{M}\u200c\u200d\ufe0e\ufe0f\u1100-\u11ff\u{10000}-\u{10ffff}\ud800-\udfff]/u;

/** Columns a line of text takes on a terminal; colour codes (SGR) take none. */
export function displayWidth(s: string): number {
  const plain = s.includes('\u001b') ? s.replace(SGR, '') : s;
  let w = 0;
  if (!COMPLEX.test(plain)) {
    for (let i = 0; i < plain.length; i++) {
      const cp = plain.charCodeAt(i);
      w += cp < 0x1100 ? 1 : isWide(cp) ? 2 : cp === 0x200b || cp === 0xfeff ? 0 : cp >= 0x231a && cp <= 0x2b55 ? graphemeWidth(plain.charAt(i)) : 1;
    }
    return w;
  }
  for (const g of graphemes(plain)) w += graphemeWidth(g);
  return w;
}

/** The widest line of a multi-line text. */
export const blockWidth = (s: string): number => Math.max(0, ...s.split('\n').map(displayWidth));

/** Splits a word wider than `width`: after the last `-`, `/`, `.`, `,`, `:`, `;` or `_` that fits, else where it must. */
function splitWord(word: string, width: number): [string, string, boolean] {
  const gs = graphemes(word);
  let w = 0;
  let fit = 0;
  while (fit < gs.length && w + graphemeWidth(gs[fit] ?? '') <= width) w += graphemeWidth(gs[fit++] ?? '');
  if (fit === 0) fit = 1; // a grapheme wider than the column still has to go somewhere
  let cut = fit;
  for (let i = fit; i > 1; i--) {
    if (/^[-/.,:;_]$/.test(gs[i - 1] ?? '')) {
      cut = i;
      break;
    }
  }
  if (cut < fit / 2) cut = fit; // a break point near the start wastes the line: cut where it must
  return [gs.slice(0, cut).join(''), gs.slice(cut).join(''), cut !== fit || /^[-/.,:;_]$/.test(gs[cut - 1] ?? '')];
}

/** A line wrapped: its lines, and how badly words had to be split (a wrap to avoid when there is a choice). */
interface Wrapped {
  lines: string[];
  /** Words split: 1 for each cut inside a word, 1/4 for each after a `-`, `/`, `.`… in it. */
  splits: number;
}

/** One line (no `\n`) wrapped at spaces, to `first` columns then `rest`; words wider than that split; indentation kept. */
function wrapLine(line: string, first: number, rest = first): Wrapped {
  const out: string[] = [];
  const room = () => Math.max(1, out.length ? rest : first);
  let cur = '';
  let curWidth = 0;
  let splits = 0;
  for (const token of line.match(/\s*\S+/g) ?? []) {
    let t = token;
    let tw = displayWidth(t);
    while (t) {
      if (curWidth + tw <= room()) {
        cur += t;
        curWidth += tw;
        t = '';
      } else if (cur) {
        out.push(cur);
        cur = '';
        curWidth = 0;
        t = t.trimStart();
        tw = displayWidth(t);
      } else {
        const [head, tail, soft] = splitWord(t, room());
        out.push(head);
        splits += soft ? 0.25 : 1;
        t = tail;
        tw = displayWidth(t);
      }
    }
  }
  if (cur || !out.length) out.push(cur);
  return { lines: out.map((l) => l.trimEnd()), splits };
}

/** A multi-line text wrapped to `width`, as lines and the number of words split. */
function wrapBlock(s: string, width: number): Wrapped {
  const parts = s.split('\n').map((l) => wrapLine(l, Math.floor(width)));
  return { lines: parts.flatMap((p) => p.lines), splits: parts.reduce((n, p) => n + p.splits, 0) };
}

/** Text wrapped to `width` columns at word boundaries (words wider than that split); `\n` in the text is kept. */
export function wrapText(s: string, width: number): string {
  return wrapBlock(s, width).lines.join('\n');
}

/**
 * Prose below a table (a hint, a finding) wrapped to `width`: the first line starts with `prefix`, every other line
 * (wrapped, or a line of the text) with `indent`. No width: only the text's own lines, each after its lead.
 */
export function wrapWithPrefix(prefix: string, text: string, width: number | undefined, indent = '  '): string {
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    const lead = i === 0 ? prefix : indent;
    if (width === undefined) {
      out.push(lead + l);
      return;
    }
    const { lines } = wrapLine(l, width - displayWidth(lead), width - displayWidth(indent));
    out.push(...lines.map((x, j) => (j === 0 ? lead : indent) + x));
  });
  return out.join('\n');
}

/** Columns box.ts adds around the cells of a row of `n` columns: a border each side and one space of padding. */
export const tableOverhead = (n: number): number => 3 * n + 1;

export interface ColumnSpec {
  /** Whether the column may wrap (long text) or stays whole (short values: expected, time, a mark). */
  wrap: boolean;
  /** Narrowest the column may get when it wraps. */
  min: number;
}

/** What splitting one word costs, in lines of table: a little more than a line, so words split only when they must. */
const SPLIT_COST = 2;

/** Rows the column widths are weighed on, at most. */
const SAMPLE = 64;

/**
 * The widths to wrap a table's columns to so that the table (`rows`, the header first) fits `width`. One column
 * at a time gives up one character of width: the wrappable column where that adds the fewest lines to the table
 * (a word split counting extra), the widest on a tie; until the rows fit or every wrappable column is at its
 * minimum (then the table is as narrow as it gets). Columns that stay whole keep their widest cell's width.
 */
export function columnWidths(all: readonly (readonly string[])[], specs: readonly ColumnSpec[], width: number): number[] {
  const n = specs.length;
  // Widths are weighed on at most SAMPLE rows (the header and rows evenly spread): a long report fits as fast as a short one.
  const stride = Math.max(1, Math.ceil(all.length / SAMPLE));
  const rows = all.filter((_, r) => r === 0 || r % stride === 0);
  const wraps = (c: number) => specs[c]?.wrap === true;
  const natural = specs.map((_, c) => Math.max(0, ...all.map((r) => blockWidth(r[c] ?? ''))));
  const fixed = natural.reduce((sum, w, c) => sum + (wraps(c) ? 0 : w), 0);
  const room = width - tableOverhead(n) - fixed;
  // A column wider than all the room there is would only be shrunk step by step to below it: start it there.
  const widths = natural.map((w, c) => (wraps(c) ? Math.max(Math.min(w, room), Math.min(w, specs[c]?.min ?? 1)) : w));
  // Per column and width: each row's line count, and the column's split cost (each width wrapped once).
  const cache = specs.map(() => new Map<number, { lines: number[]; splits: number }>());
  const at = (c: number, w: number) => {
    let v = cache[c]?.get(w);
    if (!v) {
      const ws = rows.map((r) => wrapBlock(r[c] ?? '', w));
      v = { lines: ws.map((x) => x.lines.length), splits: ws.reduce((sum, x) => sum + x.splits, 0) };
      cache[c]?.set(w, v);
    }
    return v;
  };
  const wrapping = [...Array(n).keys()].filter(wraps);
  /** Lines of the table plus split costs, with column `c` at width `w` and the others as they are. */
  const cost = (c: number, w: number): number => {
    const cols = wrapping.map((k) => (k === c ? at(k, w) : at(k, widths[k] ?? 1)));
    let total = cols.reduce((sum, x) => sum + x.splits * SPLIT_COST, 0);
    for (let r = 0; r < rows.length; r++) total += Math.max(1, ...cols.map((x) => x.lines[r] ?? 1));
    return total;
  };
  let over = widths.reduce((a, b) => a + b, 0) + tableOverhead(n) - width;
  while (over > 0) {
    // Far from fitting, columns give up several characters at a time (as many iterations, fewer wraps).
    const step = Math.max(1, Math.floor(over / (2 * wrapping.length)));
    let pick = -1;
    let best = Infinity;
    for (const c of wrapping) {
      const w = widths[c] ?? 0;
      const floor = Math.min(specs[c]?.min ?? 1, natural[c] ?? 0);
      if (w <= floor) continue;
      const k = cost(c, Math.max(floor, w - step));
      if (k < best || (k === best && w > (widths[pick] ?? 0))) {
        best = k;
        pick = c;
      }
    }
    if (pick < 0) break;
    const was = widths[pick] ?? 1;
    widths[pick] = Math.max(Math.min(specs[pick]?.min ?? 1, natural[pick] ?? 0), was - step);
    over -= was - (widths[pick] ?? 0);
  }
  return widths;
}

/**
 * Rows (the header first) with every wrappable cell wrapped so the table fits `width` (none: unchanged). Cells
 * are plain text: colour goes on after fitting, line by line.
 */
export function fitRows(rows: readonly (readonly string[])[], specs: readonly ColumnSpec[], width: number | undefined): string[][] {
  if (width === undefined) return rows.map((r) => [...r]);
  const widths = columnWidths(rows, specs, width);
  return rows.map((r) => r.map((cell, c) => (specs[c]?.wrap ? wrapText(cell, widths[c] ?? 1) : cell)));
}
