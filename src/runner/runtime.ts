// The one seam between netlab and the machine: where a lab's processes start and where netlab reads the namespace
// and /proc state of a lab. Two implementations, chosen once per instance (the state record says which):
//   plain    today's behaviour: processes start in the root namespaces, named namespaces live in /run/netns.
//   sandbox  every process starts inside the instance's supervisor (new mount, pid, net, ipc and uts namespaces,
//            a private tmpfs on /run/netns): `nsenter -t SUPERVISOR …` before each argv; netlab reads the lab's
//            /run/netns through /proc/SUPERVISOR/root. When the supervisor dies, the kernel ends the whole lab.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { Launcher, launcherCode, type LaunchOptions, type Launched } from './launcher.js';
import { limitArgv, type LimitsRef } from './limits.js';

/** A process identified robustly: pid plus its start time, so a reused pid is never mistaken for ours. */
export interface ProcRef {
  pid: number;
  start: string;
}

/** What the state record keeps of an instance's sandbox. */
export interface SandboxRef {
  /** The supervisor: pid 1 of the sandbox's pid namespace, as the host sees it. */
  supervisor: ProcRef;
  /** Its resource limits (limits.ts): every process of the sandbox, the supervisor first, starts inside them. */
  limits?: LimitsRef;
}

/** Signal a lab process gets when netlab's wrapper of it (nsenter) dies: KILL, or INT for helpers stopped with SIGINT. */
export type ParentDeath = 'KILL' | 'INT';

export interface Runtime {
  readonly kind: 'plain' | 'sandbox';
  /**
   * The argv netlab starts for `argv`. `ownSys`: the process runs in a node (`nsenter --net=/run/netns/NS -- …`)
   * and should see that node's own /sys (the sandbox starts it with `ip netns exec`, which mounts it).
   */
  argv(argv: readonly string[], opts?: { parentDeath?: ParentDeath; ownSys?: boolean }): string[];
  /** Where netlab finds a path that the lab's processes see at `path` (e.g. a /run/netns file). */
  hostPath(path: string): string;
  /** Names of the named network namespaces the lab's processes see (their /run/netns). */
  listNamespaces(): Promise<string[]>;
  /** The pid whose /proc entries show what a process netlab started sees (nsenter's child in the sandbox). */
  labPid(pid: number): number;
  /**
   * Starts a process that netlab waits for (exec.ts's run and spawnWatched) through the sandbox's launcher
   * (launcher.ts), already inside the box. Undefined while the launcher is still starting (it is started then), and
   * absent in plain mode: exec.ts then starts `argv(…)` itself.
   */
  launch?(argv: readonly string[], opts: LaunchOptions & { ownSys?: boolean }): Launched | undefined;
}

/** Start time of a process from /proc (field 22), or undefined when it does not exist or has exited (zombie). */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Today's behaviour, byte for byte: argv unchanged, /run/netns read directly. */
export const PLAIN: Runtime = {
  kind: 'plain',
  argv: (argv) => [...argv],
  hostPath: (path) => path,
  listNamespaces: () => namesIn('/run/netns'),
  labPid: (pid) => pid,
};

/** The one child of a process (nsenter forks once to enter a pid namespace), or undefined. */
function onlyChild(pid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length === 1 ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The working directory of a process netlab starts in the sandbox: netlab's own, resolved inside the box (where the
 * host's file system is read-only), or / when the box has no such directory (netlab runs in a /tmp directory: the
 * box's /tmp is its own). Never `nsenter --wd`: that opens the directory on the host, before entering, and a boxed
 * process whose cwd is the host's directory writes through it to the host (the read-only mounts are the box's).
 */
function boxCwd(root: string): string {
  const cwd = process.cwd();
  try {
    return statSync(`${root}${cwd}`).isDirectory() ? cwd : '/';
  } catch {
    return '/';
  }
}

/** The namespaces nsenter enters: everything the supervisor has of its own (not the user namespace). */
const ENTER = ['--mount', '--pid', '--net', '--ipc', '--uts'];

