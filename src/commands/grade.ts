// `netlab grade LAB --rubric FILE SUBMISSION...`: a class graded in parallel, each submission in a sandboxed instance
// of its own (a worker process per submission, src/grade/worker.ts); the gradebook in id order. And `netlab gradebook
// merge`: the shards of one class (`--shard I/N` on many machines) joined into one gradebook.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import { LABS_DIR, loadLab } from '../lab/catalog.js';
import { DEFAULT_LIMITS, parseDuration, parseSize } from '../runner/limits.js';
import { pool } from '../runner/pool.js';
import { trapSignals } from '../runner/signals.js';
import { GRADEBOOK_VERSION, gradebookCsv, gradebookJson, gradebookTable, mergeGradebooks, parseGradebook, type Gradebook, type GradeRow } from '../grade/gradebook.js';
import { findSubmissions, parseShard, shardOf, type Submission } from '../grade/submissions.js';
import { gradingPlan, maxPoints, type GradeJob } from '../grade/worker.js';
import { loadRubric } from '../grade/rubric.js';
import type { Command } from './common.js';

/** Default time limits: a whole submission (build, scripts, checks, teardown), and each node script of it. */
export const GRADE_TIME_LIMIT_MS = 2 * 60_000;
export const SCRIPT_TIME_LIMIT_MS = 20_000;
/** How long past its time limit a worker gets before SIGTERM, then SIGKILL (it kills its own box at the limit). */
const WORKER_GRACE_MS = 30_000;

type GradeFormat = 'table' | 'json' | 'csv';

interface GradeArgs {
  lab: string;
  rubric: string;
  submissions: string[];
  out: string;
  jobs?: number;
  shard?: string;
  resume: boolean;
  timeLimit?: string;
  scriptTimeLimit?: string;
  maxPids?: number;
  maxMemory?: string;
  format: GradeFormat;
  quiet: boolean;
}

const WORKER = resolve(import.meta.dirname, '../grade/worker-main.js');

/** A submission graded before (--resume): its result.json, if it is whole. */
async function earlier(dir: string, id: string): Promise<GradeRow | undefined> {
  try {
    const row = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as GradeRow;
    return row.id === id && (row.status === 'graded' || row.status === 'error') ? row : undefined;
  } catch {
    return undefined;
  }
}

/** Runs one worker; its row, or an error row when it died without writing one. */
function gradeInWorker(job: GradeJob, signal: AbortSignal, started: number, max: number): Promise<GradeRow> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += c.toString();
    });
    const term = () => child.kill('SIGTERM');
    signal.addEventListener('abort', term, { once: true });
    const guard = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), WORKER_GRACE_MS).unref();
    }, job.timeLimitMs + WORKER_GRACE_MS);
    child.on('close', async (code, sig) => {
      clearTimeout(guard);
      signal.removeEventListener('abort', term);
      const row = code === 0 ? await earlier(job.dir, job.submission.id) : undefined;
      if (stderr.trim()) await writeFile(join(job.dir, 'netlab.log'), stderr).catch(() => undefined);
      done(
        row ?? {
          id: job.submission.id,
          status: 'error',
          score: 0,
          max,
          passed: 0,
          failed: 0,
          errors: 0,
          durationMs: performance.now() - started,
          error: `grading stopped (${sig ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`,
        },
      );
    });
  });
}

