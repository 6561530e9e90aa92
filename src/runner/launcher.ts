// netlab's side of the sandbox launcher (libexec/netlab-launcher.cjs): one small Node process per netlab invocation
// and sandbox, started once inside the box (through the runtime's own nsenter/cgroup wrapper), which starts every
// process netlab asks for already in the box. That saves the per-process `sh` (cgroup) + `nsenter -t` (which forks)
// + `setpriv` chain, and netlab's own fork: a launched process costs what it costs in plain mode, or less.
//
// What a launched process gives back is what execa gives exec.ts: stdout and stderr (streamed and in full), exit code
// or signal, timedOut after `timeoutMs` (SIGTERM, SIGKILL 1 s later), isCanceled when the AbortSignal fires, a
// spawn error (ENOENT…) as a failure without exit code. When netlab ends, however it ends, the launcher's stdin
// reaches EOF and it kills what it started (SIGKILL, or SIGINT for helpers stopped that way) and exits.
//
// Trust: the launcher runs as root inside the box, in the lab's namespaces and cgroup, so it can do nothing the lab's
// own processes cannot. A lab process can reach its pipes (/proc/PID/fd of a process in the same pid namespace), as
// it can reach the pipes of any check running beside it; what it could write is at worst a false output or exit of a
// process of the same lab. netlab never takes a pid, a path or a command from the launcher, and a malformed or
// oversized line is dropped, not obeyed.
import { jsonObject } from './json-lines.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The launcher's program, passed with `node -e` (its path may be hidden inside the box: a private /tmp). */
export const LAUNCHER_FILE = fileURLToPath(new URL('../../libexec/netlab-launcher.cjs', import.meta.url));

export interface LaunchOptions {
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What the process gets when netlab goes away before it ended. */
  death?: 'SIGKILL' | 'SIGINT';
}

/** The fields of execa's result that exec.ts reads. */
export interface LaunchResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Stopped for printing more than MAX_BUFFER. */
  isMaxBuffer: boolean;
  isCanceled: boolean;
  failed: boolean;
  shortMessage: string | undefined;
}

/** A launched process, shaped like the part of execa's ResultPromise that exec.ts uses. */
export type Launched = Promise<LaunchResult> & {
  stdout: EventEmitter;
  stderr: EventEmitter;
  /** Sends the signal (default SIGTERM; a SIGTERM is followed by SIGKILL after 1 s, like execa's forceKillAfterDelay). */
  kill: (signal?: NodeJS.Signals) => void;
};

/** As execa: SIGKILL this long after a SIGTERM that did not end the process. */
const FORCE_KILL_MS = 1000;
/** exec.ts's MAX_OUTPUT (execa's maxBuffer there): more output than this kills the process. */
const MAX_BUFFER = 4 * 1024 * 1024;
/** A line from the launcher longer than this is not one it wrote (its chunks are at most 64 KiB): dropped. */
const MAX_LINE = 4 * 1024 * 1024;

interface Pending {
  argv: readonly string[];
  out: Buffer[];
  err: Buffer[];
  size: number;
  events: { stdout: EventEmitter; stderr: EventEmitter };
  finish: (m: { exit: unknown; signal: unknown; error?: { code?: unknown; message?: unknown } } | { lost: string }) => void;
}

const isSocket = (s: unknown): s is { ref: () => void; unref: () => void } => typeof (s as { unref?: unknown })?.unref === 'function';

export class Launcher {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private ready = false;
  /** Who waits for the launcher to be ready (whenReady): told true when it is, false when it ends first. */
  private waiters: ((ok: boolean) => void)[] = [];

  /** `argv`: how to start `node -e CODE` inside the box (the runtime's wrapper around it). */
  /** `env`: what the box's processes get on top of netlab's environment (the runtime's env). */
  constructor(
    private readonly argv: () => string[],
    private readonly env: Readonly<Record<string, string>> = {},
  ) {}

