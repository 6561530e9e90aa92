// A stage's check phase: warm up neighbour tables, run the checks (with retries), and gather
// what a teacher looks at for every check that did not hold (findings, optional evidence files and pcaps).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inNamespace } from '../plan/argv.js';
import { nsPath } from '../plan/naming.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { pool } from '../runner/pool.js';
import type { Lease } from '../runner/state.js';
import { capture, evidenceFolder, hasDropped, neighbours, newDrops, readRulesets, snapshot, walkPath, writeEvidence, type NodeState } from './evidence.js';
import { runChecks, runOnce, withLease } from './index.js';
import { currentProber } from '../runner/prober.js';
import { skippedResult, type CheckResult } from './result.js';

/** How a check phase runs: its instance, what the stage applied, and where evidence goes. */
export interface PhaseOptions {
  signal?: AbortSignal;
  leases?: readonly Lease[];
  /** Every node of the instance and its namespace (evidence asks each for its routes and rules). */
  namespaces: readonly { node: string; ns: string }[];
  /** Write evidence files of checks that did not hold under this directory. */
  evidenceDir?: string;
  /** With evidenceDir: also capture a pcap of each such check, run once more. */
  pcap?: boolean;
  onResult?: (r: CheckResult) => void;
}

/**
 * Distinct (source namespace, target) pairs of the checks that must reach their target. With the prober, ping
 * checks warm up by themselves (a single echo unanswered for a moment is sent again, within the check's own wait):
 * only the other kinds' pairs are pinged first, so no target is pinged twice.
 */
export function warmupPairs(checks: readonly PlannedCheck[], pingsResend = false): { ns: string; target: string }[] {
  const seen = new Map<string, { ns: string; target: string }>();
  const pinged = new Set(pingsResend ? checks.filter((c) => c.kind === 'ping' && c.expect === 'pass').map((c) => `${c.fromNs} ${c.target}`) : []);
  for (const c of checks) {
    // state and cmd checks have no target; an unresolved lease has no address yet.
    if (c.expect !== 'pass' || !c.target || c.target.startsWith('lease:')) continue;
    if (pinged.has(`${c.fromNs} ${c.target}`)) continue;
    seen.set(`${c.fromNs} ${c.target}`, { ns: c.fromNs, target: c.target });
  }
  return [...seen.values()];
}

/**
 * One quick ping per pair, results ignored: ARP/ND entries along the way exist before the first check is timed.
 * Through the prober when it runs (all at once, no process), else one `ping` each.
 */
async function warmUp(checks: readonly PlannedCheck[], signal?: AbortSignal): Promise<void> {
  if (!warmupPairs(checks).length) return;
  const prober = await currentProber();
  const pairs = warmupPairs(checks, prober !== undefined);
  if (prober) {
    await Promise.all(pairs.map((p) => prober.ping({ netns: nsPath(p.ns), target: p.target, count: 1, interval: 0.05, wait: 0.3, resend: 0 }, signal)));
    return;
  }
  await pool(pairs, 16, (p) =>
    run(inNamespace(p.ns, ['ping', '-n', '-q', '-c', '1', '-W', '0.3', p.target]), { timeoutMs: 2000, ...(signal ? { signal } : {}) }),
  );
}

/** The rulesets of the nodes that have one, as the snapshot read them. */
function rulesetsOf(nodes: readonly NodeState[]): Record<string, string> {
  return Object.fromEntries(nodes.filter((n) => n.rules.includes('table')).map((n) => [n.node, n.rules]));
}

/**
 * Runs a check once more on its own (under tcpdump into `pcapFolder` when given), with the rulesets read before and
 * after: the drop rules whose counters went up are its findings, and so is holding this time.
 */
async function runAgainAlone(c: PlannedCheck, nodes: readonly NodeState[], pcapFolder: string | undefined, signal?: AbortSignal): Promise<{ findings: string[]; nft: Record<string, string> }> {
  const before = await readRulesets(nodes, signal);
  let again: CheckResult | undefined;
  const rerun = async () => void (again = await runOnce(c, signal));
  if (pcapFolder !== undefined) {
    await mkdir(pcapFolder, { recursive: true });
    const why = await capture(c, join(pcapFolder, 'capture.pcap'), rerun, signal);
    if (why !== undefined) await writeFile(join(pcapFolder, 'capture-error.txt'), why + '\n');
  } else {
    await rerun();
  }
  const nft = await readRulesets(nodes, signal);
  const findings = Object.entries(nft).flatMap(([node, text]) => newDrops(before[node] ?? '', text).map((d) => `${node} dropped ${d.packets} packet(s) at: ${d.rule}`));
  if (again?.ok) findings.push('it held when run again alone: it may be flaky, or depend on the checks run with it');
  return { findings, nft };
}

