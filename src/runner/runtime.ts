// The one seam between netlab and the machine: where a lab's processes start and where netlab reads the namespace
// and /proc state of a lab. Two implementations, chosen once per instance (the state record says which):
//   plain    today's behaviour: processes start in the root namespaces, named namespaces live in /run/netns.
//   sandbox  every process starts inside the instance's box: a supervisor in new pid, mount, user, net, ipc and uts
//            namespaces whose root is not the host's (STAGE1/STAGE2 below), with a private /run/netns. Processes
//            netlab waits for start through the box's launcher (launcher.ts), the rest with `nsenter -t SUPERVISOR …`
//            before their argv; netlab reads the lab's /run/netns through /proc/SUPERVISOR/root. When the supervisor
//            dies, the kernel ends the whole lab. Without root (unprivileged()), every instance is boxed.
import { AsyncLocalStorage } from 'node:async_hooks';
import { chownSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from './execa-lazy.js';
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
  /** The instance's work directory (the box's one writable place of the host's file system, and its processes' cwd). */
  work?: string;
  /** Started by an unprivileged user: entering it takes two steps (see sandboxRuntime). */
  unprivileged?: true;
}

/** Signal a lab process gets when netlab's wrapper of it (nsenter) dies: KILL, or INT for helpers stopped with SIGINT. */
export type ParentDeath = 'KILL' | 'INT';

