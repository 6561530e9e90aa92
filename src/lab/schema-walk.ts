// Reads the zod schema itself at a path of the written data: which keys an object allows there (the "allowed keys"
// hint), and which enclosing item can be left out so the rest of a file is schema-valid (the repair in repair.ts).
import type { z } from 'zod';
import type { Path } from './source.js';

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;

const defOf = (s: Schema): Def => s._zod.def as Def;

/** `o[key]` when it is o's own (a key named __proto__ or toString in a lab file is just a key). */
const own = <T>(o: Record<string | number, T> | undefined, key: string | number): T | undefined =>
  o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined;

/** Wrappers that say nothing about the shape of a value: optional, nullable, default, pipe, readonly, catch, lazy. */
function unwrap(s: Schema): Schema {
  for (let i = 0; i < 32; i++) {
    const d = defOf(s);
    const inner =
      d.type === 'optional' || d.type === 'nullable' || d.type === 'default' || d.type === 'prefault' || d.type === 'readonly' || d.type === 'catch' || d.type === 'nonoptional'
        ? (d['innerType'] as Schema)
        : d.type === 'pipe'
          ? (d['in'] as Schema)
          : d.type === 'lazy'
            ? (d['getter'] as () => Schema)()
            : undefined;
    if (inner === undefined) return s;
    s = inner;
  }
  return s;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** True when `value` has the JavaScript shape of `s` (a map for objects and records, a list for arrays and tuples, ...). */
function fits(s: Schema, value: unknown): boolean {
  const d = defOf(unwrap(s));
  switch (d.type) {
    case 'object':
    case 'record':
      return isPlainObject(value);
    case 'array':
    case 'tuple':
      return Array.isArray(value);
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === d.type;
    case 'enum':
    case 'literal':
      return value === null || typeof value !== 'object';
    case 'union':
      return (d['options'] as Schema[]).some((o) => fits(o, value));
    default:
      return true;
  }
}

/** The schema of `value[key]` in an object schema (wrappers and all), if it has that key. */
const fieldOf = (s: Schema, key: string): Schema | undefined => own(defOf(unwrap(s))['shape'] as Record<string, Schema> | undefined, key);

/**
 * The member of a union that `value` is meant for: by its discriminator (`kind`); else one it is valid for, one whose
 * `kind` it has, or the first whose shape fits.
 */
function pickMember(s: Schema, value: unknown): Schema | undefined {
  const d = defOf(s);
  const options = d['options'] as Schema[];
  const kindFits = (o: Schema, key: string) => {
    const field = fieldOf(o, key);
    return isPlainObject(value) && field !== undefined && (field as z.ZodType).safeParse(own(value, key)).success;
  };
  const disc = d['discriminator'] as string | undefined;
  if (disc !== undefined) return options.find((o) => kindFits(o, disc));
  return (
    options.find((o) => (o as z.ZodType).safeParse(value).success) ??
    options.find((o) => fits(o, value) && kindFits(o, 'kind')) ??
    options.find((o) => fits(o, value))
  );
}

/** A schema with its wrappers removed and, for a union, the member `value` is meant for. */
function resolve(s: Schema, value: unknown): Schema | undefined {
  let u: Schema | undefined = unwrap(s);
  for (let i = 0; i < 8 && u !== undefined && defOf(u).type === 'union'; i++) {
    const m = pickMember(u, value);
    u = m === undefined ? undefined : unwrap(m);
  }
  return u;
}

/** The schema of one child (key or index) of a container schema, or undefined when it has none. */
function childSchema(s: Schema, seg: string | number): Schema | undefined {
  const d = defOf(s);
  switch (d.type) {
    case 'object':
      return typeof seg === 'string' ? own(d['shape'] as Record<string, Schema>, seg) : undefined;
    case 'record':
      return d['valueType'] as Schema;
    case 'array':
      return typeof seg === 'number' ? (d['element'] as Schema) : undefined;
    case 'tuple':
      return typeof seg === 'number' ? (own(d['items'] as Record<number, Schema>, seg) ?? (d['rest'] as Schema | null) ?? undefined) : undefined;
    default:
      return undefined;
  }
}

const child = (value: unknown, seg: string | number): unknown =>
  value !== null && typeof value === 'object' ? own(value as Record<string | number, unknown>, seg) : undefined;

/** The schema (unwrapped, union member picked by the data) of the value at `path` of `data`, or undefined. */
export function schemaAt(root: Schema, data: unknown, path: Path): Schema | undefined {
  let s = resolve(root, data);
  let value = data;
  for (const seg of path) {
    if (s === undefined) return undefined;
    const c = childSchema(s, seg);
    value = child(value, seg);
    s = c === undefined ? undefined : resolve(c, value);
  }
  return s;
}

/** The keys an object at `path` may have, in the schema's order; undefined when no object schema is there. */
export function allowedKeys(root: Schema, data: unknown, path: Path): string[] | undefined {
  const s = schemaAt(root, data, path);
  if (s === undefined || defOf(s).type !== 'object') return undefined;
  return Object.keys(defOf(s)['shape'] as Record<string, Schema>);
}

/** True when a schema has refinements of its own (a rule over several of its keys, e.g. "exactly one of a or b"). */
function refined(s: Schema): boolean {
  return ((defOf(s)['checks'] as unknown[] | undefined)?.length ?? 0) > 0;
}

/**
 * The smallest item enclosing `path` whose removal leaves its container schema-valid: a list element (not of a
 * tuple), a map entry of a record, or an optional key of an object without a rule over its keys. Items whose
 * schema is in `whole` (parts that refer to each other, like a matrix's groups and keys) go as a whole.
 * Undefined when only the whole document would do.
 */
export function dropUnit(root: Schema, data: unknown, path: Path, whole: ReadonlySet<Schema> = new Set()): Path | undefined {
  for (let i = 1; i < path.length; i++) {
    const s = schemaAt(root, data, path.slice(0, i));
    if (s !== undefined && whole.has(s) && removable(root, data, path.slice(0, i))) return path.slice(0, i);
  }
  for (let i = path.length; i >= 1; i--) {
    if (removable(root, data, path.slice(0, i))) return path.slice(0, i);
  }
  return undefined;
}

/** Whether the item at `path` (non-empty) can go and leave its container valid. */
function removable(root: Schema, data: unknown, path: Path): boolean {
  const parent = schemaAt(root, data, path.slice(0, -1));
  if (parent === undefined) return false;
  const key = path.at(-1) as string | number;
  const d = defOf(parent);
  if (d.type === 'array') return (d['checks'] as unknown[] | undefined)?.length ? false : true;
  if (d.type === 'record') return true;
  if (d.type !== 'object' || refined(parent)) return false;
  const field = own(d['shape'] as Record<string, Schema>, String(key));
  // A key the schema does not know (an unknown key) can always go.
  return field === undefined || field._zod.optin === 'optional';
}