async function grade(a: GradeArgs): Promise<number> {
  const jobs = a.jobs ?? availableParallelism();
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new UsageError(`--jobs takes a whole number of at least 1, not ${a.jobs}`);
  const shard = a.shard !== undefined ? parseShard(a.shard) : undefined;
  const timeLimitMs = a.timeLimit !== undefined ? parseDuration(a.timeLimit) : undefined;
  const scriptTimeLimitMs = a.scriptTimeLimit !== undefined ? parseDuration(a.scriptTimeLimit, '--script-time-limit') : SCRIPT_TIME_LIMIT_MS;
  const maxPids = a.maxPids ?? DEFAULT_LIMITS.maxPids;
  if (!Number.isSafeInteger(maxPids) || maxPids < 8) throw new UsageError(`--max-pids takes a whole number of at least 8, not ${maxPids}`);
  const limits = { maxPids, maxMemory: a.maxMemory !== undefined ? parseSize(a.maxMemory) : DEFAULT_LIMITS.maxMemory };
  // Everything a bad argument can break is found before anything is built: rubric, lab, submissions.
  const rubricFile = resolve(a.rubric);
  const ref = await loadRubric(rubricFile);
  const named = await loadLab(a.lab);
  if (named.name !== ref.lab.name) {
    throw new UsageError(`the rubric ${a.rubric} grades lab "${ref.lab.name}", not "${named.name}"`, { hint: `netlab grade ${ref.lab.name} --rubric ${a.rubric} …` });
  }
  const all = findSubmissions(a.submissions);
  const mine = shardOf(all, shard);
  const out = resolve(a.out);
  const inside = all.find((s) => out === s.path || out.startsWith(`${s.path}/`) || s.path.startsWith(`${out}/`));
  if (inside) throw new UsageError(`--out ${a.out} and submission ${inside.id} overlap`, { hint: 'keep the results apart from the submissions' });
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${a.out} is not a directory`);
  await mkdir(out, { recursive: true });
  const max = maxPoints(ref.lab, gradingPlan(ref.lab, ref.exercise, 'scripts').stages);
  // The box sees none of the rubric, the lab file it names (it may hold a reference solution), the submissions or the
  // results: a submission cannot read the hidden checks, nor copy or change another's work or grade.
  const labFile = resolve(ref.lab.file);
  const hide = [rubricFile, ...(labFile.startsWith(resolve(LABS_DIR)) ? [] : [labFile]), out, ...all.map((s) => s.path)];
  const { signal, dispose } = trapSignals();
  const rows: GradeRow[] = [];
  let done = 0;
  const progress = (s: Submission, row: GradeRow, again = false) => {
    done++;
    if (a.quiet) return;
    const what = row.status === 'error' ? `error: ${(row.error ?? '').split('\n')[0]}` : `${row.score}/${row.max}`;
    process.stderr.write(`[${done}/${mine.length}] ${s.id}: ${what}${again ? ' (graded before, --resume)' : ''}\n`);
  };
  try {
    await pool(mine, jobs, async (s) => {
      if (signal.aborted) return;
      const dir = join(out, s.id);
      const before = a.resume ? await earlier(dir, s.id) : undefined;
      if (before) {
        rows.push(before);
        progress(s, before, true);
        return;
      }
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const started = performance.now();
      const row = await gradeInWorker(
        { rubric: rubricFile, submission: s, dir, timeLimitMs: timeLimitMs ?? ref.rubric.timeLimitMs ?? GRADE_TIME_LIMIT_MS, scriptTimeLimitMs, limits, hide },
        signal,
        started,
        max,
      );
      if (signal.aborted) return;
      rows.push(row);
      progress(s, row);
    });
  } finally {
    dispose();
  }
  if (signal.aborted) throw signal.reason;
  const book: Gradebook = {
    version: GRADEBOOK_VERSION,
    lab: ref.lab.name,
    rubric: ref.rubric.name,
    max,
    class: all.length,
    ...(shard ? { shard } : {}),
    rows,
  };
  await writeGradebook(book, out);
  process.stdout.write(a.format === 'json' ? gradebookJson(book) : a.format === 'csv' ? gradebookCsv(book) : gradebookTable(book));
  return EXIT.ok;
}

async function writeGradebook(book: Gradebook, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'gradebook.json'), gradebookJson(book));
  await writeFile(join(out, 'gradebook.csv'), gradebookCsv(book));
}

export const gradeCommand: Command<GradeArgs> = {
  builder: (y) =>
    y
      .positional('lab', { type: 'string', demandOption: true, describe: 'The lab graded: a built-in name or a lab file (the rubric must name the same lab)' })
      .positional('submissions', { type: 'string', array: true, describe: 'Submissions: directories of <node>.sh scripts, or lab files (.yaml) students wrote' })
      .option('rubric', { alias: 'r', type: 'string', demandOption: true, requiresArg: true, describe: 'The rubric (checks with points, gates, hidden checks): docs/grading.md' })
      .option('out', { alias: 'o', type: 'string', default: 'grades', requiresArg: true, describe: 'Results folder: gradebook.csv, gradebook.json, and a folder per submission' })
      .option('jobs', { alias: 'j', type: 'number', requiresArg: true, describe: 'Submissions graded at once', defaultDescription: 'the number of cores' })
      .option('shard', { type: 'string', requiresArg: true, describe: 'Grade shard I of N only: every N-th submission in id order, from the I-th (join the shards with `netlab gradebook merge`)' })
      .option('resume', { type: 'boolean', default: false, describe: 'Skip submissions whose results are already in --out' })
      .option('time-limit', { type: 'string', requiresArg: true, describe: 'Per submission (build, scripts, checks): past it, it is an error', defaultDescription: "the rubric's time_limit, else 2m" })
      .option('script-time-limit', { type: 'string', requiresArg: true, describe: 'Per node script: one still running after this is an error (it loops)', defaultDescription: '20s' })
      .option('max-pids', { type: 'number', requiresArg: true, describe: 'Processes per submission\'s box (a fork bomb is an error)', defaultDescription: String(DEFAULT_LIMITS.maxPids) })
      .option('max-memory', { type: 'string', requiresArg: true, describe: 'Memory per submission\'s box, e.g. 512M', defaultDescription: '1G' })
      .option('format', { alias: 'f', choices: ['table', 'json', 'csv'] as const, default: 'table' as const, describe: 'The gradebook on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('netlab grade host-only --rubric rubric.yaml subs/*', 'Grade every submission in subs/ (each a folder of vm1.sh, host.sh…)')
      .example('netlab grade host-only -r rubric.yaml subs/* --jobs 4 --out grades', 'Four at a time; results in grades/')
      .example('netlab grade host-only -r rubric.yaml subs/* --shard 2/4 --out grades-2', 'The 2nd quarter of the class (on a 2nd machine)')
      .example('netlab grade host-only -r rubric.yaml subs/* --resume', 'Go on after an interruption: graded submissions are kept') as never,
  handler: grade,
};

interface MergeArgs {
  action: string;
  gradebooks: string[];
  out?: string;
  format: GradeFormat;
}

export const gradebookMergeCommand: Command<MergeArgs> = {
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['merge'], describe: 'merge: join shards into one gradebook' })
      .positional('gradebooks', { type: 'string', array: true, demandOption: true, describe: 'Each shard\'s results folder (or its gradebook.json)' })
      .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write gradebook.csv and gradebook.json of the whole class here' })
      .option('format', { alias: 'f', choices: ['table', 'json', 'csv'] as const, default: 'table' as const, describe: 'The merged gradebook on stdout' })
      .example('netlab gradebook merge grades-1 grades-2 --out grades', 'Join two shards\' gradebooks') as never,
  handler: async (a) => {
    const books = await Promise.all(
      a.gradebooks.map(async (g) => {
        const file = existsSync(g) && statSync(g).isDirectory() ? join(g, 'gradebook.json') : g;
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (e) {
          throw new UsageError(`cannot read ${file}: ${(e as Error).message}`, { hint: 'give the --out folders of `netlab grade --shard`, or their gradebook.json' });
        }
        return { source: basename(g) === 'gradebook.json' ? g : file, book: parseGradebook(text, file) };
      }),
    );
    const book = mergeGradebooks(books);
    if (a.out !== undefined) await writeGradebook(book, resolve(a.out));
    process.stdout.write(a.format === 'json' ? gradebookJson(book) : a.format === 'csv' ? gradebookCsv(book) : gradebookTable(book));
    return EXIT.ok;
  },
};