export interface Runtime {
  readonly kind: 'plain' | 'sandbox';
  /**
   * The argv netlab starts for `argv`. `ownSys`: the process runs in a node (`nsenter --net=/run/netns/NS -- …`)
   * and should see that node's own /sys (the sandbox starts it with `ip netns exec`, which mounts it).
   */
  argv(argv: readonly string[], opts?: { parentDeath?: ParentDeath; ownSys?: boolean; launcher?: boolean }): string[];
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
  /** Starts the launcher if need be and resolves once launch() uses it (true), or false if it could not start. Absent in plain mode. */
  launcherReady?(): Promise<boolean>;
  /** Hands a file or directory netlab made for the lab's processes (job files, logs, captures) to them: the box's root owns it. */
  own(path: string): void;
  /** Environment the lab's processes get on top of netlab's. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Whether netlab runs without root. Such a user's labs are always boxed (the sandbox is what lets them build one:
 * namespaces owned by a user namespace of their own), and their state lives under their own directory.
 */
export function unprivileged(): boolean {
  return process.getuid?.() !== 0;
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
  own: () => {},
  env: {},
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

/** The namespaces of the supervisor that nsenter enters. */
const ENTER = ['--user', '--mount', '--pid', '--net', '--ipc', '--uts'];

/**
 * The argv prefix that puts a process into the box of supervisor `pid`. As root one nsenter enters them all (the
 * pid namespace, which belongs to the host's user namespace, before the box's user namespace). Unprivileged, the pid
 * namespace belongs to stage 1's user namespace (the supervisor keeps it open as fd 3): a first nsenter enters that
 * and the pid namespace (and forks), a second the box's own user, mount, net, ipc and uts namespaces.
 */
function enterArgv(sb: SandboxRef): string[] {
  const pid = String(sb.supervisor.pid);
  // The work directory as the box sees it (it is there at the same path), never `--wd` (see boxCwd).
  const wd = `--wdns=${sb.work ?? boxCwd(`/proc/${pid}/root`)}`;
  if (!sb.unprivileged) return ['nsenter', '-t', pid, ...ENTER, wd, '--'];
  // The user is root in both user namespaces already (each maps 0 to them) and may not call setgroups there: keep the credentials.
  const keep = '--preserve-credentials';
  return ['nsenter', keep, `--user=/proc/${pid}/fd/3`, `--pid=/proc/${pid}/ns/pid`, '--', 'nsenter', keep, '-t', pid, ...ENTER.filter((e) => e !== '--pid'), wd, '--'];
}

/**
 * PATH for the box's processes: the directories of netlab's PATH that the box sees and its root may search — not
 * under /tmp or /run (the box has its own), and as root (BOX_UID) each one and its parents searchable by others (one
 * under /root would turn a missing command's "No such file or directory" into "Permission denied") — then the
 * system's own directories, where the tools of a PATH the box cannot see are found.
 */
export function boxPath(path = process.env.PATH ?? '', user = unprivileged()): string {
  const searchable = (dir: string): boolean => {
    if (user) return true;
    for (let d = resolve(dir); ; d = dirname(d)) {
      try {
        if ((statSync(d).mode & 0o001) === 0) return false;
      } catch {
        return false;
      }
      if (d === '/') return true;
    }
  };
  const hidden = (d: string) => ['/tmp', '/run'].some((h) => d === h || d.startsWith(`${h}/`));
  const dirs = path.split(':').filter((d) => d.startsWith('/') && !hidden(resolve(d)) && searchable(d));
  return [...new Set([...dirs, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])].join(':');
}

/** argv with netlab's own files (dist/, libexec/) at the path the box sees them at (BOX_PKG). */
function inBoxPaths(argv: readonly string[]): string[] {
  return argv.map((a) => (a.startsWith(`${PKG}/`) ? `${BOX_PKG}${a.slice(PKG.length)}` : a));
}

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
      const inner = boxedArgv(argv, opts);
      // The node's namespace is entered by a second nsenter inside the sandbox, never by the outer one through
      // /proc/SUPERVISOR/root/run/netns/NS: that path is resolved on the host, and the lab (root in its sandbox) can
      // put a symlink there (`ln -sf /proc/1/ns/net …`) that the host resolves to the host's own namespace.
      // nsenter forks to enter the pid namespace and does not pass signals on: the child dies with it instead.
      return [...limitArgv(sb.limits, opts.launcher === true), ...enterArgv(sb), 'setpriv', `--pdeathsig=${opts.parentDeath ?? 'KILL'}`, '--', ...inBoxPaths(inner)];
    },
    // The same check as argv's (the launcher is started through argv, which also throws when the sandbox is gone).
    launch: (argv, opts) => {
      if (!live()) rt.argv(argv);
      return launcherOf(sb, rt).startIfReady(inBoxPaths(boxedArgv(argv, opts)), opts);
    },
    launcherReady: async () => (live() ? launcherOf(sb, rt).whenReady() : false),
    hostPath: (path) => `${root}${path}`,
    listNamespaces: async () => (live() ? namesIn(`${root}/run/netns`) : []),
    labPid: (p) => onlyChild(p) ?? p,
    // As root the box's root is BOX_UID; unprivileged it is the user, who made the directory.
    own: (path) => {
      if (!sb.unprivileged) chownSync(path, BOX_UID, BOX_UID);
    },
    env: { PATH: boxPath(process.env.PATH, sb.unprivileged === true) },
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
    const as = sb.limits?.kind === 'rlimit' ? { NETLAB_BOX_AS: String(sb.limits.maxMemory) } : {};
    l = new Launcher(() => rt.argv([process.execPath, '-e', launcherCode()], { launcher: true }), { ...rt.env, ...as });
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
 * The host uid of the sandbox's root when netlab runs as root: an otherwise unused id (no passwd entry, no process of
 * the machine has it), so root inside the box owns nothing outside it. Where netlab runs unprivileged, the box's
 * root is the user who runs it (the only mapping an unprivileged user may make).
 */
export const BOX_UID = 2_147_000_000;

/** Where a boxed process finds netlab's own files (dist/, libexec/): the package, bound read-only into the box. */
export const BOX_PKG = '/run/netlab-pkg';
/** netlab's package directory on the host (dist/.. or src/..). */
const PKG = resolve(import.meta.dirname, '../..');

/**
 * Perl (fixed text, no quote in it): make the whole mount tree read-only in one call, then /proc writable again
 * (stage 2's user namespace maps are written there). Exits non-zero when the kernel refuses either.
 */
