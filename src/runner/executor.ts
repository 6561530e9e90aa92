// Applies a plan's ops with few processes (one root `ip -batch`; per namespace one `ip -batch`, and one `tc -batch`,
// one atomic `nft -f` and one sysctl where needed),
// keeps an undo log, and tears an instance down: stop its processes, delete its namespaces.
import { BuildError } from '../errors.js';
import { batchText, inNamespace, ipBatchArgv, ipWords, nftArgv, nftText, placement, sysctlArgv, tcBatchArgv, tcWords } from '../plan/argv.js';
import { inverse, type Op } from '../plan/ops.js';
import { nsPath } from '../plan/naming.js';
import { runOk, run } from './exec.js';
import { pool } from './pool.js';
import { alive, listNamespaces, type StateRecord } from './state.js';

/** How many namespaces are configured at once (processes are short; the kernel does the waiting). */
const NS_CONCURRENCY = 8;

/** Maps "Command failed -:N" from `ip -batch` back to the op on that line. */
function batchFailure(ops: readonly Op[], err: unknown, where: string, words: (op: Op) => string[] = ipWords): BuildError {
  const stderr = (err as { cause?: { stderr?: string } }).cause?.stderr ?? String(err);
  const m = /Command failed -:(\d+)/.exec(stderr);
  const op = m ? ops[Number(m[1]) - 1] : undefined;
  const first = stderr.split('\n').find((l) => l.trim() && !l.startsWith('Command failed')) ?? stderr.trim();
  return new BuildError(`building ${where} failed${op ? ` at "${batchText([op], words).trim()}"` : ''}: ${first.trim()}`, { cause: err });
}

/** Applies ops in order and remembers them for rollback. */
export class Executor {
  /** Every op applied so far, in order. */
  readonly applied: Op[] = [];
  constructor(private readonly signal?: AbortSignal) {}

  /**
   * Applies one stage's ops: the root batch (namespaces, veth pairs), then devices created across namespaces
   * (phase 1), then each namespace's own work in parallel: its `ip -batch`, its `tc -batch`, its sysctls
   * (after the devices they may name exist).
   */
  async apply(ops: readonly Op[]): Promise<void> {
    const root: Op[] = [];
    const cross = new Map<string, Op[]>();
    const perNs = new Map<string, { ip: Op[]; tc: Op[]; nft: Op[]; sysctl: Extract<Op, { kind: 'sysctl' }>[] }>();
    for (const o of ops) {
      const p = placement(o);
      if (p.where === 'root') root.push(o);
      else if (p.where === 'ns' && p.phase === 1) cross.set(p.ns, [...(cross.get(p.ns) ?? []), o]);
      else {
        const entry = perNs.get(p.ns) ?? { ip: [], tc: [], nft: [], sysctl: [] };
        if (o.kind === 'sysctl') entry.sysctl.push(o);
        else if (p.where === 'tc') entry.tc.push(o);
        else if (p.where === 'nft') entry.nft.push(o);
        else entry.ip.push(o);
        perNs.set(p.ns, entry);
      }
    }
    const opts = this.signal ? { signal: this.signal } : {};
    const ipBatch = async (ns: string | undefined, batch: Op[], what: string) => {
      this.applied.push(...batch);
      const argv = ns === undefined ? ipBatchArgv() : inNamespace(ns, ipBatchArgv());
      await runOk(argv, { input: batchText(batch), timeoutMs: 60_000, ...opts }).catch((e) => {
        throw batchFailure(batch, e, what);
      });
    };
    if (root.length) await ipBatch(undefined, root, 'namespaces and links');
    await pool([...cross], NS_CONCURRENCY, ([ns, batch]) => ipBatch(ns, batch, ns));
    await pool([...perNs], NS_CONCURRENCY, async ([ns, { ip, tc, nft, sysctl }]) => {
      if (ip.length) await ipBatch(ns, ip, ns);
      if (tc.length) {
        this.applied.push(...tc);
        await runOk(tcBatchArgv(ns), { input: batchText(tc, tcWords), timeoutMs: 30_000, ...opts }).catch((e) => {
          throw batchFailure(tc, e, `${ns} (tc)`, tcWords);
        });
      }
      for (const o of nft) {
        this.applied.push(o);
        await runOk(nftArgv(ns), { input: nftText(o), timeoutMs: 30_000, ...opts }).catch((e) => {
          throw new BuildError(`loading the nftables ruleset of ${ns} failed: ${String((e as { cause?: { stderr?: string } }).cause?.stderr ?? e).trim()}`, { cause: e });
        });
      }
      if (sysctl.length) {
        this.applied.push(...sysctl);
        await runOk(sysctlArgv(ns, sysctl), { timeoutMs: 10_000, ...opts });
      }
    });
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

/** Stops the instance's processes (by recorded pid, only if still the same process) and deletes its namespaces. */
export async function teardown(rec: Pick<StateRecord, 'namespaces' | 'processes'>): Promise<TeardownResult> {
  const killed: number[] = [];
  for (const p of rec.processes) {
    if (!alive(p)) continue;
    try {
      process.kill(p.pid, 'SIGTERM');
      killed.push(p.pid);
    } catch {
      /* already gone */
    }
  }
  for (let i = 0; i < 50 && rec.processes.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
  for (const p of rec.processes) if (alive(p)) process.kill(p.pid, 'SIGKILL');
  const existing = new Set(await listNamespaces());
  const mine = rec.namespaces.filter((ns) => existing.has(ns));
  if (mine.length) {
    const ops: Op[] = mine.map((ns) => ({ kind: 'netns-del', ns }));
    // -force: keep deleting the rest if one fails; the check below reports what is left.
    await run(['ip', '-force', '-batch', '-'], { input: batchText(ops), timeoutMs: 60_000 });
    const left = (await listNamespaces()).filter((ns) => mine.includes(ns));
    if (left.length) throw new BuildError(`could not delete namespace(s) ${left.join(', ')}`, { hint: `look at ${left.map(nsPath).join(', ')}` });
  }
  return { namespaces: mine, killed };
}
