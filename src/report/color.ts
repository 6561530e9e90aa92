// Colour only for a terminal that wants it: never when not a TTY, with NO_COLOR, or TERM=dumb; FORCE_COLOR forces it.
import type { CheckResult } from '../checks/result.js';
import { markOf } from './model.js';

/** Whether to colour output written to `stream`. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const wrap = (code: number, reset: number) => (on: boolean, s: string) => (on ? `\u001b[${code}m${s}\u001b[${reset}m` : s);
export const green = wrap(32, 39);
export const red = wrap(31, 39);
export const yellow = wrap(33, 39);
export const dim = wrap(2, 22);
export const bold = wrap(1, 22);
export const grey = wrap(90, 39);

/** `paint` applied to each line of `s` on its own, so a wrapped or multi-line text keeps its colour on every line. */
export function paintLines(paint: (on: boolean, s: string) => string, on: boolean, s: string): string {
  return on ? s.split('\n').map((l) => (l ? paint(on, l) : l)).join('\n') : s;
}

/** A result's mark (✔ as expected, ! could not run, - skipped, ✘ not as expected) in its colour. */
export function paintMark(on: boolean, r: Pick<CheckResult, 'ok' | 'got'>): string {
  const m = markOf(r);
  return m === '✔' ? green(on, m) : m === '!' ? yellow(on, m) : m === '-' ? dim(on, m) : red(on, m);
}
