// `netlab test`'s discovery: the lab files under the paths given (or the built-in labs), rubric files left out.
// Deterministic (sorted by path, code point order), each file once however many ways it is reached, and every
// surprise — a missing path, a symlink loop, a directory or file that cannot be read — a UsageError that names it.
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import { builtinLabs, LABS_DIR } from './catalog.js';

/** What discovery found: lab files in order, and what it left out on purpose (rubrics, for -v). */
export interface Discovered {
  labs: string[];
  skipped: { file: string; why: string }[];
}

const YAML_FILE = /\.ya?ml$/;
/** Directories a recursive search does not enter (named explicitly, they are searched): hidden ones and node_modules. */
const SKIP_DIR = (name: string) => name.startsWith('.') || name === 'node_modules';
/** How much of a file is read to tell a rubric from a lab: a top-level key is near the top of any real file. */
const SNIFF_BYTES = 64 * 1024;

/** Code point order, not the locale's: the same list on every machine. */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Whether YAML text is a rubric: its top-level mapping has a `rubric:` key. Text that is no YAML mapping (or no YAML
 * at all) is not: it is left to the lab loader, which says what is wrong with it, line and column.
 */
export function isRubricText(text: string): boolean {
  // Without the word and without a backslash (a double-quoted key's escape, "\x72ubric"), no key can be `rubric`:
  // a lab file is told apart without a second YAML parse of it (validate and test parse it once more, as a lab).
  if (!text.includes('rubric') && !text.includes('\\')) return false;
  try {
    const doc = parseDocument(text, { uniqueKeys: false });
    if (!isMap(doc.contents)) return false;
    return doc.contents.items.some((p) => isScalar(p.key) && p.key.value === 'rubric');
  } catch {
    return false;
  }
}

/**
 * The `name:` a lab file's text declares when it is a well-formed lab name (a slug), even if the rest of the file is
 * invalid: how an invalid lab is still called by its name in reports. Undefined otherwise.
 */
export function declaredName(text: string): string | undefined {
  try {
    const doc = parseDocument(text, { uniqueKeys: false });
    if (!isMap(doc.contents)) return undefined;
    const name = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'name')?.value;
    return isScalar(name) && typeof name.value === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(name.value) ? name.value : undefined;
  } catch {
    return undefined;
  }
}

/** The first SNIFF_BYTES of a file (cut at a line break), for isRubricText and declaredName; a UsageError when unreadable. */
export function head(file: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, buf, 0, SNIFF_BYTES, 0);
    // Cut at the last line break: half a line could read as another document.
    const text = buf.subarray(0, n).toString('utf8');
    return n < SNIFF_BYTES ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'fix its permissions, or leave it out of the paths' });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function statOf(path: string, via?: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UsageError(`symlink loop at ${path}`, { hint: 'a link in it points (through others) back at itself; remove it or leave it out of the paths' });
    if (code === 'ENOENT' && via !== undefined) throw new UsageError(`broken symlink ${path}: what it points to does not exist`, { hint: 'remove the link or leave it out of the paths' });
    if (code === 'ENOENT') throw new UsageError(`no such file or directory: ${path}`, { hint: 'give lab files (*.yaml, *.yml) or directories holding them; none: the built-in labs' });
    throw new UsageError(`cannot read ${path}: ${code ?? (e as Error).message}`);
  }
}

/**
 * The lab files to test under `paths` (files, or directories searched recursively for *.yaml / *.yml; hidden
 * directories and node_modules are not entered unless named); none given: the built-in labs. A file whose
 * top-level mapping has a `rubric:` key is a rubric: skipped. Symlinks are followed; a link back into a directory
 * being searched is a loop (UsageError), a file reached twice is tested once. Nothing found is a UsageError too.
 */
export function discoverLabs(paths: readonly string[]): Discovered {
  if (!paths.length) {
    const labs = builtinLabs().map((n) => join(LABS_DIR, `${n}.yaml`));
    if (!labs.length) throw new UsageError(`no built-in labs in ${LABS_DIR}`, { hint: 'give lab files or directories' });
    return { labs, skipped: [] };
  }
  const found = new Map<string, string>(); // real path → the path it was found as
  const skipped: Discovered['skipped'] = [];
  const take = (file: string) => {
    const real = realpathSync(file);
    if (found.has(real)) return;
    if (isRubricText(head(file))) {
      skipped.push({ file, why: 'a rubric (top-level rubric: key)' });
      found.set(real, '');
      return;
    }
    found.set(real, file);
  };
  const walk = (dir: string, ancestors: readonly string[]) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort(byCodePoint);
    } catch (e) {
      throw new UsageError(`cannot read the directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'fix its permissions, or leave it out of the paths' });
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = statOf(path, path);
      if (st.isDirectory()) {
        if (SKIP_DIR(name)) continue;
        const real = realpathSync(path);
        if (ancestors.includes(real)) {
          throw new UsageError(`symlink loop: ${path} leads back to ${shownPath(real)}, which is being searched`, { hint: 'remove the link or leave that directory out of the paths' });
        }
        walk(path, [...ancestors, real]);
      } else if (st.isFile() && YAML_FILE.test(name)) take(path);
    }
  };
  for (const p of paths) {
    if (p === '') throw new UsageError('an empty path', { hint: 'give lab files or directories' });
    const st = statOf(p);
    if (st.isDirectory()) walk(p, [realpathSync(p)]);
    else if (st.isFile()) {
      if (!YAML_FILE.test(p)) throw new UsageError(`${p} is not a lab file (*.yaml, *.yml)`);
      take(p);
    } else throw new UsageError(`${p} is neither a file nor a directory`);
  }
  const labs = [...found.values()].filter((f) => f !== '').sort(byCodePoint);
  if (!labs.length) {
    throw new UsageError(`no lab files found in ${paths.join(', ')}`, {
      hint: `${skipped.length ? `${skipped.length} rubric file(s) skipped; ` : ''}lab files end in .yaml or .yml (hidden directories and node_modules are not searched)`,
    });
  }
  return { labs, skipped: skipped.sort((a, b) => byCodePoint(a.file, b.file)) };
}

/** `file` as the report names it: relative to the working directory when inside it, else absolute. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  return rel && !rel.startsWith('..') ? rel : resolve(file);
}
