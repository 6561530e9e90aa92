// A stage's check phase: let the lab settle, warm up neighbour tables, run the checks (with retries), and gather
// what a teacher looks at for every check that did not hold (findings, optional evidence files and pcaps).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inNamespace } from '../plan/argv.js';
import type { Op } from '../plan/ops.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { pool } from '../runner/pool.js';
import type { Lease } from '../runner/state.js';
import { canDrop, capture, evidenceFolder, neighbours, newDrops, readRulesets, snapshot, walkPath, writeEvidence } from './evidence.js';
import { pause, runChecks, runOnce, withLease } from './index.js';
import type { CheckResult } from './result.js';

/** How a check phase runs: its instance, what the stage applied, and where evidence goes. */
export interface PhaseOptions {
  signal?: AbortSignal;
  leases?: readonly Lease[];
  /** Every node of the instance and its namespace (evidence asks each for its routes and rules). */
  namespaces: readonly { node: string; ns: string }[];
  /** Ops the stage just applied: their namespaces are waited for until they settle (none for `netlab check`). */
  applied?: readonly Op[];
  /** Write evidence files of checks that did not hold under this directory. */
  evidenceDir?: string;
  /** With evidenceDir: also capture a pcap of each such check, run once more. */
  pcap?: boolean;
  onResult?: (r: CheckResult) => void;
}

/** How long a namespace may take to settle (STP's listening + learning is 2 × 15 s by default). */
const SETTLE_LIMIT_MS = 35_000;

/**
 * Namespaces whose ops need a moment before traffic flows: devices and bridge ports (the kernel activates a bridge's
 * transmit queue up to a second after its carrier came on; STP states) and IPv6 addresses (DAD).
 */
export function settleNamespaces(ops: readonly Op[]): string[] {
  const out = new Set<string>();
  for (const o of ops) {
    if (o.kind === 'link-add') out.add(o.into ?? o.ns);
    else if (o.kind === 'link-master' || (o.kind === 'addr-add' && o.cidr.includes(':'))) out.add(o.ns);
  }
  return [...out];
}

interface IpLink {
  ifname: string;
  flags?: string[];
  operstate?: string;
  linkinfo?: { info_slave_kind?: string; info_slave_data?: { state?: string } };
  addr_info?: { local: string; scope?: string; tentative?: boolean }[];
}

/** What is not settled yet in `ip -j -d addr show` output: bridge ports still listening/learning, tentative addresses. */
export function unsettled(ipJson: string): string[] {
  let links: IpLink[];
  try {
    links = JSON.parse(ipJson) as IpLink[];
  } catch {
    return [];
  }
  return links.flatMap((l) => {
    // Up with carrier, but the kernel's link watcher has not switched it on yet: until then it drops what it sends.
    const carrier = (l.flags ?? []).includes('UP') && (l.flags ?? []).includes('LOWER_UP');
    const port = l.linkinfo?.info_slave_kind === 'bridge' ? l.linkinfo.info_slave_data?.state ?? '' : '';
    return [
      ...(carrier && /^(DOWN|LOWERLAYERDOWN)$/.test(l.operstate ?? '') ? [`${l.ifname}: operstate ${l.operstate} with carrier`] : []),
      ...(/^(listening|learning)$/.test(port) || (carrier && port === 'disabled') ? [`${l.ifname}: bridge port ${port}`] : []),
    // Link-local addresses are left out: checks aim at configured addresses, which netlab adds with nodad.
      ...(l.addr_info ?? []).filter((a) => a.tentative && a.scope !== 'link').map((a) => `${l.ifname}: ${a.local} tentative`),
    ];
  });
}

/** Waits until every namespace has settled, polling `ip -j -d addr show` every 50 ms; gives up after the limit. */
export async function settle(namespaces: readonly string[], signal?: AbortSignal): Promise<void> {
  await pool(namespaces, 8, async (ns) => {
    const end = performance.now() + SETTLE_LIMIT_MS;
    for (;;) {
      const r = await run(inNamespace(ns, ['ip', '-j', '-d', 'addr', 'show']), { timeoutMs: 5000, ...(signal ? { signal } : {}) });
      if (!unsettled(r.stdout).length || performance.now() > end) return;
      await pause(50, signal);
    }
  });
}

