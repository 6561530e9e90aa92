// netlab's side of the prober (libexec/netlab-probe.py): one small Python process per netlab run and runtime that
// sends every ping check's echoes through raw sockets it opens in the lab's namespaces. A ping check costs a line on
// a pipe, not a process: no fork of netlab's large process, no nsenter, no ping (PERFORMANCE.md: ~12 ms a spawn
// here, 2,450 of them for a 50-node all-pairs matrix). Where Python 3 is missing, ping checks run `ping` as before.
//
// Lifetime: started on first use (or early, by prestart, so its start overlaps the build); teardown ends it before
// deleting namespaces (a socket keeps its namespace alive in the kernel); when netlab ends however it ends, the
// prober's stdin reaches EOF and it exits. It runs in the instance's runtime: inside the box for a sandboxed lab.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tracing, type RunResult } from './exec.js';
import { jsonObject } from './json-lines.js';
import { currentRuntime, type Runtime } from './runtime.js';
import type { Op } from '../plan/ops.js';

/** The prober's program, passed with `python3 -c` (its path may be hidden inside the box). */
export const PROBER_FILE = fileURLToPath(new URL('../../libexec/netlab-probe.py', import.meta.url));

/** What the prober answers for one ping request. */
export interface ProbeAnswer {
  outcome: 'reply' | 'no-route' | 'icmp-unreachable' | 'no-reply' | 'error';
  sent: number;
  received: number;
  ttls: number[];
  message: string;
  /** ping-like lines: "64 bytes from …", "From … Destination Host Unreachable". */
  lines: string[];
}

/** A link as the prober reports it: what `ip -j -d addr show` says of it that settling looks at. */
export interface ProbedLink {
  ifname: string;
  flags?: string[];
  operstate?: string;
  linkinfo?: { info_slave_kind?: string; info_slave_data?: { state?: string } };
  addr_info?: { local: string; scope?: string; tentative?: boolean }[];
}

export interface PingRequest {
  /** The namespace's path as the prober sees it (/run/netns/NS, inside the box for a boxed lab). */
  netns: string;
  target: string;
  count: number;
  /** Seconds between echoes (count > 1). */
  interval: number;
  /** Seconds to wait for answers after the last echo. */
  wait: number;
  /** Seconds after which a single unanswered echo is sent once more (0: never). */
  resend: number;
}

/** How long the prober may take to start (Python and its imports: ~0.1 s here; seconds on a machine that is swapping). */
const START_TIMEOUT_MS = 20_000;

/** A namespace's configuration over netlink: a few messages each; only a hung prober takes this long. */
const CONFIGURE_TIMEOUT_MS = 60_000;

/** The op kinds the prober applies over netlink, and sysctls through /proc/sys (plan/ops.ts); a step as it is sent. */
export const CONFIGURE_KINDS = ['link-add', 'link-up', 'link-down', 'link-set', 'link-master', 'addr-add', 'route-add', 'neigh-add', 'sysctl'] as const;

/** Whether the prober can apply `op` over netlink. */
export function configurable(op: Op): boolean {
  // Devices other than bridges and dummies (parents, tun/tap, vxlan options) stay with ip.
  if (op.kind === 'link-add') return op.into === undefined && (op.spec.type === 'bridge' || op.spec.type === 'dummy');
  return (CONFIGURE_KINDS as readonly string[]).includes(op.kind);
}
export type ConfigureStep = [string, Record<string, unknown>];

/** Beyond a probe's own wait: only a hung or starved prober reaches it. */
const ANSWER_SLACK_MS = 10_000;

