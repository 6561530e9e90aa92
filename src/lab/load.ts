// Reads a lab file: YAML with positions → schema → normalize → rules. Throws ValidationError with every problem of every pass.
import type { z } from 'zod';
import { ValidationError, type Problem } from '../errors.js';
import { limitProblems, readLabText } from './limits.js';
import { normalize } from './normalize.js';
import { Dropped } from './dropped.js';
import { parseValidPart } from './repair.js';
import { checkRules } from './rules.js';
import { allowedKeys } from './schema-walk.js';
import { LabSchema, MatrixCheckSchema } from './schema.js';
import { LabSource, type Path } from './source.js';
import type { Lab } from './types.js';

/** Zod issues as located problems in `src` (`schema`: the one that produced them, for the "allowed keys" hint). */
export function schemaProblems(src: LabSource, data: unknown, issues: z.core.$ZodIssue[], schema: z.ZodType = LabSchema): Problem[] {
  const out: Problem[] = [];
  for (const iss of issues) {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) {
        out.push(src.problem([...path, k], `unknown key "${k}"`, allowedKeysHint(data, path, schema), true));
      }
      continue;
    }
    if (iss.code === 'invalid_key') {
      const inner = iss.issues[0];
      out.push(src.problem(path, inner?.message ?? iss.message, undefined, true));
      continue;
    }
    // zod adds "at most 2^53-1" beside the schema's own, tighter bound (port <= 65535): say only the tighter one.
    if (iss.code === 'too_big' && issues.some((o) => o !== iss && o.code === 'too_big' && Number(o.maximum) < Number(iss.maximum) && JSON.stringify(o.path) === JSON.stringify(iss.path))) continue;
    const value = pathValue(data, path);
    let message = iss.message;
    // A custom issue may carry its hint (e.g. a sysctl's allowed values).
    let hint: string | undefined = iss.code === 'custom' && typeof iss.params?.hint === 'string' ? iss.params.hint : undefined;
    if (iss.code === 'invalid_type' && value === undefined) message = `missing required key "${String(path.at(-1))}"`;
    else if (iss.code === 'invalid_type') message = `expected ${iss.expected}, got ${describe(value)}`;
    else if (iss.code === 'invalid_value') {
      message = `invalid value ${JSON.stringify(value)}`;
      hint = `allowed: ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    out.push(src.problem(path, message, hint, value === undefined));
  }
  return out;
}

function pathValue(data: unknown, path: Path): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** The "allowed keys here" hint, read from the schema at that path (for a check or device: the keys of its kind). */
export function allowedKeysHint(data: unknown, path: Path, schema: z.ZodType = LabSchema): string {
  const keys = allowedKeys(schema, data, path);
  return keys ? `allowed keys here: ${keys.join(', ')}` : 'see docs/lab-format.md for the keys allowed here';
}

/** An invalid lab or step name does not take the lab or step with it: nothing refers to it, so a stand-in will do. */
function namePlaceholder(path: Path): string | undefined {
  if (path.length === 1 && path[0] === 'name') return 'invalid-name';
  if (path.length === 3 && path[0] === 'steps' && typeof path[1] === 'number' && path[2] === 'name') return `invalid-step-name-${path[1] + 1}`;
  return undefined;
}

/** Matrix groups and keys refer to each other: a matrix with a problem is left out whole. */
const WHOLE = new Set<z.core.$ZodType>([MatrixCheckSchema]);

/**
 * Parses and validates lab text; returns the model or throws ValidationError listing every problem. A YAML syntax
 * error stops here (the document cannot be trusted); schema problems do not: the items they are in are left out,
 * and normalize and the rules run on the valid rest, silent about what only follows from a left-out item.
 */
export function parseLab(text: string, file: string): Lab {
  const src = new LabSource(file, text);
  const syntax = src.syntaxProblems();
  if (syntax.length) throw new ValidationError(syntax);
  const data: unknown = src.toJS() ?? {};
  const pass = parseValidPart(LabSchema, data, { whole: WHOLE, placeholder: namePlaceholder });
  const problems = schemaProblems(src, data, pass.issues);
  if (pass.value === undefined) throw new ValidationError(sortProblems(problems));
  // The limits bound the work of the passes after this one: a lab beyond one stops here.
  const limits = limitProblems(src, pass.value);
  if (limits.length) throw new ValidationError(sortProblems([...problems, ...limits]));
  const lab = normalize(pass.value, file);
  const dropped = Dropped.from(pass.dropped, data);
  // What the rules say about an item as a whole may only follow from a key left out of it (a route with neither via
  // nor dev, whose via was no address or was misspelt `gateway:`): not reported.
  // Nor is a key's absence when the key was there but left out.
  const lostKeys = new Set(pass.dropped.map((p) => JSON.stringify(p.slice(0, -1))));
  const lost = new Set(pass.dropped.map((p) => JSON.stringify(p)));
  for (const p of checkRules(lab, dropped)) {
    const at = pass.original(p.at);
    if (lostKeys.has(JSON.stringify(at)) || (p.absent && lost.has(JSON.stringify(pass.original(p.absent))))) continue;
    problems.push(src.problem(at, p.message, p.hint, p.key ?? false));
  }
  if (problems.length) throw new ValidationError(sortProblems(problems));
  return lab;
}

/** Reads and validates a lab file. */
export async function loadLabFile(file: string): Promise<Lab> {
  return parseLab(await readLabText(file), file);
}

export function sortProblems(ps: Problem[]): Problem[] {
  return ps.sort((a, b) => a.line - b.line || a.col - b.col);
}
