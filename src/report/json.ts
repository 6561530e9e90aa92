// JSON renderer: the RunReport as is (schemaVersion tells readers which shape they have), with nothing in it that a
// terminal or viewer would act on.
import type { RunReport } from './model.js';

/**
 * Characters JSON.stringify leaves raw that a terminal or editor acts on: DEL and C1 (U+009B is an 8-bit CSI), line
 * and paragraph separators, bidirectional overrides and isolates, and the non-characters U+FFFE/U+FFFF. (It already
 * escapes C0 controls, quotes, backslashes and lone surrogates.)
 */
const RAW = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]/g;

/**
 * A value as indented JSON whose strings carry those characters as `\uXXXX` escapes: they can only occur inside
 * strings, so the escape is lossless — JSON.parse gives back exactly the same value.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The report as JSON (lossless: JSON.parse gives the report back). */
export function renderJson(report: RunReport): string {
  return jsonText(report) + '\n';
}
