// Applies a plan's ops with few processes (one root `ip -batch`; per namespace one `ip -batch`, and one `tc -batch`,
// one atomic `nft -f` and one sysctl where needed),
// keeps an undo log, and tears an instance down: stop its processes, delete its namespaces.
import { BuildError } from '../errors.js';
import { batchText, fanOutArgv, fanOutInput, inNamespace, ipBatchArgv, jobText, placement, toolOf, TOOLS, type Tool } from '../plan/argv.js';
import { inverse, type Op } from '../plan/ops.js';
import { nsPath } from '../plan/naming.js';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { currentRuntime } from './runtime.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { okOrThrow, runOk, run, type RunOptions, type RunResult } from './exec.js';
import { requestLease, startDhcpServer, startDnsServer, startServices, startTunnel, type LabProcess } from './processes.js';
import { rm } from 'node:fs/promises';
import { closeSync, constants, openSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { writeNewLabFile } from './lab-files.js';
import { runtimeOf, stopSandbox, waitGone, withRuntime } from './runtime.js';
import { removeLimitsWhenEmpty } from './limits.js';
import { closeProbers, configurable, currentProber, prestartProber, startedProber, type ConfigureStep } from './prober.js';

/** An op as a step of a configure request: its kind and its fields, minus the namespace. */
function configureStep(op: Op): ConfigureStep {
  const { kind, ns: _ns, ...rest } = op as Op & { ns: string };
  return [kind, rest];
}
import { alive, listNamespaces, procStart, runDir, type Lease, type ProcRef, type StateRecord } from './state.js';

/** How many namespaces are configured at once (processes are short; the kernel does the waiting). */
const NS_CONCURRENCY = 8;

/** Maps "Command failed -:N" from `ip -batch` back to the op on that line. */
function batchFailure(ops: readonly Op[], err: unknown, where: string): BuildError {
  const stderr = (err as { cause?: { stderr?: string } }).cause?.stderr ?? String(err);
  const m = /Command failed -:(\d+)/.exec(stderr);
  const op = m ? ops[Number(m[1]) - 1] : undefined;
  const first = stderr.split('\n').find((l) => l.trim() && !l.startsWith('Command failed')) ?? stderr.trim();
  return new BuildError(`building ${where} failed${op ? ` at "${batchText([op]).trim()}"` : ''}: ${first.trim()}`, { cause: err });
}

/** Names the namespace, tool and (for ip/tc batches) the op of a failed job from the fan-out's stderr. */
function jobFailure(jobs: readonly { ns: string; tool: Tool; file: string; ops: Op[] }[], stderr: string): BuildError {
  const failed = /Command failed (\S+):(\d+)/.exec(stderr);
  const job =
    jobs.find((j) => (failed ? failed[1] === j.file : stderr.includes(j.file))) ??
    jobs.find((j) => j.ops.some((o) => o.kind === 'sysctl' && stderr.includes(`"${o.key}"`))) ??
    (jobs.length === 1 ? jobs[0] : undefined);
  const op = failed && job ? job.ops[Number(failed[2]) - 1] : undefined;
  const why = stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('Command failed') && !l.startsWith('xargs: ') && !/^\s*\^+\s*$/.test(l))
    .map((l) => l.replaceAll(job?.file ?? '\0', '').replace(/^:\d+:\d+(-\d+)?:\s*/, '').trim())
    .slice(0, 2)
    .join(' / ');
  const where = job ? `${job.ns} (${job.tool})` : 'a namespace';
  const at = op && job && (job.tool === 'ip' || job.tool === 'tc') ? ` at "${jobText(job.tool, [op]).trim()}"` : '';
  return new BuildError(`building ${where} failed${at}: ${why}`);
}

/** Applies ops in order and remembers them for rollback. */
export class Executor {
  /** Every op applied so far, in order. */
  readonly applied: Op[] = [];
  /** Leases DHCP clients got, in the order they came. */
  readonly leases: Lease[] = [];
  constructor(
    private readonly signal?: AbortSignal,
    /** Where services keep their logs; processes started are reported through onProcess (for the state record). */
    private readonly procs?: { runDir: string; onProcess: (p: LabProcess) => Promise<void>; onLease?: (l: Lease) => Promise<void> },
  ) {}

