// The schema pass that keeps going: every schema problem of a file, and the schema-valid rest of it (the invalid
// items left out), so that normalize and the rules can run on what is valid and report their problems too.
import type { z } from 'zod';
import { dropUnit } from './schema-walk.js';
import type { Path } from './source.js';

/** What the schema made of a document. */
export interface SchemaPass<T> {
  /** Every schema issue, with its path as written in the file (not counting issues that only follow from a left-out item). */
  issues: z.core.$ZodIssue[];
  /** The valid rest, parsed; undefined when no item short of the whole document could be left out to make it valid. */
  value?: T;
  /** The items left out, as paths in the file. */
  dropped: Path[];
  /** Maps a path in `value` (whose lists lack their left-out elements) to the path in the file. */
  original: (p: Path) => Path;
}

export interface RepairOptions {
  /** Items of these schemas are left out whole when anything inside them is invalid. */
  whole?: ReadonlySet<z.core.$ZodType>;
  /**
   * A value put in for an invalid or missing required key instead of leaving out what holds it (the lab's name, a
   * step's name: nothing refers to them, and everything else in the step can still be checked); undefined: none.
   */
  placeholder?: (path: Path) => unknown;
}

/** Rounds of leaving out and parsing again: each goes one level up at least, so this bounds the nesting it needs. */
const MAX_ROUNDS = 16;

const keyOf = (p: Path): string => JSON.stringify(p);
const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses `data` with `schema`; when it finds problems, leaves out the smallest enclosing item of each (see dropUnit)
 * and parses again, until the rest is valid. Problems the schema only reports because an item was left out (a
 * required key now missing, a tuple now short) are not reported.
 */
export function parseValidPart<T>(schema: z.ZodType<T>, data: unknown, opts: RepairOptions = {}): SchemaPass<T> {
  const drop = new Map<string, Path>();
  /** Placeholders by the path of the object they go in: key → value. */
  const place = new Map<string, Map<string, unknown>>();
  const placed: Path[] = [];
  const issues: z.core.$ZodIssue[] = [];
  const seen = new Set<string>();
  let original: (p: Path) => Path = (p) => p;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const index = new Map<string, number[]>();
    const value = prune(data, [], drop, place, index);
    original = (p) => toOriginal(p, index);
    const parsed = schema.safeParse(value);
    if (parsed.success) return { issues, value: parsed.data, dropped: [...drop.values()], original };
    let stuck = false;
    // Every left-out path and its ancestors: a problem there may only follow from leaving something out.
    const above = new Set<string>();
    for (const d of [...drop.values(), ...placed]) for (let i = 0; i <= d.length; i++) above.add(keyOf(d.slice(0, i)));
    for (const iss of parsed.error.issues) {
      const at = original(iss.path.filter((s): s is string | number => typeof s !== 'symbol'));
      const consequence = round > 0 && above.has(keyOf(at));
      const id = `${iss.code} ${keyOf(at)} ${iss.message}`;
      if (!consequence && !seen.has(id)) {
        seen.add(id);
        issues.push({ ...iss, path: [...at] } as z.core.$ZodIssue);
      }
      const targets: Path[] = iss.code === 'unrecognized_keys' ? iss.keys.map((k) => [...at, k]) : [at];
      for (const t of targets) {
        const value = consequence ? undefined : opts.placeholder?.(t);
        const key = t.at(-1);
        const slot = typeof key === 'string' ? place.get(keyOf(t.slice(0, -1))) : undefined;
        if (value !== undefined && typeof key === 'string' && !slot?.has(key)) {
          place.set(keyOf(t.slice(0, -1)), (slot ?? new Map<string, unknown>()).set(key, value));
          placed.push(t);
          continue;
        }
        const unit = nextUnit(schema, data, t, drop, opts.whole);
        if (unit !== undefined) drop.set(keyOf(unit), unit);
        else stuck = true;
      }
    }
    if (stuck) break;
  }
  return { issues, dropped: [...drop.values()], original };
}

/** The item to leave out for a problem at `path`: its drop unit, or the next one up when that is already out. */
function nextUnit(schema: z.core.$ZodType, data: unknown, path: Path, drop: ReadonlyMap<string, Path>, whole?: ReadonlySet<z.core.$ZodType>): Path | undefined {
  for (let p = path; p.length > 0; p = p.slice(0, -1)) {
    const unit = dropUnit(schema, data, p, whole);
    if (unit === undefined) return undefined;
    if (!drop.has(keyOf(unit))) return unit;
    p = unit;
  }
  return undefined;
}

/** A copy of `v` without the left-out items and with the placeholders; `index` gets the kept indices of every shortened list. */
function prune(v: unknown, path: Path, drop: ReadonlyMap<string, Path>, place: ReadonlyMap<string, ReadonlyMap<string, unknown>>, index: Map<string, number[]>): unknown {
  if (Array.isArray(v)) {
    const kept: number[] = [];
    const out: unknown[] = [];
    v.forEach((x, i) => {
      const p = [...path, i];
      if (drop.has(keyOf(p))) return;
      kept.push(i);
      out.push(prune(x, p, drop, place, index));
    });
    if (kept.length !== v.length) index.set(keyOf(path), kept);
    return out;
  }
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  // defineProperty: a key named __proto__ stays a key.
  const set = (k: string, x: unknown) => Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  for (const [k, x] of Object.entries(v)) {
    const p = [...path, k];
    if (!drop.has(keyOf(p))) set(k, prune(x, p, drop, place, index));
  }
  for (const [k, x] of place.get(keyOf(path)) ?? []) set(k, x);
  return out;
}

/** A path in the pruned value → the path in the file (list indices counted with the left-out elements). */
function toOriginal(p: Path, index: ReadonlyMap<string, number[]>): Path {
  const out: (string | number)[] = [];
  for (const seg of p) {
    const kept = typeof seg === 'number' ? index.get(keyOf(out)) : undefined;
    out.push(kept?.[seg as number] ?? seg);
  }
  return out;
}
