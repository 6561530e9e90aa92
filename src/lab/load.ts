// Reads a lab file: YAML with positions → schema → normalize → rules. Throws ValidationError with every problem.
import type { z } from 'zod';
import { ValidationError, type Problem } from '../errors.js';
import { limitProblems, readLabText } from './limits.js';
import { normalize } from './normalize.js';
import { checkRules } from './rules.js';
import { LabSchema } from './schema.js';
import { LabSource, type Path } from './source.js';
import type { Lab } from './types.js';

function schemaProblems(src: LabSource, data: unknown, issues: z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const iss of issues) {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) {
        out.push(src.problem([...path, k], `unknown key "${k}"`, allowedKeysHint(path), true));
      }
      continue;
    }
    if (iss.code === 'invalid_key') {
      const inner = iss.issues[0];
      out.push(src.problem(path, inner?.message ?? iss.message, undefined, true));
      continue;
    }
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

const KEYS: Record<string, string> = {
  '': 'name, title, description, goals, source, nodes, links, bridges, checks, steps',
  node: 'description, forwarding, sysctls, interfaces, routes',
  link: 'endpoints',
  bridge: 'name, node, ports, address',
  check: 'kind, name, from, to, count, ttl, reason, expect, timeout, hint',
  step: 'name, title, explain, nodes, checks',
  route: 'dst, via, dev, metric',
};

function allowedKeysHint(path: Path): string {
  const names = path.filter((p) => typeof p === 'string');
  const last = names.at(-1);
  const kind =
    path.length === 0
      ? ''
      : last === 'routes' || (typeof path.at(-1) === 'number' && path.at(-2) === 'routes')
        ? 'route'
        : path.at(-2) === 'checks'
          ? 'check'
          : path.at(-2) === 'links' || path.at(-2) === 'endpoints'
            ? 'link'
            : path.at(-2) === 'bridges'
              ? 'bridge'
              : path.at(-2) === 'steps'
                ? 'step'
                : path.at(-2) === 'nodes'
                  ? 'node'
                  : undefined;
  const keys = kind === undefined ? undefined : KEYS[kind];
  return keys ? `allowed keys here: ${keys}` : 'see docs/lab-format.md for the keys allowed here';
}

/** Parses and validates lab text; returns the model or throws ValidationError listing every problem. */
export function parseLab(text: string, file: string): Lab {
  const src = new LabSource(file, text);
  const syntax = src.syntaxProblems();
  if (syntax.length) throw new ValidationError(syntax);
  const data: unknown = src.toJS() ?? {};
  const parsed = LabSchema.safeParse(data);
  if (!parsed.success) throw new ValidationError(sortProblems(schemaProblems(src, data, parsed.error.issues)));
  const limits = limitProblems(src, parsed.data);
  if (limits.length) throw new ValidationError(sortProblems(limits));
  const lab = normalize(parsed.data, file);
  const rules = checkRules(lab).map((p) => src.problem(p.at, p.message, p.hint, p.key ?? false));
  if (rules.length) throw new ValidationError(sortProblems(rules));
  return lab;
}

/** Reads and validates a lab file. */
export async function loadLabFile(file: string): Promise<Lab> {
  return parseLab(await readLabText(file), file);
}

function sortProblems(ps: Problem[]): Problem[] {
  return ps.sort((a, b) => a.line - b.line || a.col - b.col);
}