const RO_ALL = [
  'my ($all, $proc, $ro, $rw) = ("/", "/proc", pack("Q4", 1, 0, 0, 0), pack("Q4", 0, 1, 0, 0));',
  'syscall(442, -100, $all, 0x8000, $ro, 32) == 0 or exit 1;',
  'syscall(442, -100, $proc, 0, $rw, 32) == 0 or exit 1;',
].join(' ');

/**
 * Stage 1 of the supervisor (fixed text, no lab data). It runs as pid 1 of the sandbox's new pid namespace (its own
 * /proc), in a new mount namespace, and as root: the host's (netlab as root) or a user namespace's whose root is the
 * user (unprivileged). $1 = run | up, $2 = the instance's work directory (absolute, exists), $3 = netlab's package
 * directory, $4 = root | user, $5 = stage 2's script, $6… = host paths the box must not see (`grade`: the rubric, the
 * submissions, the results; absolute, resolved).
 *   - every mount of its copy of the host's file system read-only (each mount point of /proc/self/mountinfo remounted
 *     `bind,ro`: util-linux 2.38 has no recursive remount), but /proc, which is already the box's own;
 *   - a private tmpfs on /tmp and on /run (the host's sockets and runtime files stay out of reach; /run/netns is
 *     there, empty), the work directory bound back read-write at its own path (through the directory it had entered
 *     before the overmounts: /proc/self/cwd, unresolved by mount -c), netlab's package read-only at BOX_PKG, and
 *     (as root) a /dev/net/tun the box's root may open;
 *   - then stage 2 in a new user namespace (as root: under BOX_UID, keeping CAP_SYS_ADMIN only to create it where
 *     unprivileged user namespaces are restricted; its maps written by stage 1) with its own mount, net, ipc and uts
 *     namespaces. Every mount made
 *     here reaches stage 2 locked: its root, the lab's root, can neither remount one read-write nor unmount one to
 *     uncover what is below, and it has no capability over the pid namespace (no other /proc), over the host or over
 *     stage 1. Unprivileged, fd 3 keeps stage 1's user namespace open for netlab to enter the pid namespace by.
 * Any mount that fails stops it before `ready`: a sandbox is never started half read-only.
 */
