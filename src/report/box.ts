// A box-drawn table (the look cli-table3 gives, without its cost: it measures every cell again for every other one,
// seconds for a few hundred wrapped rows). Cells may hold several lines and colour codes; widths come from fit.ts.
import { grey } from './color.js';
import { blockWidth, displayWidth } from './fit.js';

/** `s` padded with spaces to `width` display columns. */
const pad = (s: string, width: number): string => s + ' '.repeat(Math.max(0, width - displayWidth(s)));

/**
 * Head and rows as a table: a border around, one space each side of a cell, a rule under the head, no rules between
 * rows; a multi-line cell makes its row that many lines high. With `color`, borders are grey and the head bold.
 */
export function drawTable(head: readonly string[], rows: readonly (readonly string[])[], color: boolean): string {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(0, ...all.map((r) => blockWidth(r[c] ?? ''))));
  const rule = (l: string, m: string, r: string) => grey(color, l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r);
  const bar = grey(color, '│');
  const lines = (cells: readonly string[], bold: boolean): string[] => {
    const split = widths.map((_, c) => (cells[c] ?? '').split('\n'));
    const height = Math.max(1, ...split.map((l) => l.length));
    return Array.from({ length: height }, (_, k) =>
      bar + split.map((l, c) => ` ${pad(bold && color && l[k] ? `\u001b[1m${l[k]}\u001b[22m` : (l[k] ?? ''), widths[c] ?? 0)} `).join(bar) + bar,
    );
  };
  return [rule('┌', '┬', '┐'), ...lines(head, true), rule('├', '┼', '┤'), ...rows.flatMap((r) => lines(r, false)), rule('└', '┴', '┘')].join('\n');
}