/**
 * A stage's checks split at its gates, in file order: each segment ends with a gate (a matrix's on its last pair),
 * the last one with whatever follows the last gate. Without gates: one segment, the whole stage.
 */
export function gateSegments<C extends Pick<PlannedCheck, 'gate'>>(checks: readonly C[]): C[][] {
  const out: C[][] = [[]];
  for (const c of checks) {
    (out.at(-1) as C[]).push(c);
    if (c.gate) out.push([]);
  }
  return out.filter((s, i) => s.length || i === 0);
}

/**
 * The gate of a segment that did not hold, if any: the segment's gate check not ok, or, for a matrix's gate, any pair
 * of that matrix not ok (the matrix gates as a whole).
 */
export function failedGate(segment: readonly Pick<PlannedCheck, 'gate' | 'matrix' | 'stage'>[], results: readonly CheckResult[]): CheckResult | undefined {
  const i = segment.findIndex((c) => c.gate);
  const gate = segment[i];
  const r = results[i];
  if (!gate || !r) return undefined;
  if (!r.ok) return r;
  if (!gate.matrix) return undefined;
  const name = gate.matrix.name;
  const bad = segment.findIndex((c, k) => c.matrix?.name === name && results[k]?.ok === false);
  return bad >= 0 ? { ...r, name: `${name} (${results[bad]?.name ?? ''})` } : undefined;
}

/**
 * Runs one stage's checks (on a settled lab) segment by segment (gateSegments): each as `segment` runs it; once a
 * gate did not hold, the checks after it are skipped results, not run.
 */
export async function runGated(
  checks: readonly PlannedCheck[],
  segment: (checks: readonly PlannedCheck[]) => Promise<CheckResult[]>,
  onResult?: (r: CheckResult) => void,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  let closed: CheckResult | undefined;
  for (const seg of gateSegments(checks)) {
    if (closed) {
      for (const c of seg) {
        const r = skippedResult(c, closed);
        onResult?.(r);
        out.push(r);
      }
      continue;
    }
    const results = await segment(seg);
    out.push(...results);
    closed = failedGate(seg, results);
  }
  return out;
}

/**
 * Runs one stage's checks (on a settled lab): warm up, run, then findings (and evidence files) for each check that
 * did not hold. A stage with gates runs one segment at a time (runGated).
 */
export async function checkPhase(checks: readonly PlannedCheck[], opts: PhaseOptions): Promise<CheckResult[]> {
  if (!checks.length) return [];
  return runGated(checks, (seg) => checkSegment(seg, opts), opts.onResult);
}

/** The check phase of checks that run together: warm up, run, then findings (and evidence) for those that did not hold. */
async function checkSegment(checks: readonly PlannedCheck[], opts: PhaseOptions): Promise<CheckResult[]> {
  const { signal } = opts;
  const planned = checks.map((c) => withLease(c, opts.leases ?? []));
  if (!planned.length) return [];
  await warmUp(planned, signal);
  const results = await runChecks(planned, { ...(signal ? { signal } : {}), ...(opts.onResult ? { onResult: opts.onResult } : {}) });
  // Findings explain a must-pass check that failed; evidence files also cover the rest that did not hold. An error
  // (namespace gone, tool missing) has nothing to look at.
  const explain = (r: CheckResult) => r.got === 'fail' && r.expected === 'pass';
  const missed = results.flatMap((r, i) => (!r.ok && r.got !== 'error' && (explain(r) || opts.evidenceDir !== undefined) ? [i] : []));
  if (!missed.length) return results;
  const nodes = await snapshot(opts.namespaces, missed.map((i) => (planned[i] as PlannedCheck).fromNs), signal);
  // No drop counter moved in the whole run: no rule can be to blame, and nothing needs running again.
  const dropping = nodes.some((n) => hasDropped(n.rules));
  // One check at a time: running it again alone is what ties counted drops (and a pcap) to it.
  for (const i of missed) {
    signal?.throwIfAborted();
    const c = planned[i] as PlannedCheck;
    const first = results[i] as CheckResult;
    const folder = opts.evidenceDir !== undefined ? evidenceFolder(opts.evidenceDir, first) : undefined;
    const rerun = dropping || (folder !== undefined && opts.pcap === true);
    const { findings, nft } = rerun ? await runAgainAlone(c, nodes, folder !== undefined && opts.pcap ? folder : undefined, signal) : { findings: [], nft: rulesetsOf(nodes) };
    const walk = await walkPath(c, nodes, signal);
    findings.unshift(...walk.findings);
    const r = explain(first) && findings.length ? { ...first, findings } : first;
    results[i] = r;
    if (folder !== undefined) {
      const addr = nodes.find((n) => n.ns === c.fromNs)?.addr ?? '';
      await writeEvidence(folder, r, { findings, addr, neigh: await neighbours(c, signal), routes: walk.routes, nft });
    }
  }
  return results;
}