const STAGE1 = [
  'set -e',
  // The supervisor's own tools (mount, mkdir, mknod, chown, cat, sleep: util-linux and coreutils, on every Debian)
  // are found even on a PATH that lists only the lab's tools; the lab's processes get netlab's PATH as it is.
  'PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin',
  'mode=$1 work=$2 pkg=$3 who=$4 stage2=$5',
  'case $work$pkg in /*/*) ;; *) echo "netlab-supervisor: bad directories" >&2; exit 1 ;; esac',
  'cd "$work"',
  // netlab's package may sit under /tmp or /run, which the tmpfs below hide: held open here, bound from the fd.
  'exec 4<"$pkg"',
  // Every mount read-only at once: mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY) (Linux 5.12+; system call 442 on every
  // architecture but alpha and ia64), then /proc, the box's own, writable again. util-linux 2.38 has no command for it
  // (2.39's `mount -o ro=recursive`), so perl (Essential on Debian and Ubuntu) makes the call: one process where the
  // loop below starts one `mount` per mount point. Where that fails (an older kernel, no perl), the loop.
  `perl -e '${RO_ALL}' 2>/dev/null || {`,
  // mountinfo field 5 is the mount point, with space, tab, newline and backslash as octal escapes (\040…): %b decodes them.
  // One that cannot be remounted stops the start, unless its path is gone (a mount point the host deleted: unreachable).
  // Only a point with an escape is decoded: $(…) forks, and the loop runs once per mount (dozens), at every start.
  'while read -r _ _ _ _ point _; do case $point in *\\\\*) p=$(printf %b "$point") ;; *) p=$point ;; esac; case $p in /proc|/proc/*) continue ;; esac; mount -o remount,bind,ro "$p" 2>/dev/null || [ ! -e "$p" ] || { echo "cannot make $p read-only" >&2; exit 1; }; done </proc/self/mountinfo',
  '}',
'mount -t tmpfs -o mode=1777,size=64m netlab-tmp /tmp',
  'mount -t tmpfs -o mode=0755,size=4m netlab-run /run',
  // Hidden paths: an empty read-only tmpfs over a directory, /dev/null over a file (reads as empty). A path already
  // out of sight (under /tmp or /run, now the box's own) is skipped; a mount that fails stops the start.
  'shift 5',
  'for p in "$@"; do if [ -d "$p" ]; then mount -t tmpfs -o ro,mode=0,size=4k netlab-hidden "$p"; elif [ -e "$p" ]; then mount --bind /dev/null "$p"; fi; done',
  `mkdir -p /run/netns ${BOX_PKG} "$work"`,
  'mount -c --bind /proc/self/cwd "$work"',
  'mount -o remount,bind,rw "$work"',
  `mount -c --bind /proc/self/fd/4 ${BOX_PKG}`,
  'exec 4<&-',
  `mount -o remount,bind,ro ${BOX_PKG}`,
  // The box's root (BOX_UID) opens /dev/net/tun (tap and tun devices, made in the box's own namespaces) even where the
  // host's node is root's alone (0600): a node of its own, bound over it. Unprivileged, the host's node decides.
  'if [ "$who" = root ] && [ -c /dev/net/tun ]; then mknod -m 666 /run/netlab-tun c 10 200; mount --bind /run/netlab-tun /dev/net/tun; fi',
  'cd "$work"',
  'if [ "$who" = user ]; then exec 3</proc/self/ns/user; exec unshare --user --map-root-user --mount --net --ipc --uts --propagation private -- sh -c "$stage2" netlab-supervisor "$mode"; fi',
  // As root, a helper writes stage 2's maps (0 → BOX_UID) itself, with setgroups left allowed (unshare's own
  // --map-root-user must deny it: tcpdump and dnsmasq call setgroups). Stage 2 tells it through a FIFO that its user
  // namespace exists and waits on another until mapped; its exec of stage 2's script then gives root its capabilities.
  'a=/run/netlab-map-a b=/run/netlab-map-b',
  `mkfifo -m 600 $a $b && chown ${BOX_UID}:${BOX_UID} $a $b`,
  `( read -r _ <$a && echo '0 ${BOX_UID} 1' >/proc/1/uid_map && echo '0 ${BOX_UID} 1' >/proc/1/gid_map && echo mapped >$b; rm -f $a $b ) &`,
  `exec setpriv --reuid=${BOX_UID} --regid=${BOX_UID} --clear-groups --inh-caps=+sys_admin --ambient-caps=+sys_admin -- unshare --user --mount --net --ipc --uts --propagation private -- sh -c 'echo >"$1" && read -r m <"$2" && [ "$m" = mapped ] && exec sh -c "$3" netlab-supervisor "$4"' netlab-map $a $b "$stage2" "$mode"`,
].join('\n');

/**
 * Stage 2, the supervisor proper (pid 1 of the box, root of its user namespace): its own tmpfs on /run/netns (where
 * the lab's `ip netns add` binds its namespaces), then say ready and hold the namespaces: until netlab closes stdin
 * (`run`: netlab's death ends the lab) or for ever (`up`: until `down`).
 */