  private ensure(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null && this.child.stdin?.writable) return this.child;
    const argv = this.argv();
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...this.env, LANG: 'C', LC_ALL: 'C' } });
    this.child = child;
    this.stderrTail = '';
    this.ready = false;
    let buf = '';
    let dropping = false;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (dropping) dropping = false;
        else this.onLine(line);
      }
      if (buf.length > MAX_LINE) {
        buf = '';
        dropping = true;
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => (this.stderrTail = (this.stderrTail + c).slice(-2000)));
    child.stdin?.on('error', () => {});
    const lost = () => {
      if (this.child === child) {
        this.child = undefined;
        this.ready = false;
      }
      this.settle(false);
      const why = this.stderrTail.trim();
      for (const p of this.pending.values()) p.finish({ lost: `the sandbox's launcher ended${why ? `: ${why}` : ''}` });
      this.pending.clear();
    };
    child.on('error', (e) => {
      this.stderrTail += e.message;
      lost();
    });
    child.on('close', lost);
    this.idle(child);
    return child;
  }

  /** Holds node's event loop open only while a launched process runs: an idle launcher never keeps netlab alive. */
  private idle(child = this.child): void {
    if (!child) return;
    const on = this.pending.size > 0;
    for (const s of [child, child.stdout, child.stderr, child.stdin]) if (isSocket(s)) (on ? s.ref() : s.unref());
  }

  private onLine(line: string): void {
    const m = jsonObject(line);
    if (!m) return;
    if ((m as { ready?: unknown }).ready === true) {
      this.ready = true;
      this.settle(true);
      return;
    }
    const msg = m as { id?: unknown; o?: unknown; e?: unknown; exit?: unknown; signal?: unknown; error?: { code?: unknown; message?: unknown } };
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    for (const [key, list, ev] of [['o', p.out, p.events.stdout], ['e', p.err, p.events.stderr]] as const) {
      const data = msg[key];
      if (typeof data !== 'string') continue;
      // Past the cap the process is being stopped (guard below): nothing more of it is kept, as execa's maxBuffer.
      if (p.size > MAX_BUFFER) continue;
      const chunk = Buffer.from(data, 'base64');
      p.size += chunk.length;
      list.push(chunk);
      ev.emit('data', chunk);
    }
    if ('exit' in msg) {
      this.pending.delete(msg.id as number);
      p.finish({ exit: msg.exit, signal: msg.signal, ...(typeof msg.error === 'object' && msg.error ? { error: msg.error } : {}) });
      this.idle();
    }
  }

  private settle(ok: boolean): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w(ok);
  }

  /**
   * Starts the launcher if it is not running, and resolves true once it is ready; false if it ended first or was not
   * ready within `timeoutMs`. For what must run through the launcher whatever the timing (grade's scripts).
   */
  whenReady(timeoutMs = 10_000): Promise<boolean> {
    if (this.isReady()) return Promise.resolve(true);
    this.ensure();
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.push(done);
    });
  }

  /** Whether the launcher runs and reads requests. */
  isReady(): boolean {
    return this.ready && this.child !== undefined;
  }

  /**
   * Starts argv like start() once the launcher runs; until then (Node takes ~0.1 s to start) it only starts the
   * launcher and returns undefined, so the caller can start that process its own way meanwhile.
   */
  startIfReady(argv: readonly string[], opts: LaunchOptions = {}): Launched | undefined {
    if (this.isReady()) return this.start(argv, opts);
    this.ensure();
    return undefined;
  }

  /** Closes the launcher's stdin: it kills what still runs and exits (as when netlab exits). */
  close(): void {
    this.child?.stdin?.end();
  }

  private write(m: object): void {
    this.child?.stdin?.write(`${JSON.stringify(m)}\n`);
  }

  /** Starts argv inside the box. Never throws: a failure to start is a failed result, as with execa's reject: false. */
  start(argv: readonly string[], opts: LaunchOptions = {}): Launched {
    const child = this.ensure();
    const id = this.nextId++;
    const events = { stdout: new EventEmitter(), stderr: new EventEmitter() };
    let timedOut = false;
    let isCanceled = false;
    let killedFor: string | undefined;
    let force: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
      if (done) return;
      this.write({ op: 'kill', id, signal });
      if (signal === 'SIGTERM' && !force) force = setTimeout(() => this.write({ op: 'kill', id, signal: 'SIGKILL' }), FORCE_KILL_MS);
    };
    const onAbort = () => {
      isCanceled = true;
      kill();
    };
    const promise = new Promise<LaunchResult>((resolve) => {
      const p: Pending = {
        argv,
        out: [],
        err: [],
        size: 0,
        events,
        finish: (m) => {
          done = true;
          clearTimeout(timer);
          clearTimeout(force);
          opts.signal?.removeEventListener('abort', onAbort);
          const stdout = Buffer.concat(p.out).toString();
          const stderr = Buffer.concat(p.err).toString();
          const cmd = argv.join(' ');
          if ('lost' in m) {
            resolve({ exitCode: undefined, signal: undefined, stdout, stderr, timedOut, isCanceled, isMaxBuffer: killedFor !== undefined, failed: true, shortMessage: `Command failed: ${cmd}\n${m.lost}` });
            return;
          }
          const exitCode = typeof m.exit === 'number' && !m.error ? m.exit : undefined;
          const signal = typeof m.signal === 'string' ? m.signal : undefined;
          const spawnError = m.error ? `Command failed with ${String(m.error.code)}: ${cmd}\n${String(m.error.message)}` : undefined;
          const shortMessage =
            spawnError ??
            (timedOut ? `Command timed out after ${opts.timeoutMs} milliseconds: ${cmd}` : killedFor ?? (signal ? `Command was killed with ${signal}: ${cmd}` : exitCode ? `Command failed with exit code ${exitCode}: ${cmd}` : undefined));
          resolve({ exitCode, signal, stdout, stderr, timedOut, isCanceled, isMaxBuffer: killedFor !== undefined, failed: exitCode !== 0 || timedOut || isCanceled, shortMessage });
        },
      };
      this.pending.set(id, p);
    });
    // execa's maxBuffer: a process that floods netlab is stopped.
    const guard = () => {
      const p = this.pending.get(id);
      if (p && p.size > MAX_BUFFER && !killedFor) {
        killedFor = `Command's output was larger than ${MAX_BUFFER} bytes: ${argv.join(' ')}`;
        kill('SIGKILL');
      }
    };
    events.stdout.on('data', guard);
    events.stderr.on('data', guard);
    this.write({ op: 'spawn', id, argv, ...(opts.input !== undefined ? { input: opts.input } : {}), death: opts.death ?? 'SIGKILL' });
    this.idle(child);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, opts.timeoutMs);
    }
    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    return Object.assign(promise, { stdout: events.stdout, stderr: events.stderr, kill });
  }
}

let code: string | undefined;
/** The launcher program's text. */
export function launcherCode(): string {
  return (code ??= readFileSync(LAUNCHER_FILE, 'utf8'));
}
