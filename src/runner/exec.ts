// The one module that spawns processes: argv arrays only (never a shell), explicit timeouts, optional trace.
import type { EventEmitter } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from './execa-lazy.js';
import { BuildError } from '../errors.js';
import { closeSync } from 'node:fs';
import { openLabLog } from './lab-files.js';
import { currentRuntime, type ParentDeath } from './runtime.js';

export interface RunResult {
  argv: string[];
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** Set when the process could not be started at all (e.g. the tool is missing). */
  spawnError?: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Stop the process (SIGTERM) as soon as its stdout contains this: it has shown what was waited for. */
  stopOnStdout?: string;
  /** The process runs a lab's own command in a node and should see the node's /sys (the sandbox runtime honours it). */
  ownSys?: boolean;
}

/** When set (--verbose or NETLAB_TRACE=1), every command and its stdin is written to stderr. */
let trace = process.env.NETLAB_TRACE === '1';
export function setTrace(on: boolean): void {
  trace = on;
}
/** Whether commands are traced (for the few that do not start through this module: the prober's requests). */
export function tracing(): boolean {
  return trace;
}

const ENV = { LANG: 'C', LC_ALL: 'C' };

/** What exec.ts uses of a started process: execa's ResultPromise, or the sandbox launcher's look-alike (launcher.ts). */
interface Started extends Promise<Finished> {
  stdout?: EventEmitter | null;
  stderr?: EventEmitter | null;
  kill(signal?: NodeJS.Signals): unknown;
}
interface Finished {
  exitCode?: number | undefined;
  signal?: string | undefined;
  stdout?: unknown;
  stderr?: unknown;
  timedOut: boolean;
  isCanceled: boolean;
  isMaxBuffer?: boolean;
  failed: boolean;
  shortMessage?: string | undefined;
}

/**
 * The most output netlab keeps of one process, per stream (characters). A lab's command can print without end
 * (`yes`, `cat /dev/zero`), and netlab (outside the lab's memory limit, 16 checks at a time, keeping every result for
 * the report) would hold it all: past this the process is stopped and its result says so.
 */
export const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * Starts argv with netlab's defaults: no shell, LANG=C, no rejection, a hard kill 1 s after a timeout or cancel.
 * The instance's runtime (runtime.ts) decides where it runs: as is (plain), or inside the sandbox (through its
 * launcher, which starts it already in the box).
 */
