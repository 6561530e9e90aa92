// Text from a lab file or a tool's output made inert for a terminal, a log or a file viewer: every character that
// could move the cursor, recolour, retitle the window, end a line or reorder text is shown as a visible escape.
// Every report renderer, progress, `show`/`list` and the evidence text files pass such text through `printable`;
// it lives outside the stages (as errors.ts does) because runner/, checks/ and report/ all need it.

/**
 * What is escaped: C0 controls (U+0000–U+001F) but the ones a format keeps, DEL and C1 (U+007F–U+009F; U+009B is an
 * 8-bit CSI), the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069: "Trojan Source"),
 * the invisible direction marks and the byte-order mark (U+061C, U+200E, U+200F, U+FEFF), the Unicode line and
 * paragraph separators (U+2028, U+2029), the non-characters U+FFFE and U+FFFF and lone
 * surrogates (none of which XML 1.0 allows).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]|[\ud800-\udfff]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One unsafe character as a visible escape: `\n`, `\r`, `\t`, `\x1b`, `\x7f`, `\x9b`, `\u202e`. */
export function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * `s` with every unsafe character (above) shown as a visible escape, e.g. ESC as `\x1b`, RLO as `\u202e`, a newline
 * as `\n`. `keep` names the characters the format needs raw, e.g. `'\n'` for multi-line text (hints, evidence),
 * `'\n\t'` for program output in a block. Other text, backslashes included, is left as it is.
 */
export function printable(s: string, keep = ''): string {
  return s.replace(UNSAFE, (c) => (keep.includes(c) ? c : escapeChar(c)));
}

/** Whether `s` holds nothing `printable` would change (with the same `keep`). */
export function isPrintable(s: string, keep = ''): boolean {
  return printable(s, keep) === s;
}