/** The Python to run: the system's own (a version manager's shim, e.g. pyenv's, costs 0.5 s a start), else PATH's. */
export function pythonPath(): string {
  for (const p of ['/usr/bin/python3', '/usr/local/bin/python3']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return 'python3';
}

/**
 * What `python3 -I -S -c` runs: netlab-probe.py (argv[1]) imported as a module through the import system's own file
 * loader, which keeps the compiled code in libexec/__pycache__ where it can write (compiling the file was ~13 ms of
 * every start); then its run(). The loader classes are the frozen ones Python starts with (importlib.util would cost
 * more imports than the cache saves); should they be missing, the file is compiled and run as a script.
 */
export const PROBER_BOOT = [
  'import sys',
  'try:',
  '    from _frozen_importlib import module_from_spec, spec_from_loader',
  '    from _frozen_importlib_external import SourceFileLoader',
  "    loader = SourceFileLoader('netlab_probe', sys.argv[1])",
  "    probe = module_from_spec(spec_from_loader('netlab_probe', loader))",
  '    loader.exec_module(probe)',
  '    run = probe.run',
  'except ImportError:',
  "    probe = {'__name__': 'netlab_probe'}",
  "    exec(compile(open(sys.argv[1], 'rb').read(), sys.argv[1], 'exec'), probe)",
  "    run = probe['run']",
  'run()',
  '',
].join('\n');

interface Waiting {
  /** The prober's answer, or why there is none. */
  resolve: (a: Record<string, unknown> | string) => void;
  timer: NodeJS.Timeout;
  /** The request's signal: when it fires, the request is answered 'stopped'. */
  signal: AbortSignal | undefined;
}

export class Prober {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, Waiting>();
  /** The signals a request waited on, each listened to once. */
  private readonly watched = new WeakSet<AbortSignal>();
  private nextId = 1;
  private buf = '';
  private errTail = '';
  /** Resolves true once the prober said it is ready, false if it could not start (no Python) or died first. */
  readonly ready: Promise<boolean>;
  private dead: string | undefined;
  private up = false;
  readonly exited: Promise<void>;

  constructor(rt: Runtime) {
    const argv = rt.argv([pythonPath(), '-I', '-S', '-c', PROBER_BOOT, PROBER_FILE]);
    const [file, ...args] = argv;
    if (tracing()) process.stderr.write(`+ ${argv.slice(0, 4).join(' ')} <boot> ${argv.at(-1)} &\n`);
    this.child = spawn(file as string, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C', LC_ALL: 'C', ...rt.env } });
    let ready: (ok: boolean) => void = () => undefined;
    this.ready = new Promise((r) => (ready = r));
    // The child and its pipes are unref'd (below): this timer is what keeps netlab waiting for the prober's start
    // (and bounds it), as each request's own timer does for its answer.
    const starting = setTimeout(() => {
      this.die(`the prober did not start in ${START_TIMEOUT_MS / 1000} s`, ready);
      this.child.kill('SIGKILL');
    }, START_TIMEOUT_MS);
    void this.ready.then((ok) => {
      clearTimeout(starting);
      this.up = ok;
    });
    this.exited = new Promise((r) => this.child.once('close', () => r()));
    this.child.once('error', (e) => this.die(`could not start the prober: ${e.message}`, ready));
    this.child.once('close', (code, sig) => this.die(`the prober ended (${sig ?? `exit ${code}`})${this.errTail.trim() ? `: ${this.errTail.trim().split('\n').at(-1)}` : ''}`, ready));
    this.child.stderr?.on('data', (d: Buffer) => void (this.errTail = (this.errTail + d.toString()).slice(-2000)));
    this.child.stdout?.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const lines = this.buf.split('\n');
      this.buf = lines.pop() ?? '';
      for (const line of lines) this.onLine(line, ready);
    });
    // Never what keeps netlab alive: a pending request holds its own timer.
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
    this.child.stdin?.on('error', () => undefined);
  }

  /** Whether it said it is ready and has not ended since. */
  isReady(): boolean {
    return this.up && this.dead === undefined;
  }

  private onLine(line: string, ready: (ok: boolean) => void): void {
    const m = jsonObject(line);
    if (!m) return;
    if (m.ready === true) return ready(true);
    const w = typeof m.id === 'number' ? this.waiting.get(m.id) : undefined;
    if (!w) return;
    this.waiting.delete(m.id as number);
    clearTimeout(w.timer);
    w.resolve(m);
  }

  /** Answers every waiting request (only those waiting on `signal`, when given) with why there is no answer. */
  private answerWaiting(why: string, signal?: AbortSignal): void {
    for (const [id, w] of this.waiting) {
      if (signal && w.signal !== signal) continue;
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.resolve(why);
    }
  }

  private die(why: string, ready: (ok: boolean) => void): void {
    this.dead ??= why;
    ready(false);
    this.answerWaiting(this.dead);
  }

  /**
   * Sends one request and waits for its answer: the prober's object, or why there is none (a string: the prober did
   * not start, died, did not answer within `budgetMs`, or the signal fired). Never rejects.
   */
  private async request(body: Record<string, unknown>, budgetMs: number, signal?: AbortSignal, traced = true): Promise<Record<string, unknown> | string> {
    if (!(await this.ready)) return this.dead ?? 'the prober is not running';
    // Ended since it was ready: nothing would answer (the request would wait out its whole budget).
    if (this.dead !== undefined) return this.dead;
    signal?.throwIfAborted();
    const id = this.nextId++;
    if (signal && !this.watched.has(signal)) {
      // One listener per signal, not one per request: an EventTarget checks each new listener against all it has,
      // which for a run's thousands of requests on one signal was quadratic (~20 ms at 200 requests).
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.answerWaiting('stopped', signal), { once: true });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(`the prober did not answer in ${(budgetMs / 1000).toFixed(1)} s`);
      }, budgetMs);
      this.waiting.set(id, { resolve, timer, signal });
      const line = `${JSON.stringify({ id, ...body })}\n`;
      if (traced && tracing()) process.stderr.write(`+ [prober] ${line}`);
      this.child.stdin?.write(line);
    });
  }

  /** Sends one ping request; never rejects (a prober that died or hung answers `error`). */
  async ping(req: PingRequest, signal?: AbortSignal): Promise<ProbeAnswer> {
    const a = await this.request({ op: 'ping', ...req }, (req.wait + req.count * req.interval) * 1000 + ANSWER_SLACK_MS, signal);
    if (typeof a === 'string') return errorAnswer(a);
    const p = a as Partial<ProbeAnswer>;
    return {
      outcome: p.outcome ?? 'error',
      sent: Number(p.sent ?? 0),
      received: Number(p.received ?? 0),
      ttls: Array.isArray(p.ttls) ? p.ttls.map(Number) : [],
      message: String(p.message ?? ''),
      lines: Array.isArray(p.lines) ? p.lines.map(String) : [],
    };
  }

  /**
   * Configures one namespace over netlink (links, addresses, routes, neighbours: CONFIGURE_KINDS), steps in order,
   * stopping at the first that fails; undefined when all were applied, else the failed step's index and the kernel's
   * words. Never rejects: a prober that died or hung is a failure of step -1.
   */
  async configure(netns: string, steps: readonly ConfigureStep[], signal?: AbortSignal): Promise<{ step: number; message: string } | undefined> {
    const a = await this.request({ op: 'configure', netns, steps }, CONFIGURE_TIMEOUT_MS, signal);
    if (typeof a === 'string') return { step: -1, message: a };
    return a.ok === true ? undefined : { step: Number(a.step ?? -1), message: String(a.message ?? '') };
  }

  /**
   * A namespace's links and addresses (the fields of `ip -j -d addr show` that settle.ts reads), and from then on the
   * namespace is watched: with `waitMs` the answer comes once a link or an address changed since the last answer, or
   * after `waitMs`. A string says why there is no answer. Never rejects unless `signal` fired before the request.
   */
  async links(netns: string, waitMs?: number, signal?: AbortSignal): Promise<ProbedLink[] | string> {
    const a = await this.request({ op: 'links', netns, ...(waitMs !== undefined ? { waitMs } : {}) }, (waitMs ?? 0) + ANSWER_SLACK_MS, signal);
    if (typeof a === 'string') return a;
    if (a.ok !== true) return String(a.message ?? 'the prober could not read the links');
    return Array.isArray(a.links) ? (a.links as ProbedLink[]) : 'the prober answered without links';
  }

  /** Ends the watch links() started on a namespace (its sockets keep the namespace alive). */
  async unwatch(netns: string): Promise<void> {
    await this.request({ op: 'unwatch', netns }, ANSWER_SLACK_MS);
  }

  /**
   * Runs argv from the prober, a small process (a fork of netlab's large one costs ~10 ms here), and waits for it: for
   * netlab's own batches, while nothing else waits on the prober (it reads no request until the command ended).
   * `release`: the prober first closes every socket it holds in a namespace (before deleting namespaces). Never
   * rejects; undefined when the prober gave no answer (it ended, or hung): the caller runs argv itself.
   */
  async exec(argv: readonly string[], opts: { input?: string; timeoutMs?: number; release?: boolean } = {}): Promise<RunResult | undefined> {
    const started = performance.now();
    if (tracing()) {
      process.stderr.write(`+ [prober] ${argv.join(' ')}\n`);
      if (opts.input) process.stderr.write(opts.input.replace(/^/gm, '  | '));
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const body = { op: 'exec', argv, ...(opts.input !== undefined ? { input: opts.input } : {}), timeoutMs, ...(opts.release ? { release: true } : {}) };
    // Its own time limit, then the 2 s it gives a killed command, then the usual slack.
    const a = await this.request(body, timeoutMs + 2000 + ANSWER_SLACK_MS, undefined, false);
    const result = (exitCode: number | undefined, stdout: string, stderr: string, extra: Partial<RunResult> = {}): RunResult => ({
      argv: [...argv],
      exitCode,
      stdout,
      stderr,
      durationMs: performance.now() - started,
      timedOut: false,
      ...extra,
    });
    if (typeof a === 'string') return undefined;
    const error = a.error as { code?: unknown; message?: unknown } | undefined;
    if (error) return result(undefined, '', '', { spawnError: `Command failed with ${String(error.code)}: ${argv.join(' ')}\n${String(error.message ?? '')}` });
    return result(typeof a.exit === 'number' ? a.exit : undefined, String(a.stdout ?? ''), String(a.stderr ?? ''), { timedOut: a.timedOut === true });
  }

  /** Ends the prober (its sockets hold the lab's namespaces) and waits until it is gone. */
  async close(): Promise<void> {
    this.child.stdin?.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(killer);
  }
}