  /**
   * Applies one stage's ops: the root batch (namespaces, veth pairs); then devices created across namespaces
   * (phase 1); then every namespace's own ip, tc, nft and sysctl work, one tool after the other, each as one
   * fan-out process over all namespaces; then services. At N=100 that is a handful of processes, not 200.
   */
  async apply(ops: readonly Op[]): Promise<void> {
    const opts = this.signal ? { signal: this.signal } : {};
    // The prober configures namespaces over netlink (fanOut): its start overlaps the root batch.
    if (ops.some((o) => configurable(o))) prestartProber();
    const root = ops.filter((o) => placement(o).where === 'root');
    if (root.length) {
      this.applied.push(...root);
      await runBatchOk(ipBatchArgv(), { input: batchText(root), timeoutMs: 60_000, ...opts }).catch((e) => {
        throw batchFailure(root, e, 'namespaces and links');
      });
    }
    const phase1 = ops.filter((o) => { const p = placement(o); return p.where === 'ns' && p.phase === 1; });
    await this.fanOut(phase1);
    await this.fanOut(ops.filter((o) => toolOf(o) !== undefined && placement(o).where !== 'root' && !phase1.includes(o)));
    for (const o of ops) {
      if (o.kind !== 'service-start' && o.kind !== 'dhcp-server' && o.kind !== 'dns-server' && o.kind !== 'tunnel-start') continue;
      if (!this.procs) throw new Error('services need a run directory');
      this.signal?.throwIfAborted();
      const dir = this.procs.runDir;
      const started =
        o.kind === 'service-start'
          ? await startServices(o, dir)
          : o.kind === 'dns-server'
            ? await startDnsServer(o, dir)
            : o.kind === 'tunnel-start'
              ? await startTunnel(o, dir)
              : await startDhcpServer(o, dir);
      this.applied.push(o);
      await this.procs.onProcess(started);
    }
    // DHCP clients last, in parallel: every server of this stage listens by now.
    const clients = ops.filter((o): o is Extract<Op, { kind: 'dhcp-client' }> => o.kind === 'dhcp-client');
    await Promise.all(clients.map((c) => this.lease(c)));
  }

  /** Gets a lease for one interface and configures it: the address, and a default route via the router handed out. */
  private async lease(op: Extract<Op, { kind: 'dhcp-client' }>): Promise<void> {
    const lease = await requestLease(op, this.signal);
    const config: Op[] = [{ kind: 'addr-add', ns: op.ns, ifname: op.ifname, cidr: `${lease.address}/${lease.prefix}` }];
    if (lease.router) config.push({ kind: 'route-add', ns: op.ns, dst: 'default', via: lease.router, dev: op.ifname });
    this.applied.push(op, ...config);
    await runOk(inNamespace(op.ns, ipBatchArgv()), { input: batchText(config), timeoutMs: 10_000, ...(this.signal ? { signal: this.signal } : {}) });
    this.leases.push(lease);
    await this.procs?.onLease?.(lease);
  }