const STAGE2 = [
  'set -e',
  'mount -t tmpfs -o mode=0755,size=1m netlab-netns /run/netns',
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
export async function startSandbox(mode: 'run' | 'up', workDir: string, timeoutMs = 10_000, limits?: LimitsRef, hide: readonly string[] = []): Promise<Sandbox> {
  workDir = resolve(workDir);
  if (/[\0\n]/.test(workDir)) throw new BuildError(`could not start the sandbox: bad work directory ${JSON.stringify(workDir)}`);
  const hidden = hide.map((p) => resolve(p));
  const within = (p: string, q: string) => q === p || q.startsWith(`${p}/`);
  const bad = hidden.find((p) => /[\0\n]/.test(p) || p === '/' || [workDir, PKG, process.execPath].some((q) => within(p, q)));
  if (bad !== undefined) throw new BuildError(`could not start the sandbox: cannot hide ${JSON.stringify(bad)}: it holds the work directory, netlab or node`);
  mkdirSync(workDir, { recursive: true, mode: 0o755 });
  const user = unprivileged();
  // As root, the box's root is BOX_UID: the one place it writes is its own.
  if (!user) chownSync(workDir, BOX_UID, BOX_UID);
  // The limits' wrapper joins the cgroups and then execs unshare: the supervisor is inside them from its first instruction.
  const stage1 = ['--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private'];
  const argv = [
    ...limitArgv(limits),
    'unshare',
    ...(user ? ['--user', '--map-root-user'] : []),
    ...stage1,
    '--',
    '/bin/sh',
    '-c',
    STAGE1,
    'netlab-supervisor',
    mode,
    workDir,
    PKG,
    user ? 'user' : 'root',
    STAGE2,
    ...hidden,
  ];
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
  return { supervisor, ...(limits ? { limits } : {}), work: workDir, ...(user ? { unprivileged: true as const } : {}), stop: () => stopSandbox({ supervisor }) };
}

/**
 * What marks a process as one of the box's, read from the supervisor while it lives: the box's pid namespace (every
 * process inside) and its mount namespace. nsenter, which netlab starts to enter the box (runtime argv, launcher),
 * stays in the host's pid namespace: it has the box's mount namespace, or (unprivileged, the first of two nsenters)
 * the box's pid namespace as the one its children get.
 */
function boxMarks(pid: number): Set<string> {
  const marks = new Set<string>();
  for (const ns of ['pid', 'mnt']) {
    try {
      marks.add(readlinkSync(`/proc/${pid}/ns/${ns}`));
    } catch {
      /* gone */
    }
  }
  return marks;
}

/** The processes (not zombies) in the box `marks` names: inside its pid namespace, in its mount namespace, or forking into it. */
function boxProcesses(marks: ReadonlySet<string>): ProcRef[] {
  const found: ProcRef[] = [];
  if (!marks.size) return found;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ours = ['pid', 'mnt', 'pid_for_children'].some((ns) => {
      try {
        return marks.has(readlinkSync(`/proc/${name}/ns/${ns}`));
      } catch {
        return false;
      }
    });
    const start = ours ? procStart(pid) : undefined;
    if (start !== undefined) found.push({ pid, start });
  }
  return found;
}

/** Waits (1 ms, doubling up to 20 ms) until none of `procs` runs, for at most `ms`; returns those still running. */
export async function waitGone(procs: readonly ProcRef[], ms: number): Promise<ProcRef[]> {
  let left = procs.filter((p) => procStart(p.pid) === p.start);
  for (let waited = 0, step = 1; left.length && waited < ms; waited += step, step = Math.min(step * 2, 20)) {
    await new Promise((r) => setTimeout(r, step));
    left = left.filter((p) => procStart(p.pid) === p.start);
  }
  return left;
}

/**
 * Kills a sandbox's supervisor (pid 1 of its pid namespace: the kernel ends every process and namespace of it), and
 * waits until no process of the box is left. The kernel reaps the box's processes before the supervisor is gone, but
 * an nsenter netlab started into the box (in the host's pid namespace, waiting for its child there) exits only after
 * it: `down` must not return while one of them still holds the box's mount namespace. They end on their own within
 * ms of their child; nothing else is killed (only netlab's processes are), and the wait is bounded.
 */
export async function stopSandbox(sb: SandboxRef): Promise<void> {
  const { pid, start } = sb.supervisor;
  if (procStart(pid) !== start) return;
  const marks = boxMarks(pid);
  // Read again: the marks must be the supervisor's, not those of a process that took its pid meanwhile.
  if (procStart(pid) !== start) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  // SIGKILL cannot be ignored: this takes a few ms, so look again after 1 ms, doubling up to 20 ms (a fixed 20 ms
  // step cost every run and down 20 ms for nothing); the bound of about 5 s is only a guard.
  if ((await waitGone([sb.supervisor], 5000)).length) return;
  await waitGone(boxProcesses(marks), 5000);
}