function errorAnswer(message: string): ProbeAnswer {
  return { outcome: 'error', sent: 0, received: 0, ttls: [], message, lines: [] };
}

/** One prober per runtime (plain, or a sandbox's box) in this netlab process. */
const probers = new Map<Runtime, Prober>();

/** Whether netlab may use a prober (NETLAB_PROBER=0 turns it off: every ping check then runs `ping`). */
export function proberEnabled(): boolean {
  return process.env.NETLAB_PROBER !== '0';
}

/**
 * The prober of the current runtime, started now if it is not running; undefined when it cannot run (no Python, or
 * turned off), so the caller runs `ping` instead.
 */
export async function currentProber(): Promise<Prober | undefined> {
  if (!proberEnabled()) return undefined;
  const rt = currentRuntime();
  let p = probers.get(rt);
  if (!p) {
    p = new Prober(rt);
    probers.set(rt, p);
  }
  return (await p.ready) ? p : undefined;
}

/**
 * The current runtime's prober if one was started (nothing is started here) and it is, or becomes, ready. `wait`
 * false: only one that is ready now.
 */
export async function startedProber(wait = true): Promise<Prober | undefined> {
  const p = probers.get(currentRuntime());
  if (!p) return undefined;
  if (!wait) return p.isReady() ? p : undefined;
  return (await p.ready) ? p : undefined;
}

/** Starts the current runtime's prober without waiting for it, so its start overlaps the build. */
export function prestartProber(): void {
  if (!proberEnabled() || probers.has(currentRuntime())) return;
  try {
    probers.set(currentRuntime(), new Prober(currentRuntime()));
  } catch {
    /* a runtime that cannot start processes any more: the checks will say so */
  }
}

/** Ends every prober of this process (before namespaces are deleted: its sockets keep them alive in the kernel). */
export async function closeProbers(): Promise<void> {
  const all = [...probers.values()];
  probers.clear();
  await Promise.all(all.map((p) => p.close()));
}
