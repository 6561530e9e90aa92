// Resource limits of a boxed (--sandbox) instance: a cgroup per instance, `netlab-<instance>`, with a cap on the
// number of processes and on memory, so a fork bomb or a memory hog in a lab cannot starve the machine.
//   cgroup v2   where the unified hierarchy has the pids and memory controllers delegated to netlab's own cgroup
//               (both listed in its cgroup.subtree_control): pids.max, memory.max.
//   cgroup v1   where the pids and memory controllers are mounted as v1 hierarchies: a `netlab-<instance>` cgroup in
//               each, under netlab's own cgroup there (so a limit that already holds netlab holds the lab too).
//   rlimit      neither: `prlimit --nproc --as` on every process netlab starts in the box (weak; docs/trust.md).
// netlab only ever creates, writes and removes `netlab-<instance>` cgroups; it never changes any other cgroup.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { validInstance } from '../plan/naming.js';

/** What the state record keeps of an instance's limits. */
export interface LimitsRef {
  kind: 'cgroup-v1' | 'cgroup-v2' | 'rlimit';
  /** The instance's cgroup directories (one per v1 controller, one for v2; none for rlimit). */
  dirs: string[];
  maxPids: number;
  /** Bytes. */
  maxMemory: number;
}

export interface LimitSettings {
  maxPids: number;
  maxMemory: number;
}

export const DEFAULT_LIMITS: LimitSettings = { maxPids: 512, maxMemory: 1024 ** 3 };
/** Default time limit of `run --sandbox`, in ms. */
export const DEFAULT_TIME_LIMIT_MS = 10 * 60_000;

/** Where the cgroup controllers netlab uses are mounted, read from /proc/self/mountinfo. */
export interface Mounts {
  /** v1 hierarchies: controller → mount point (and the cgroup path at the mount's root, for cgroup namespaces). */
  v1: Partial<Record<'pids' | 'memory', { mount: string; root: string }>>;
  /** The cgroup2 (unified) mount, if any. */
  v2?: { mount: string; root: string };
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The pids/memory v1 mounts and the v2 mount in the text of /proc/self/mountinfo. */
export function parseMountinfo(text: string): Mounts {
  const out: Mounts = { v1: {} };
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(' ');
    const [fstype, , superOpts = ''] = line.slice(dash + 3).split(' ');
    const root = unescape(pre[3] ?? '');
    const mount = unescape(pre[4] ?? '');
    if (!mount.startsWith('/')) continue;
    if (fstype === 'cgroup2') out.v2 ??= { mount, root };
    if (fstype === 'cgroup') {
      const opts = superOpts.split(',');
      for (const c of ['pids', 'memory'] as const) if (opts.includes(c)) out.v1[c] ??= { mount, root };
    }
  }
  return out;
}

/** netlab's own cgroup per hierarchy, from /proc/self/cgroup: v1 controller → path, and '' → the v2 path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, ctrls = '', path = ''] = m;
    if (ctrls === '') out.set('', path);
    for (const c of ctrls.split(',')) if (c) out.set(c, path);
  }
  return out;
}

/** The directory of cgroup `path` in a hierarchy mounted at `mount` whose root is `root`. */
function dirOf(m: { mount: string; root: string }, path: string): string {
  const rel = m.root !== '/' && path.startsWith(m.root) ? path.slice(m.root.length) : path;
  return join(m.mount, rel);
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512M", "1G", "1.5g", "1048576" → bytes (binary units; a trailing B or iB is allowed). UsageError otherwise. */
export function parseSize(text: string, option = '--max-memory'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] as number)) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 4 * 1024 ** 2) {
    throw new UsageError(`${option} takes a size of at least 4M, like 512M or 2G, not "${text}"`);
  }
  return bytes;
}

/** "90s", "10m", "1h", "1h30m", "45" (seconds) → ms. UsageError otherwise. */
export function parseDuration(text: string, option = '--time-limit'): number {
  const t = text.trim();
  let ms = 0;
  if (/^\d+$/.test(t)) ms = Number(t) * 1000;
  else if (/^(\d+[hms])+$/.test(t)) for (const [, n, u] of t.matchAll(/(\d+)([hms])/g)) ms += Number(n) * { h: 3_600_000, m: 60_000, s: 1000 }[u as 'h' | 'm' | 's'];
  // setTimeout holds at most 2^31-1 ms (about 24 days).
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms > 2 ** 31 - 1) throw new UsageError(`${option} takes a duration from 1s to 596h, like 90s, 10m or 1h, not "${text}"`);
  return ms;
}

const read = (p: string) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

/** Whether this process may make a cgroup in `dir` (root may; an unprivileged user where it was delegated to them). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where netlab would put an instance's cgroups on this machine (no change made), or rlimit. */
export function plannedLimits(instance: string, s: LimitSettings, mountinfo = read('/proc/self/mountinfo'), own = read('/proc/self/cgroup'), canWrite = writable): LimitsRef {
  const name = `netlab-${validInstance(instance)}`;
  const mounts = parseMountinfo(mountinfo);
  const paths = parseProcCgroup(own);
  const base = { ...s };
  const v2 = mounts.v2;
  const v2path = paths.get('');
  if (v2 && v2path !== undefined) {
    const parent = dirOf(v2, v2path);
    const delegated = read(join(parent, 'cgroup.subtree_control')).split(/\s+/);
    if (delegated.includes('pids') && delegated.includes('memory') && canWrite(parent)) return { kind: 'cgroup-v2', dirs: [join(parent, name)], ...base };
  }
  const { pids, memory } = mounts.v1;
  const pp = paths.get('pids');
  const mp = paths.get('memory');
  if (pids && memory && pp !== undefined && mp !== undefined && canWrite(dirOf(pids, pp)) && canWrite(dirOf(memory, mp))) {
    return { kind: 'cgroup-v1', dirs: [join(dirOf(pids, pp), name), join(dirOf(memory, mp), name)], ...base };
  }
  return { kind: 'rlimit', dirs: [], ...base };
}

