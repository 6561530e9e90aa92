// What validation says about a lab text, for unit tests: the problems parseLab throws, [] when the lab is valid.
// Anything other than a ValidationError (an internal error) is thrown on, so a test cannot mistake it for a problem.
import { ValidationError, type Problem } from '../../../src/errors.js';
import { parseLab } from '../../../src/lab/load.js';

/** Every problem of a lab text; [] when it is valid. */
export function problemsOf(text: string, file = 'lab.yaml'): Problem[] {
  try {
    parseLab(text, file);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems;
  }
}

/** `LINE:COL  PATH  MESSAGE` of every problem of a lab text; [] when it is valid. */
export function problemLines(text: string, file = 'lab.yaml'): string[] {
  return problemsOf(text, file).map((p) => `${p.line}:${p.col}  ${p.path}  ${p.message}`);
}