/** The runtime of an instance boxed in the sandbox whose supervisor is `sup`. */
export function sandboxRuntime(sb: SandboxRef): Runtime {
  const { pid, start } = sb.supervisor;
  const root = `/proc/${pid}/root`;
  /** Never enter a pid that is no longer the supervisor (it ended; the pid may be another process's by now). */
  const live = () => procStart(pid) === start;
  const rt: Runtime = {
    kind: 'sandbox',
    argv: (argv, opts = {}) => {
      if (!live()) {
        throw new BuildError(`the instance's sandbox is gone (its supervisor, pid ${pid}, ended): nothing of the lab is left`, {
          hint: '`netlab cleanup INSTANCE` removes its state record',
        });
      }
      let inner = [...argv];
      // `nsenter --net=/run/netns/NS -- cmd…` → `ip netns exec NS cmd…`: same namespace, plus the node's own /sys.
      const [first, net, sep, ...rest] = inner;
      if (opts.ownSys && first === 'nsenter' && net?.startsWith('--net=/run/netns/') && sep === '--') {
        inner = ['ip', 'netns', 'exec', net.slice('--net=/run/netns/'.length), ...rest];
      }
      // The node's namespace is entered by a second nsenter inside the sandbox, never by the outer one through
      // /proc/SUPERVISOR/root/run/netns/NS: that path is resolved on the host, and the lab (root in its sandbox) can
      // put a symlink there (`ln -sf /proc/1/ns/net …`) that the host resolves to the host's own namespace.
      // nsenter forks to enter the pid namespace and does not pass signals on: the child dies with it instead.
      return [...limitArgv(sb.limits), 'nsenter', '-t', String(pid), ...ENTER, `--wdns=${boxCwd(root)}`, '--', 'setpriv', `--pdeathsig=${opts.parentDeath ?? 'KILL'}`, '--', ...inner];
    },
    // The same check as argv's (the launcher is started through argv, which also throws when the sandbox is gone).
    launch: (argv, opts) => {
      if (!live()) rt.argv(argv);
      return launcherOf(sb, rt).startIfReady(boxedArgv(argv, opts), opts);
    },
    hostPath: (path) => `${root}${path}`,
    listNamespaces: async () => (live() ? namesIn(`${root}/run/netns`) : []),
    labPid: (p) => onlyChild(p) ?? p,
  };
  return rt;
}

/** What runs inside the box for `argv`: a node's `nsenter --net=/run/netns/NS -- cmd…` becomes `ip netns exec NS cmd…` when it should see the node's /sys. */
function boxedArgv(argv: readonly string[], opts: { ownSys?: boolean }): string[] {
  const [first, net, sep, ...rest] = argv;
  if (opts.ownSys && first === 'nsenter' && net?.startsWith('--net=/run/netns/') && sep === '--') {
    return ['ip', 'netns', 'exec', net.slice('--net=/run/netns/'.length), ...rest];
  }
  return [...argv];
}

/** One launcher per sandbox and netlab process, started on first use through the runtime's own wrapper (`rt.argv`). */
const launchers = new Map<string, Launcher>();
function launcherOf(sb: SandboxRef, rt: Runtime): Launcher {
  const key = `${sb.supervisor.pid}:${sb.supervisor.start}`;
  let l = launchers.get(key);
  if (!l) {
    l = new Launcher(() => rt.argv([process.execPath, '-e', launcherCode()]));
    launchers.set(key, l);
  }
  return l;
}

/** The runtime a state record says its instance uses. */
export function runtimeOf(rec: { sandbox?: SandboxRef }): Runtime {
  return rec.sandbox ? sandboxRuntime(rec.sandbox) : PLAIN;
}

const scoped = new AsyncLocalStorage<Runtime>();
let processDefault: Runtime = PLAIN;

/** The runtime of the instance this code works on: the innermost withRuntime, else the command's (useRuntime), else plain. */
export function currentRuntime(): Runtime {
  return scoped.getStore() ?? processDefault;
}

/** Runs fn (and everything it starts, across awaits) with `rt` as the runtime. */
export function withRuntime<T>(rt: Runtime, fn: () => T): T {
  return scoped.run(rt, fn);
}

/** Sets the runtime of a command that works on one instance (exec, check, step…), once it has read its record. */
export function useRuntime(rt: Runtime): void {
  processDefault = rt;
}

/**
 * The supervisor's script (fixed text, no lab data; $1 = run | up, $2 = the instance's work directory, an absolute
 * path that exists): make every mount of its copy of the host's file system read-only (each mount point of
 * /proc/self/mountinfo remounted `bind,ro`; the kernel has no recursive remount that util-linux 2.38 exposes), then
 * open the few writable places again: the work directory (bound onto itself read-write: netlab writes job files there
 * from the host and the lab's processes write logs, leases and captures, both see the same files), /proc/sys/net
 * (each process sees its own network namespace's settings there: a node's sysctls), a private tmpfs on /tmp and a
 * private tmpfs on /run/netns (after dropping the copies of the host's named namespaces). Then say ready and hold
 * the namespaces: until netlab closes stdin (`run`: netlab's death ends the lab) or for ever (`up`: until `down`).
 * Any mount that fails stops it before `ready`: a sandbox is never started half read-only.
 */
