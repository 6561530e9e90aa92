// Reads a TAP report back with tap-parser (strict), for the tests of the TAP renderer.
import { Parser, type FinalResults, type Result } from 'tap-parser';

/** The parser's final results and every test point of `tap`. */
export function parseTap(tap: string): { results: FinalResults; points: Result[] } {
  const points: Result[] = [];
  let results: FinalResults | undefined;
  const p = new Parser({ strict: true }, (r) => (results = r));
  p.on('assert', (r: Result) => points.push(r));
  p.end(tap);
  if (!results) throw new Error('tap-parser did not complete');
  return { results, points };
}
