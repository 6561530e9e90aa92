// What `netlab grade` grades: submissions found on disk (a directory of <node>.sh scripts, or a lab file the student
// wrote), their ids, and which of them one shard of a class takes. A submission is untrusted: its files are read
// with bounds here, on the host, and only run inside the instance's box.
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { NODE_NAME } from '../lab/schema.js';
import { printable } from '../printable.js';
import { readWholeFile } from '../runner/lab-files.js';

/** A submission id: a directory name in the results, a row of the gradebook. */
export const SUBMISSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Bounds on what a submission may hold: scripts per submission, bytes per script. */
export const SUBMISSION_LIMITS = { scripts: 64, scriptBytes: 64 * 1024 } as const;

export interface Submission {
  id: string;
  /** Absolute, symlinks resolved. */
  path: string;
  kind: 'scripts' | 'lab';
}

/** A node's script of a submission. */
export interface NodeScript {
  node: string;
  file: string;
  text: string;
}

const LAB_EXT = new Set(['.yaml', '.yml']);

/** One submission path → its kind and id; UsageError (exit 2, nothing graded) for what cannot be one. */
export function submissionAt(arg: string): Submission {
  let path: string;
  try {
    path = realpathSync(resolve(arg));
  } catch (e) {
    throw new UsageError(`submission ${JSON.stringify(arg)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  const st = lstatSync(path);
  const ext = extname(path);
  const kind = st.isDirectory() ? 'scripts' : st.isFile() && LAB_EXT.has(ext) ? 'lab' : undefined;
  if (kind === undefined) {
    throw new UsageError(`submission ${JSON.stringify(arg)} is neither a directory of <node>.sh scripts nor a lab file (.yaml)`, {
      hint: 'a submission is a directory such as subs/alice/ holding vm1.sh, host.sh…, or a lab file such as subs/bob.yaml',
    });
  }
  const id = kind === 'lab' ? basename(path, ext) : basename(path);
  if (!SUBMISSION_ID.test(id)) {
    throw new UsageError(`submission id ${JSON.stringify(printable(id))} (from ${JSON.stringify(arg)}) is not usable as a name`, {
      hint: 'ids are letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64: rename the directory or file',
    });
  }
  return { id, path, kind };
}

/** Every submission named, sorted by id; two with one id are a usage error (their results would overwrite each other). */
export function findSubmissions(args: readonly string[]): Submission[] {
  if (!args.length) throw new UsageError('no submissions given', { hint: 'netlab grade LAB --rubric FILE subs/*' });
  const all = args.map(submissionAt).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1] as Submission, all[i] as Submission];
    if (a.id === b.id) throw new UsageError(`two submissions have the id "${a.id}": ${a.path} and ${b.path}`, { hint: 'each submission needs its own name' });
  }
  return all;
}

/** `--shard I/N` → { index: I, count: N } (1 ≤ I ≤ N). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard takes I/N with 1 ≤ I ≤ N, not ${JSON.stringify(text)}`, { hint: 'e.g. --shard 2/4 grades the 2nd, 6th, 10th… submission (in id order)' });
  }
  return { index, count };
}

/** The submissions shard I of N grades: every N-th, starting with the I-th, in id order. */
export function shardOf<T>(sorted: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  return shard ? sorted.filter((_, i) => i % shard.count === shard.index - 1) : [...sorted];
}

/**
 * The node scripts of a directory submission, in node-name order. What is wrong with them is the student's to hear
 * (an Error whose message is their feedback), not a usage error: a script for a node the lab does not have, one that
 * is not a regular file or too big. Files other than *.sh are left alone (a README, say).
 */
export function readScripts(sub: Submission, nodes: readonly string[]): NodeScript[] {
  const names = readdirSync(sub.path).filter((f) => f.endsWith('.sh')).sort();
  if (names.length > SUBMISSION_LIMITS.scripts) throw new Error(`${names.length} scripts: at most ${SUBMISSION_LIMITS.scripts}`);
  const known = new Set(nodes);
  return names.map((f) => {
    const node = f.slice(0, -3);
    if (!NODE_NAME.test(node) || !known.has(node)) {
      throw new Error(`${printable(f)}: the lab has no node "${printable(node)}" (its nodes: ${[...known].join(', ')})`);
    }
    try {
      return { node, file: f, text: readWholeFile(join(sub.path, f), SUBMISSION_LIMITS.scriptBytes) };
    } catch (e) {
      throw new Error(`${printable(f)}: ${(e as Error).message}`);
    }
  });
}

/** The shell a script asks for: bash when its #! line names bash, else sh. */
export function shellOf(text: string): 'bash' | 'sh' {
  const first = text.split('\n', 1)[0] ?? '';
  return /^#!.*\bbash\b/.test(first) ? 'bash' : 'sh';
}