/** Distinct (source namespace, target) pairs of the checks that must reach their target. */
export function warmupPairs(checks: readonly PlannedCheck[]): { ns: string; target: string }[] {
  const seen = new Map<string, { ns: string; target: string }>();
  for (const c of checks) {
    // state and cmd checks have no target; an unresolved lease has no address yet.
    if (c.expect !== 'pass' || !c.target || c.target.startsWith('lease:')) continue;
    seen.set(`${c.fromNs} ${c.target}`, { ns: c.fromNs, target: c.target });
  }
  return [...seen.values()];
}

/** One quick ping per pair, results ignored: ARP/ND entries along the way exist before the first check is timed. */
async function warmUp(checks: readonly PlannedCheck[], signal?: AbortSignal): Promise<void> {
  await pool(warmupPairs(checks), 16, (p) =>
    run(inNamespace(p.ns, ['ping', '-n', '-q', '-c', '1', '-W', '0.3', p.target]), { timeoutMs: 2000, ...(signal ? { signal } : {}) }),
  );
}

/** Runs one stage's checks: settle, warm up, run, then findings (and evidence files) for each check that did not hold. */
export async function checkPhase(checks: readonly PlannedCheck[], opts: PhaseOptions): Promise<CheckResult[]> {
  const { signal } = opts;
  const planned = checks.map((c) => withLease(c, opts.leases ?? []));
  if (!planned.length) return [];
  await settle(settleNamespaces(opts.applied ?? []), signal);
  await warmUp(planned, signal);
  const results = await runChecks(planned, { ...(signal ? { signal } : {}), ...(opts.onResult ? { onResult: opts.onResult } : {}) });
  // Findings explain a must-pass check that failed; evidence files also cover the rest that did not hold. An error
  // (namespace gone, tool missing) has nothing to look at.
  const explain = (r: CheckResult) => r.got === 'fail' && r.expected === 'pass';
  const missed = results.flatMap((r, i) => (!r.ok && r.got !== 'error' && (explain(r) || opts.evidenceDir !== undefined) ? [i] : []));
  if (!missed.length) return results;
  const nodes = await snapshot(opts.namespaces, missed.map((i) => (planned[i] as PlannedCheck).fromNs), signal);
  const dropping = nodes.some((n) => canDrop(n.rules));
  // One check at a time: running it again alone is what ties counted drops (and a pcap) to it.
  for (const i of missed) {
    signal?.throwIfAborted();
    const c = planned[i] as PlannedCheck;
    const first = results[i] as CheckResult;
    const folder = opts.evidenceDir !== undefined ? evidenceFolder(opts.evidenceDir, first) : undefined;
    const findings: string[] = [];
    let nft: Record<string, string> = {};
    if (dropping || (folder !== undefined && opts.pcap)) {
      const before = await readRulesets(nodes, signal);
      let again: CheckResult | undefined;
      const rerun = async () => void (again = await runOnce(c, signal));
      if (folder !== undefined && opts.pcap) {
        await mkdir(folder, { recursive: true });
        const why = await capture(c, join(folder, 'capture.pcap'), rerun, signal);
        if (why !== undefined) await writeFile(join(folder, 'capture-error.txt'), why + '\n');
      } else {
        await rerun();
      }
      nft = await readRulesets(nodes, signal);
      for (const [node, text] of Object.entries(nft)) {
        for (const d of newDrops(before[node] ?? '', text)) findings.push(`${node} dropped ${d.packets} packet(s) at: ${d.rule}`);
      }
      if (again?.ok) findings.push('it held when run again alone: it may be flaky, or depend on the checks run with it');
    }
    const walk = await walkPath(c, nodes, signal);
    findings.unshift(...walk.findings);
    const r = explain(first) && findings.length ? { ...first, findings } : first;
    results[i] = r;
    if (folder !== undefined) {
      const source = nodes.find((n) => n.ns === c.fromNs);
      await writeEvidence(folder, r, { findings, addr: source?.addr ?? '', neigh: await neighbours(c, signal), routes: walk.routes, nft: Object.keys(nft).length ? nft : Object.fromEntries(nodes.filter((n) => n.rules.includes('table')).map((n) => [n.node, n.rules])) });
    }
  }
  return results;
}