  /** Runs ops inside their namespaces: per tool (ip, tc, nft, sysctl in that order) one job file per namespace. */
  private async fanOut(ops: readonly Op[]): Promise<void> {
    if (!ops.length) return;
    // Inside the instance's run directory when there is one, so a netlab killed meanwhile leaves nothing that
    // `down`/`cleanup` (which remove the run directory) do not know of.
    const base = this.procs?.runDir;
    if (base !== undefined) await mkdir(base, { recursive: true });
    const dir = await mkdtemp(base !== undefined ? join(base, 'jobs-') : join(tmpdir(), 'netlab-jobs-'));
    // The run directory is the lab's to write (in a sandbox, root in there): it may rename `dir` and put a symlink to
    // a host directory in its place before the job files are written. They are written through an fd of the
    // directory netlab made (/proc/self/fd/N is that directory whatever its name has become), each a new file
    // (O_EXCL: not through a symlink the lab put there), so nothing is ever written outside it.
    let dirFd: number | undefined;
    try {
      dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      const made = `/proc/self/fd/${dirFd}`;
      // The box's root reads the job files (as root, BOX_UID: not the owner of a directory netlab made).
      currentRuntime().own(made);
      for (const tool of TOOLS) {
        const byNs = new Map<string, Op[]>();
        for (const o of ops) if (toolOf(o) === tool) byNs.set(o.ns, [...(byNs.get(o.ns) ?? []), o]);
        if (!byNs.size) continue;
        let jobs = [...byNs].map(([ns, list]) => ({ ns, tool, file: join(dir, `${ns}.${tool}`), ops: list }));
        // A namespace whose ip work is all links, addresses, routes and neighbours is configured by the prober over
        // netlink, and its sysctls through /proc/sys, all namespaces at once, without a process each; the rest
        // (devices, tc, nft) as before.
        // The prober was started before the root batch and is ready ~30 ms after its start: waiting for it is
        // quicker than a process per namespace even for two (xargs, then nsenter and ip in each: ~70 ms).
        const direct = jobs.filter((j) => j.ops.every(configurable));
        const prober = (tool === 'ip' || tool === 'sysctl') && direct.length ? await currentProber() : undefined;
        if (prober) {
          jobs = jobs.filter((j) => !direct.includes(j));
          for (const j of direct) this.applied.push(...j.ops);
          const failed = await Promise.all(direct.map(async (j) => ({ j, f: await prober.configure(nsPath(j.ns), j.ops.map(configureStep), this.signal) })));
          this.signal?.throwIfAborted();
          const bad = failed.find((x) => x.f !== undefined);
          if (bad?.f) {
            const op = bad.j.ops[bad.f.step];
            throw new BuildError(`building ${bad.j.ns} (${tool}) failed${op ? ` at "${jobText(tool, [op]).trim()}"` : ''}: ${bad.f.message}`);
          }
          if (!jobs.length) continue;
        }
        for (const j of jobs) writeNewLabFile(join(made, `${j.ns}.${j.tool}`), jobText(tool, j.ops));
        for (const j of jobs) this.applied.push(...j.ops);
        const r = await run(fanOutArgv(NS_CONCURRENCY), { input: fanOutInput(jobs), timeoutMs: 120_000, ...(this.signal ? { signal: this.signal } : {}) });
        this.signal?.throwIfAborted();
        if (r.exitCode !== 0) throw jobFailure(jobs, r.stderr || r.spawnError || `exit ${r.exitCode}`);
      }
    } finally {
      if (dirFd !== undefined) closeSync(dirFd);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The inverse ops that undo what was applied, newest first, with ops inside deleted namespaces folded away. */
  undoOps(): Op[] {
    const inverses = this.applied.map(inverse).filter((o): o is Op => o !== undefined).reverse();
    const dropped = new Set(inverses.filter((o) => o.kind === 'netns-del').map((o) => o.ns));
    return inverses.filter((o) => o.kind === 'netns-del' || !dropped.has(o.ns));
  }
}

/** Result of a teardown: what was removed, for the user. */
export interface TeardownResult {
  namespaces: string[];
  killed: number[];
}

/** SIGTERM to each process still alive, up to 1 s to end, then SIGKILL; returns the pids signalled. */
async function stopAll(procs: readonly ProcRef[]): Promise<number[]> {
  const signalled: number[] = [];
  for (const p of procs) {
    if (!alive(p)) continue;
    try {
      process.kill(p.pid, 'SIGTERM');
      signalled.push(p.pid);
    } catch {
      /* already gone */
    }
  }
  for (const p of await waitGone(procs, 1000)) process.kill(p.pid, 'SIGKILL');
  return signalled;
}

/**
 * Every process inside one of these namespaces (by the namespace's inode). A lab process netlab had started but not
 * yet recorded when it was killed (kill -9 in the build) is found only this way; deleting the namespace would not
 * stop it, and it would live on in a namespace nobody can name.
 */
function processesIn(namespaces: readonly string[]): ProcRef[] {
  const inodes = new Set<number>();
  for (const ns of namespaces) {
    try {
      // Plain instances only (a sandbox ends with its supervisor): never a path through a sandbox's root, where a
      // symlink the lab made would resolve on the host (e.g. to the host's own network namespace).
      inodes.add(statSync(nsPath(ns)).ino);
    } catch {
      /* gone meanwhile */
    }
  }
  if (!inodes.size) return [];
  const out: ProcRef[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const ino = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${name}/ns/net`))?.[1];
      const start = ino !== undefined && inodes.has(Number(ino)) ? procStart(Number(name)) : undefined;
      if (start !== undefined) out.push({ pid: Number(name), start });
    } catch {
      /* exited, or not ours to read */
    }
  }
  return out;
}

/**
 * Stops the instance's processes (by recorded pid, only if still the same process), then any other process inside
 * its namespaces, and deletes the namespaces. A sandboxed instance ends with its supervisor: killing it ends every
 * process and namespace of the lab at once (a dead supervisor left nothing to remove but the run directory).
 */
export async function teardown(rec: Pick<StateRecord, 'namespaces' | 'processes' | 'sandbox'> & { instance?: string }): Promise<TeardownResult> {
  // A plain lab's running prober deletes the namespaces (releasing its sockets in them first); any other is ended
  // now: the prober's sockets would keep deleted namespaces alive in the kernel.
  const prober = rec.sandbox ? undefined : await startedProber(false);
  if (!prober) await closeProbers();
  if (rec.sandbox) {
    const sb = rec.sandbox;
    const present = new Set(await withRuntime(runtimeOf(rec), () => listNamespaces()));
    const namespaces = rec.namespaces.filter((ns) => present.has(ns));
    const killed = alive(sb.supervisor) ? [sb.supervisor.pid] : [];
    await stopSandbox(sb);
    if (alive(sb.supervisor)) throw new BuildError(`could not stop the sandbox's supervisor (pid ${sb.supervisor.pid})`);
    // Its cgroups go once the kernel has reaped the last process in them.
    const left = sb.limits ? await removeLimitsWhenEmpty(sb.limits) : [];
    if (left.length) throw new BuildError(`could not remove the sandbox's cgroup(s) ${left.join(', ')}: a process is still in them`, { hint: `look at ${left.map((d) => `${d}/cgroup.procs`).join(', ')}` });
    if (rec.instance !== undefined) await rm(runDir(rec.instance), { recursive: true, force: true });
    return { namespaces, killed };
  }
  try {
    const killed = await stopAll(rec.processes);
    const existing = new Set(await listNamespaces());
    const mine = rec.namespaces.filter((ns) => existing.has(ns));
    killed.push(...(await stopAll(processesIn(mine))));
    if (mine.length) {
      const ops: Op[] = mine.map((ns) => ({ kind: 'netns-del', ns }));
      // -force: keep deleting the rest if one fails; the check below reports what is left.
      const argv = ipBatchArgv(true);
      const input = batchText(ops);
      // A prober that gave no answer (it ended): the batch runs as any command (-force: what is gone already is skipped).
      if (!(prober && (await prober.exec(argv, { input, timeoutMs: 60_000, release: true })))) await run(argv, { input, timeoutMs: 60_000 });
      const left = (await listNamespaces()).filter((ns) => mine.includes(ns));
      if (left.length) throw new BuildError(`could not delete namespace(s) ${left.join(', ')}`, { hint: `look at ${left.map(nsPath).join(', ')}` });
    }
    if (rec.instance !== undefined) await rm(runDir(rec.instance), { recursive: true, force: true });
    return { namespaces: mine, killed };
  } finally {
    if (prober) await closeProbers();
  }
}

/**
 * runOk for a root batch: run by the plain runtime's prober when one was started (a spawn from a small process, not a
 * fork of netlab's large one; the prober configures the namespaces next, so it is waited for anyway), else as usual.
 */
async function runBatchOk(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  const prober = currentRuntime().kind === 'plain' ? await startedProber() : undefined;
  const r = await prober?.exec(argv, { ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
  // No answer (the prober ended): run as any command.
  return r ? okOrThrow(argv, r, opts.signal) : runOk(argv, opts);
}