const SUPERVISOR_SCRIPT = [
  'set -e',
  'work=$2',
  'case $work in /*) ;; *) echo "netlab-supervisor: bad work directory" >&2; exit 1 ;; esac',
  '[ -d "$work" ]',
  'umount -R -l /run/netns 2>/dev/null || true',
  'mkdir -p /run/netns',
  // mountinfo field 5 is the mount point, with space, tab, newline and backslash as octal escapes (\040…): %b decodes them.
  // One that cannot be remounted stops the start, unless its path is gone (a mount point the host deleted: unreachable).
  // Only a point with an escape is decoded: $(…) forks, and the loop runs once per mount (dozens), at every start.
  'while read -r _ _ _ _ point _; do case $point in *\\\\*) p=$(printf %b "$point") ;; *) p=$point ;; esac; mount -o remount,bind,ro "$p" 2>/dev/null || [ ! -e "$p" ] || { echo "cannot make $p read-only" >&2; exit 1; }; done </proc/self/mountinfo',
  'mount --bind -- "$work" "$work"',
  'mount -o remount,bind,rw -- "$work"',
  'mount --bind /proc/sys/net /proc/sys/net',
  'mount -o remount,bind,rw /proc/sys/net',
  'mount -t tmpfs -o mode=1777,size=64m netlab-tmp /tmp',
  'mount -t tmpfs -o mode=0755,size=1m netlab-sandbox /run/netns',
  'set +e',
  'echo ready',
  'if [ "$1" = up ]; then exec sleep infinity; else exec cat >/dev/null; fi',
].join('\n');

export interface Sandbox extends SandboxRef {
  /** Ends the sandbox: SIGKILL to the supervisor, and waits until it is gone. */
  stop: () => Promise<void>;
}

/**
 * Starts an instance's supervisor in new mount, pid, net, ipc and uts namespaces. `up`: it outlives netlab;
 * `run`: it ends when netlab does, however netlab ends (its stdin is a pipe from netlab). `workDir`: the instance's
 * work directory (created here), the one place of the host's file system the lab's processes can write.
 */
export async function startSandbox(mode: 'run' | 'up', workDir: string, timeoutMs = 10_000, limits?: LimitsRef): Promise<Sandbox> {
  workDir = resolve(workDir);
  if (/[\0\n]/.test(workDir)) throw new BuildError(`could not start the sandbox: bad work directory ${JSON.stringify(workDir)}`);
  mkdirSync(workDir, { recursive: true, mode: 0o755 });
  // The limits' wrapper joins the cgroups and then execs unshare: the supervisor is inside them from its first instruction.
  const argv = [...limitArgv(limits), 'unshare', ...ENTER, '--fork', '--mount-proc', '--propagation', 'private', '--', 'sh', '-c', SUPERVISOR_SCRIPT, 'netlab-supervisor', mode, workDir];
  const child = execa(argv[0] as string, argv.slice(1), {
    reject: false,
    detached: true,
    cleanup: false,
    env: { LANG: 'C', LC_ALL: 'C' },
    stdin: mode === 'run' ? 'pipe' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
  });
  if (child.pid === undefined) throw new BuildError('could not start the sandbox (unshare)');
  const unsharePid = child.pid;
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    lines.on('line', (l) => {
      if (l === 'ready') {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void child.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  lines.close();
  const inner = ready ? onlyChild(unsharePid) : undefined;
  const start = inner !== undefined ? procStart(inner) : undefined;
  if (inner === undefined || start === undefined) {
    try {
      process.kill(unsharePid, 'SIGKILL');
    } catch {
      /* gone */
    }
    throw new BuildError(`could not start the sandbox: ${stderr.trim() || 'unshare did not get ready'}`);
  }
  // Let netlab exit while the supervisor lives on (`up`), or hold the stdin pipe open until it dies (`run`).
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  const supervisor = { pid: inner, start };
  return { supervisor, ...(limits ? { limits } : {}), stop: () => stopSandbox({ supervisor }) };
}

/** Kills a sandbox's supervisor (pid 1 of its pid namespace: the kernel ends every process and namespace of it). */
export async function stopSandbox(sb: SandboxRef): Promise<void> {
  const { pid, start } = sb.supervisor;
  if (procStart(pid) !== start) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  // SIGKILL cannot be ignored: this takes a few ms, so look again after 1 ms, doubling up to 20 ms (a fixed 20 ms
  // step cost every run and down 20 ms for nothing); the bound of about 5 s is only a guard.
  for (let waited = 0, step = 1; waited < 5000 && procStart(pid) === start; waited += step, step = Math.min(step * 2, 20)) {
    await new Promise((r) => setTimeout(r, step));
  }
}
