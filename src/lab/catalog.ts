// Built-in labs (labs/*.yaml) and resolving a LAB argument: a built-in name or a path to a file.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { loadLabFile } from './load.js';
import type { Lab } from './types.js';

/** Directory of the built-in labs, next to dist/ and src/. */
export const LABS_DIR = fileURLToPath(new URL('../../labs/', import.meta.url));

/** Names of the built-in labs, sorted. */
export function builtinLabs(): string[] {
  try {
    return readdirSync(LABS_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** The file a LAB argument names: an existing path, or a built-in lab name. */
export function labFile(arg: string): string {
  if (existsSync(arg) && /\.ya?ml$/.test(arg)) return arg;
  if (arg.includes('/') || /\.ya?ml$/.test(arg)) throw new UsageError(`no lab file at ${arg}`);
  const file = join(LABS_DIR, `${arg}.yaml`);
  if (existsSync(file)) return file;
  const names = builtinLabs();
  const close = names.filter((n) => n.includes(arg) || arg.includes(n));
  throw new UsageError(`unknown lab "${arg}"`, {
    hint: `${close.length ? `did you mean ${close.join(', ')}? ` : ''}built-in labs: ${names.join(', ')} (or give a path to a .yaml file)`,
  });
}

/** Resolves and loads a LAB argument. */
export async function loadLab(arg: string): Promise<Lab> {
  return loadLabFile(labFile(arg));
}