function start(lab: readonly string[], opts: RunOptions, background = false, parentDeath?: ParentDeath): Started {
  const rt = currentRuntime();
  if (!lab.length) throw new Error('empty argv');
  const launched = rt.launch?.(lab, {
    ...(opts.ownSys ? { ownSys: true } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    death: parentDeath === 'INT' ? 'SIGINT' : 'SIGKILL',
  });
  if (launched) {
    if (trace) {
      process.stderr.write(`+ [sandbox launcher] ${lab.join(' ')}${background ? ' &' : ''}\n`);
      if (opts.input) process.stderr.write(opts.input.replace(/^/gm, '  | '));
    }
    return launched;
  }
  const argv = rt.argv(lab, { ...(opts.ownSys ? { ownSys: true } : {}), ...(parentDeath ? { parentDeath } : {}) });
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv');
  if (trace) {
    process.stderr.write(`+ ${argv.join(' ')}${background ? ' &' : ''}\n`);
    if (opts.input) process.stderr.write(opts.input.replace(/^/gm, '  | '));
  }
  return spawnShort(file, args, { ...process.env, ...ENV, ...rt.env }, opts, rt.labPid);
}

/**
 * Signals a process netlab started, while it runs (after its exit its pid may be another process's). The signal goes to
 * the lab's process (`labPid`): in the sandbox that is the child of the nsenter netlab started (nsenter forks to enter
 * the box's pid namespace, and passes no signal on). Signalled itself, nsenter would die first and leave its child,
 * killed by its parent-death signal, a zombie of the host's init: it holds a pid of the box until that init reaps it,
 * and ending the box waits for that (1.5 s under a lazy init; for ever when netlab is pid 1 of a container, as node
 * reaps only what it started). Signalled first, the child dies, nsenter reaps it and ends by the same signal.
 */
function signalChild(child: ChildProcess, labPid: (pid: number) => number, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const target = labPid(child.pid);
  try {
    if (target !== child.pid) return void process.kill(target, sig);
  } catch {
    /* ended meanwhile: nsenter itself then */
  }
  child.kill(sig);
}

/** As execa's forceKillAfterDelay: SIGKILL this long after a SIGTERM that did not end the process. */
const FORCE_KILL_MS = 1000;

/**
 * Starts a short-lived process with node's own spawn and gives what execa's ResultPromise gave exec.ts (execa options
 * reject: false, timeout, cancelSignal, forceKillAfterDelay 1 s, maxBuffer MAX_OUTPUT, stripFinalNewline: false).
 * Loading execa's ~100 modules cost ~0.2 s of a run's start-up, and its own JS ~6 ms per process
 * (PERFORMANCE.md); the few processes a run still starts need none of what it adds.
 */
function spawnShort(file: string, args: readonly string[], env: NodeJS.ProcessEnv, opts: RunOptions, labPid: (pid: number) => number): Started {
  let child: ChildProcess;
  try {
    child = spawn(file, args, { env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  } catch (e) {
    // Some refusals come as a throw, not an 'error' event (EPERM: root without capabilities): a spawn error all the same.
    const err = e as NodeJS.ErrnoException;
    const failed: Finished = { exitCode: undefined, signal: undefined, stdout: '', stderr: '', timedOut: false, isCanceled: false, isMaxBuffer: false, failed: true, shortMessage: `Command failed with ${err.code ?? 'an error'}: ${[file, ...args].join(' ')}\n${err.message}` };
    return Object.assign(Promise.resolve(failed), { stdout: null, stderr: null, kill: () => undefined });
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let isMaxBuffer = false;
  let timedOut = false;
  let isCanceled = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const signal = (sig: NodeJS.Signals) => signalChild(child, labPid, sig);
  const kill = (sig: NodeJS.Signals = 'SIGTERM') => {
    signal(sig);
    if (sig === 'SIGTERM') forceTimer ??= setTimeout(() => signal('SIGKILL'), FORCE_KILL_MS);
  };
  // Per stream, as execa's maxBuffer: past MAX_OUTPUT the process is stopped and its result says so.
  const keep = (into: Buffer[]) => {
    let size = 0;
    return (d: Buffer) => {
      if (isMaxBuffer) return;
      size += d.length;
      if (size > MAX_OUTPUT) {
        isMaxBuffer = true;
        // Our ends of the pipes closed: a writer the signal does not reach (a grandchild: `ip netns exec` forks, and
        // setpriv's pdeathsig is not inherited) gets SIGPIPE, and the process's close is not held up by it (as execa).
        child.stdout?.destroy();
        child.stderr?.destroy();
        kill();
        return;
      }
      into.push(d);
    };
  };
  child.stdout?.on('data', keep(out));
  child.stderr?.on('data', keep(err));
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), kill()), opts.timeoutMs) : undefined;
  const onAbort = () => ((isCanceled = true), kill());
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.input !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  }
  const done = new Promise<Finished>((resolve) => {
    const finish = (f: Omit<Finished, 'timedOut' | 'isCanceled' | 'isMaxBuffer'>) => {
      clearTimeout(timer);
      clearTimeout(forceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      const text = (b: Buffer[]) => Buffer.concat(b).toString().slice(0, MAX_OUTPUT);
      resolve({ ...f, stdout: text(out), stderr: text(err), timedOut, isCanceled, isMaxBuffer });
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      // Not started at all (ENOENT, EACCES): no exit code, execa's words.
      if (child.pid === undefined) finish({ exitCode: undefined, signal: undefined, failed: true, shortMessage: `Command failed with ${e.code ?? 'an error'}: ${[file, ...args].join(' ')}\n${e.message}` });
    });
    // Stopped by netlab (time, cancel): once it exited, what a grandchild still holds open is not waited for.
    child.once('exit', () => {
      if (timedOut || isCanceled || isMaxBuffer) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    });
    child.once('close', (code, sig) => finish({ exitCode: code ?? undefined, signal: sig ?? undefined, failed: code !== 0 }));
  });
  return Object.assign(done, { stdout: child.stdout, stderr: child.stderr, kill });
}

/** What a finished process gave, as a RunResult. */
function resultOf(argv: readonly string[], r: Finished, started: number): RunResult {
  const spawnError = r.failed && r.exitCode === undefined && !r.timedOut && !r.isCanceled && !r.signal ? r.shortMessage : undefined;
  return {
    argv: [...argv],
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.isMaxBuffer ? `\nnetlab: stopped: its output went over ${MAX_OUTPUT} characters\n` : ''),
    durationMs: performance.now() - started,
    timedOut: r.timedOut,
    ...(spawnError !== undefined ? { spawnError } : {}),
  };
}

/** Runs argv and returns its result; never throws for a non-zero exit (a failed check is a result). */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const child = start(argv, opts);
  const needle = opts.stopOnStdout;
  if (needle !== undefined) {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(needle)) child.kill();
    });
  }
  return resultOf(argv, await child, started);
}