/** Creates the instance's cgroups and sets their limits. Throws (and removes what it made) when that fails. */
export function createLimits(ref: LimitsRef): void {
  const made: string[] = [];
  try {
    for (const dir of ref.dirs) {
      try {
        mkdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        // netlab holds the instance id (its record), so this is a killed run's leftover: reuse it only once it is
        // empty, by removing it (rmdir fails while a process is in it) and making it afresh.
        rmdirSync(dir);
        mkdirSync(dir);
      }
      made.push(dir);
      if (ref.kind === 'cgroup-v2') {
        writeFileSync(join(dir, 'pids.max'), String(ref.maxPids));
        writeFileSync(join(dir, 'memory.max'), String(ref.maxMemory));
        if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      } else if (existsSync(join(dir, 'pids.max'))) {
        writeFileSync(join(dir, 'pids.max'), String(ref.maxPids));
      } else {
        writeFileSync(join(dir, 'memory.limit_in_bytes'), String(ref.maxMemory));
        // Swap counts too where the kernel accounts it (memsw), so a hog cannot swap the machine to a halt.
        const memsw = join(dir, 'memory.memsw.limit_in_bytes');
        if (existsSync(memsw)) writeFileSync(memsw, String(ref.maxMemory));
      }
    }
  } catch (e) {
    removeLimits({ ...ref, dirs: made });
    throw e;
  }
}

/**
 * The POSIX shell (like the supervisor's own script, no tool to install) with fixed text: write its own pid into each
 * cgroup.procs given as an argument (paths made of mount points and a validated instance id), then exec the rest.
 */
const JOIN_CGROUPS = ['sh', '-c', 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"', 'netlab-limits'];

/** The argv prefix that starts a process inside the instance's limits: it joins the cgroups, then execs the rest. */
export function limitArgv(ref: LimitsRef | undefined, launcher = false): string[] {
  if (!ref) return [];
  // The sandbox's launcher (a Node process, which reserves more address space than it uses) gets no --as: it puts
  // that cap on each process it starts (NETLAB_BOX_AS, see runtime.ts).
  if (ref.kind === 'rlimit') return ['prlimit', `--nproc=${ref.maxPids}`, ...(launcher ? [] : [`--as=${ref.maxMemory}`]), '--'];
  return [...JOIN_CGROUPS, ...ref.dirs.map((d) => join(d, 'cgroup.procs')), '--'];
}

/** Pids still in a cgroup. */
export function cgroupPids(dir: string): number[] {
  return read(join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
}

/** Removes the instance's cgroups (only `netlab-*` directories); those that still hold a process stay. Returns them. */
export function removeLimits(ref: Pick<LimitsRef, 'dirs'>): string[] {
  const left: string[] = [];
  for (const dir of ref.dirs) {
    if (!/\/netlab-[a-z0-9-]+$/.test(dir)) continue;
    try {
      rmdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

/** Removes the cgroups once their last process is gone (a few ms after the supervisor dies); what stays is returned. */
export async function removeLimitsWhenEmpty(ref: Pick<LimitsRef, 'dirs'>, boundMs = 5000): Promise<string[]> {
  let left = removeLimits(ref);
  // The kernel reaps the sandbox's processes asynchronously after its pid 1 dies; the bound is only a guard.
  for (let waited = 0; left.length && waited < boundMs; waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
    left = removeLimits({ dirs: left });
  }
  return left;
}

/** `netlab-<instance>` cgroups (in the directories netlab creates them in) of the instances `keep` rejects. */
export function strayCgroups(select: (instance: string) => boolean, mountinfo = read('/proc/self/mountinfo'), own = read('/proc/self/cgroup')): string[] {
  const ref = plannedLimits('x', DEFAULT_LIMITS, mountinfo, own);
  const out: string[] = [];
  for (const dir of ref.dirs) {
    const parent = dir.slice(0, dir.lastIndexOf('/'));
    let names: string[] = [];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const n of names) if (/^netlab-[a-z0-9][a-z0-9-]*$/.test(n) && select(n.slice('netlab-'.length))) out.push(join(parent, n));
  }
  return out;
}

/**
 * How often a box ran into its limits so far, read from its cgroups: `pids`, forks refused at pids.max (pids.events
 * "max"); `oom`, processes the kernel killed at the memory limit (memory.events / memory.oom_control "oom_kill").
 * Zeros with rlimits, which keep no count. `grade` tells a submission that forks or eats without end by these.
 */
export function limitHits(ref: Pick<LimitsRef, 'kind' | 'dirs'>): { pids: number; oom: number } {
  const field = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  let pids = 0;
  let oom = 0;
  for (const dir of ref.kind === 'rlimit' ? [] : ref.dirs) {
    pids += field(read(join(dir, 'pids.events')), 'max');
    oom += field(read(join(dir, ref.kind === 'cgroup-v2' ? 'memory.events' : 'memory.oom_control')), 'oom_kill');
  }
  return { pids, oom };
}
