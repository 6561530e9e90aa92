// State records of running instances under /run/netlab (an unprivileged user's: under their own runtime directory): what each created, who owns it. cleanup/down read them.
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { linkSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { UsageError } from '../errors.js';
import type { Lab } from '../lab/types.js';
import { currentRuntime, procStart, unprivileged, type ProcRef, type SandboxRef } from './runtime.js';

export { procStart, type ProcRef };

/** A lease a DHCP client got. */
export interface Lease {
  node: string;
  ifname: string;
  address: string;
  prefix: number;
  router?: string;
  server?: string;
}

export interface StateRecord {
  version: 1;
  instance: string;
  lab: string;
  labFile: string;
  createdAt: string;
  mode: 'run' | 'up';
  /** The netlab process building or running it; null once `up` has handed it over. */
  owner: ProcRef | null;
  status: 'building' | 'ready' | 'tearing-down';
  /** Every namespace the plan creates, written before the first is created. */
  namespaces: string[];
  /** Processes netlab started inside the lab (services); killed by pid on teardown. */
  processes: (ProcRef & { node: string; what: string })[];
  /** Addresses DHCP clients leased (checks resolve `lease:` targets with them). */
  leases: Lease[];
  /** Index of the last stage applied. */
  stage: number;
  /** The stage `up` built to: `reset` builds it again. Absent in records of older netlabs (then: the last stage). */
  start?: number;
  /**
   * `up --exercise`: the step held back for the learner (an index into model.stages). While `stage` is below it,
   * `check` grades that step's checks and `solve` applies it.
   */
  exercise?: { stage: number };
  /** The model, so `check` and `show` work on a running instance without its file. */
  model: Lab;
  /**
   * `--sandbox`: the instance lives inside this supervisor's namespaces (runtime.ts); every verb enters it. Absent:
   * the plain runtime (named namespaces in the host's /run/netns).
   */
  sandbox?: SandboxRef;
}

/**
 * Directory of state records (NETLAB_STATE_DIR overrides, e.g. for tests): /run/netlab as root; an unprivileged
 * user's own $XDG_RUNTIME_DIR/netlab, else ~/.local/state/netlab (their instances are theirs alone).
 */
export function stateDir(): string {
  if (process.env.NETLAB_STATE_DIR) return process.env.NETLAB_STATE_DIR;
  if (!unprivileged()) return '/run/netlab';
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'netlab');
  return join(homedir(), '.local', 'state', 'netlab');
}

/** Per-instance directory for service logs, client logs and DHCP leases; removed on teardown. */
export function runDir(instance: string): string {
  return join(stateDir(), instance);
}

function recordPath(instance: string): string {
  return join(stateDir(), `${instance}.json`);
}

/** This process, as a ProcRef. */
export function self(): ProcRef {
  return { pid: process.pid, start: procStart(process.pid) ?? '' };
}

/** True when the referenced process is still the one that was recorded. */
export function alive(p: ProcRef | null): boolean {
  return p !== null && procStart(p.pid) === p.start;
}

/** Where a file is written before it takes its place: `<path>.tmp-<pid>` (cleanup knows the pattern). */
function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/**
 * Writes `text` to `path` through a temp file: whole or not at all. `exclusive` links the temp file into place
 * (failing with EEXIST when `path` exists) instead of renaming it over. Synchronous, so every step happens in one
 * tick: no SIGINT/SIGTERM handler runs between them. A SIGKILL between them leaves only the temp file, which
 * `removeStaleTempFiles` (netlab cleanup) removes.
 */
