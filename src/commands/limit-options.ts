// The --max-* options of the verbs that read lab files (run, up, show, plan, validate), made from the LIMITS table.
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { formatLimit, LIMITS, limitOption, type LimitKey, type Limits } from '../lab/limits.js';

const KEYS = Object.keys(LIMITS) as LimitKey[];
const camel = (s: string) => s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Adds `--max-<limit>` for every limit, grouped under "Limits" in `--help`; each takes a whole number ≥ 1. */
export function withLimitOptions<T>(y: Argv<T>): Argv<T> {
  let out = y;
  for (const key of KEYS) {
    out = out.option(limitOption(key), {
      type: 'number',
      requiresArg: true,
      describe: `Allow more ${LIMITS[key].counts}`,
      defaultDescription: formatLimit(key, LIMITS[key].default),
    });
  }
  return out.group(KEYS.map(limitOption), 'Limits (a lab file beyond one is refused, exit 2):').check((a) => {
    limitsFromArgs(a as Record<string, unknown>);
    return true;
  }) as Argv<T>;
}

/** The limits the --max-* options set (absent: the default); UsageError for a value that is not a whole number ≥ 1. */
export function limitsFromArgs(args: Record<string, unknown>): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const key of KEYS) {
    const raw = args[limitOption(key)] ?? args[camel(limitOption(key))];
    if (raw === undefined) continue;
    const v = Array.isArray(raw) ? raw.at(-1) : raw;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new UsageError(`--${limitOption(key)} takes a whole number of at least 1${typeof v === 'number' && !Number.isNaN(v) ? `, not ${v}` : ''}`, { hint: `the default is ${formatLimit(key, LIMITS[key].default)}` });
    }
    out[key] = v;
  }
  return out;
}