/** Runs argv and throws BuildError (exit 3) unless it exits 0. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return okOrThrow(argv, await run(argv, opts), opts.signal);
}

/** `r` (what argv gave, however it was started), unless the signal fired or argv did not exit 0: BuildError (exit 3). */
export function okOrThrow(argv: readonly string[], r: RunResult, signal?: AbortSignal): RunResult {
  signal?.throwIfAborted();
  if (r.exitCode !== 0) {
    const why = r.spawnError ?? (r.timedOut ? 'timed out' : r.stderr.trim() || `exit code ${r.exitCode}`);
    throw new BuildError(`${argv.join(' ')} failed: ${why}`, { cause: r });
  }
  return r;
}

/** Runs argv with the terminal attached (for `netlab exec`); resolves to its exit code. */
export async function runInteractive(lab: readonly string[], env: Record<string, string> = {}): Promise<number> {
  const rt = currentRuntime();
  const argv = rt.argv(lab, { ownSys: true });
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv');
  if (trace) process.stderr.write(`+ ${argv.join(' ')}\n`);
  const r = await execa(file, args, { reject: false, stdio: 'inherit', env: { ...rt.env, ...env } });
  return r.exitCode ?? (r.signal ? 128 : 1);
}

export interface Detached {
  pid: number;
  /** The process's stdout, when asked for; close it once the process said it is ready. */
  stdout?: NodeJS.ReadableStream;
  /** Resolves with the exit code if the process ends while netlab still watches it. */
  exited: Promise<number | undefined>;
  /** Stops watching, so netlab can exit while the process keeps running. */
  release: () => void;
  /** SIGKILL to the process while it runs (a server that did not start): signalChild says to which. */
  kill: () => void;
}

/**
 * Starts a long-running process (a lab service, a DHCP server) in its own process group, so it outlives an `up`
 * and a Ctrl-C in the terminal does not reach it; netlab stops it by pid on teardown. stderr goes to `logFile`.
 */
export function spawnDetached(lab: readonly string[], opts: { logFile: string; stdout?: boolean }): Detached {
  const rt = currentRuntime();
  const argv = rt.argv(lab);
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv');
  if (trace) process.stderr.write(`+ ${argv.join(' ')} &\n`);
  // The log is in the instance's run directory, which the lab can write: opened here, never through a symlink.
  const log = openLabLog(opts.logFile);
  let child;
  try {
    // The log is the lab's: a process may open it by name too (dnsmasq's --log-facility), as the box's root.
    rt.own(`/proc/self/fd/${log}`);
    child = execa(file, args, {
      reject: false,
      env: { ...ENV, ...rt.env },
      detached: true,
      cleanup: false,
      stdin: 'ignore',
      stdout: opts.stdout ? 'pipe' : 'ignore',
      // The fd itself (the very file checked above): a single integer goes straight to child_process.spawn, so the
      // process writes its log directly (execa's types allow only 3-9 here, its runtime any fd; `{ file }` would
      // open the name again, asynchronously, through a symlink).
      stderr: log as unknown as 3,
      buffer: false,
    });
  } finally {
    // The child has its own copy once spawned (execa spawns synchronously).
    closeSync(log);
  }
  const exited = child.then((r) => r.exitCode);
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  return {
    pid: child.pid,
    ...(opts.stdout && child.stdout ? { stdout: child.stdout } : {}),
    exited,
    release: () => {
      child.stdout?.destroy();
      child.unref();
    },
    kill: () => signalChild(child, rt.labPid, 'SIGKILL'),
  };
}

/** A helper started by spawnWatched: when it is ready, and how to stop it. */
export interface Watched {
  /** Resolves true once stderr or stdout printed `ready`, false if the process ended or timed out first. */
  ready: Promise<boolean>;
  /** Sends SIGINT and resolves with the result once the process exited. */
  stop: () => Promise<RunResult>;
}

/**
 * Starts a short-lived helper (e.g. tcpdump) that runs until netlab stops it, watching its output for the line that
 * says it is ready. `timeoutMs` bounds its whole life, so it cannot outlive a run that died.
 */
export function spawnWatched(argv: readonly string[], opts: { ready: RegExp; timeoutMs: number; signal?: AbortSignal }): Watched {
  const started = performance.now();
  // Stopped with SIGINT (tcpdump then writes what it caught): in the sandbox that is the signal nsenter's child gets.
  const child = start(argv, { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) }, true, 'INT');
  let seen = '';
  const ready = new Promise<boolean>((resolve) => {
    const look = (chunk: Buffer | string) => {
      seen += String(chunk);
      if (opts.ready.test(seen)) resolve(true);
    };
    child.stderr?.on('data', look);
    child.stdout?.on('data', look);
    void child.then(() => resolve(false));
  });
  const result = child.then((r) => resultOf(argv, r, started));
  return {
    ready,
    stop: () => {
      child.kill('SIGINT');
      return result;
    },
  };
}