function writeWhole(path: string, text: string, exclusive = false): void {
  const tmp = tempPath(path);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    if (exclusive) linkSync(tmp, path);
    else renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Creates the record exclusively: a second run of the same instance id is refused. Never seen half-written. */
export async function createRecord(rec: StateRecord): Promise<void> {
  await mkdir(stateDir(), { recursive: true, mode: 0o755 });
  try {
    writeWhole(recordPath(rec.instance), recordText(rec), true);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const other = await readRecord(rec.instance);
    const hint = other && alive(other.owner)
      ? `another netlab (pid ${other.owner?.pid}) is running it; pick another --instance`
      : other?.mode === 'up'
        ? `it is up: \`netlab down ${rec.instance}\` first, or pick another --instance`
        : `a crashed run left it: \`netlab cleanup\` removes it`;
    throw new UsageError(`instance "${rec.instance}" already exists`, { hint });
  }
}

/** Rewrites a record atomically (write, rename: synchronous, so concurrent callers are written in call order). */
export async function updateRecord(rec: StateRecord): Promise<void> {
  writeWhole(recordPath(rec.instance), recordText(rec));
}

/**
 * A record as written: compact JSON. A run rewrites its record a few times (each process started, each step), and
 * with the lab's model in it (110 KB indented at 100 nodes) indenting was most of the cost; `jq . FILE` shows it.
 */
function recordText(rec: StateRecord): string {
  return JSON.stringify(rec);
}

/** A temp file younger than this may still be being written by its (live) pid; older ones are left over. */
const TEMP_GRACE_MS = 60_000;

/**
 * Temp files a killed netlab left in the state directory and in .results (`*.tmp-<pid>`): those whose pid is
 * gone, or that are older than a minute (a write takes microseconds; a live pid that old is another process).
 */
export function staleTempFiles(now = Date.now()): string[] {
  const out: string[] = [];
  for (const dir of [stateDir(), join(stateDir(), '.results')]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /\.tmp-(\d+)$/.exec(name);
      if (!m) continue;
      const path = join(dir, name);
      let mtime: number;
      try {
        mtime = statSync(path).mtimeMs;
      } catch {
        continue; // gone meanwhile
      }
      if (procStart(Number(m[1])) === undefined || now - mtime > TEMP_GRACE_MS) out.push(path);
    }
  }
  return out.sort();
}

/** Removes what `staleTempFiles` names (or the part of it given); returns the paths removed. */
export function removeStaleTempFiles(stale: readonly string[] = staleTempFiles()): readonly string[] {
  for (const p of stale) rmSync(p, { force: true });
  return stale;
}

export async function readRecord(instance: string): Promise<StateRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(instance), 'utf8')) as StateRecord;
  } catch {
    return undefined;
  }
}

/** Every record in the state directory. */
export async function readRecords(): Promise<StateRecord[]> {
  let names: string[];
  try {
    names = await readdir(stateDir());
  } catch {
    return [];
  }
  const recs = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readRecord(n.slice(0, -5))));
  return recs.filter((r): r is StateRecord => r !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function removeRecord(instance: string): Promise<void> {
  await rm(recordPath(instance), { force: true });
}

/** Names of all named network namespaces the current runtime's lab sees (reads its /run/netns; no process spawned). */
export async function listNamespaces(): Promise<string[]> {
  return currentRuntime().listNamespaces();
}

/** Where the ids of the checks that did not hold in a lab's last run or check are kept (`--only-failed`). */
function lastFailedPath(lab: string): string {
  return join(stateDir(), '.results', `${lab}.json`);
}

/** What the last run or check of a lab left undone: ids of the checks that did not hold. */
export interface LastFailed {
  at: string;
  failed: string[];
}

/** Remembers which checks of a lab did not hold, for a later `--only-failed`. */
export async function saveLastFailed(lab: string, failed: readonly string[]): Promise<void> {
  await mkdir(join(stateDir(), '.results'), { recursive: true });
  const entry: LastFailed = { at: new Date().toISOString(), failed: [...failed] };
  writeWhole(lastFailedPath(lab), JSON.stringify(entry) + '\n');
}

/** The checks of a lab that did not hold last time, or undefined when it never ran here. */
export async function readLastFailed(lab: string): Promise<LastFailed | undefined> {
  try {
    return JSON.parse(await readFile(lastFailedPath(lab), 'utf8')) as LastFailed;
  } catch {
    return undefined;
  }
}
