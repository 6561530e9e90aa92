// Check kinds → runners, through one table; and the scheduler that runs a stage's checks in parallel.
import type { Check } from '../lab/types.js';
import type { PlannedCheck } from '../plan/planner.js';
import { pause, pool } from '../runner/pool.js';
import { TOOLS } from '../runner/preflight.js';
import type { Lease } from '../runner/state.js';
import { runCapture } from './capture.js';
import { runTcp, runUdp } from './connect.js';
import { runDns } from './dns.js';
import { runHttp, runNatSource } from './http.js';
import { runPing } from './ping.js';
import { currentProber } from '../runner/prober.js';
import { runCmd, runState } from './state.js';
import { runMtu, runPath } from './trace.js';
import type { CheckResult } from './result.js';

type Runner<K extends Check['kind']> = (c: Extract<PlannedCheck, { kind: K }>, signal?: AbortSignal) => Promise<CheckResult>;

/** Every check kind's runner; a kind added to the model without a runner does not compile. */
export const CHECK_RUNNERS = {
  ping: runPing,
  tcp: runTcp,
  udp: runUdp,
  http: runHttp,
  'nat-source': runNatSource,
  mtu: runMtu,
  path: runPath,
  dns: runDns,
  state: runState,
  cmd: runCmd,
  capture: runCapture,
} satisfies { [K in Check['kind']]: Runner<K> };

/**
 * A check with its DHCP-leased addresses (`lease:<node>:<ifname>`) filled in: the target, and the addresses in `more`
 * (nat-source's seen_as, path's via, dns's address).
 */
export function withLease(c: PlannedCheck, leases: readonly Lease[]): PlannedCheck {
  const leased = (text: string): string => {
    const m = /^lease:([^:]+):(.+)$/.exec(text);
    // Without a lease the address stays unresolvable: the check reports an error or a fail, never a pass.
    return (m && leases.find((l) => l.node === m[1] && l.ifname === m[2])?.address) ?? text;
  };
  return { ...c, target: leased(c.target), more: c.more.map(leased) };
}

/** How many checks that run a process each run at once. */
export const CHECK_CONCURRENCY = 16;

/**
 * How many ping checks run at once through the prober: a probe is a few packets and a line on a pipe, not a process.
 * Bounded so that a huge matrix does not queue thousands of echoes on one socket at the same instant.
 */
export const PROBE_CONCURRENCY = 256;

/** Pause before attempt n+1 of a retried check: 100 ms, doubling, at most 1 s. */
function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** (attempt - 1), 1000);
}

/**
 * nsenter's own complaints: the namespace is gone, or the tool is not installed. The check could not run. In the
 * sandbox the same come from setpriv (its wrapper) or from `ip netns exec` (cmd checks).
 */
const NSENTER_FAILED = /^(?:(?:nsenter|setpriv): (?:cannot open (\S+)|failed to execute (\S+)): .*|Cannot open network namespace "([^"\s]+)": .*|exec of "([^"\s]+)" failed: .*)$/m;

/** Why a check could not run, in words: the namespace that is gone, or the tool that is missing and its package. */
export function cannotRun(stderr: string): string | undefined {
  const m = NSENTER_FAILED.exec(stderr);
  if (!m) return undefined;
  const gone = m[1] ?? m[3];
  if (gone !== undefined) return `namespace ${gone.replace(/^\/run\/netns\//, '')} is gone (${m[0]})`;
  const cmd = m[2] ?? m[4];
  const tool = TOOLS.find((t) => t.cmd === cmd);
  return tool ? `${cmd} is missing (package ${tool.pkg}; netlab doctor)` : `${m[0]} (is it installed? netlab doctor)`;
}

/**
 * Runs one check once, whatever its retries. A check that could not run — its namespace is gone, its tool is
 * missing — is an error, never a fail, whatever the runner made of the output.
 */
export async function runOnce(c: PlannedCheck, signal?: AbortSignal): Promise<CheckResult> {
  const r = await (CHECK_RUNNERS[c.kind] as Runner<typeof c.kind>)(c, signal);
  const why = cannotRun(r.evidence.stderr);
  if (why === undefined) return r;
  const { gotReason: _, ...rest } = r;
  return { ...rest, got: 'error', ok: false, detail: why };
}

/**
 * Runs one check; with `retries` or `within` it runs again (after a short backoff) until it gives the expected result,
 * the attempts are used up and the time is over. A check that could not run (error) is not retried.
 */
export async function runCheck(c: PlannedCheck, signal?: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const deadline = c.withinMs !== undefined ? started + c.withinMs : -Infinity;
  let attempts = 1;
  let r = await runOnce(c, signal);
  while (!r.ok && r.got !== 'error' && (attempts <= c.retries || performance.now() + backoffMs(attempts) < deadline)) {
    await pause(backoffMs(attempts), signal);
    attempts++;
    r = await runOnce(c, signal);
  }
  return attempts === 1 ? r : { ...r, attempts, durationMs: performance.now() - started };
}

/** Checks that must run alone: a capture judges every packet crossing an interface, so no other check's may cross it. */
export function runsAlone(c: Pick<PlannedCheck, 'kind'>): boolean {
  return c.kind === 'capture';
}

/**
 * Runs checks with a bounded pool; results come back in the order given. Must-fail checks start first: most of
 * them wait out their timeout, and that wait then overlaps the others' work. Checks that must run alone (captures)
 * run after the pool is done, one at a time.
 */
export async function runChecks(
  checks: readonly PlannedCheck[],
  opts: { signal?: AbortSignal; onResult?: (r: CheckResult) => void } = {},
): Promise<CheckResult[]> {
  const order = checks.map((_, i) => i).sort((a, b) => Number(checks[b]?.expect === 'fail') - Number(checks[a]?.expect === 'fail'));
  const results = new Array<CheckResult>(checks.length);
  const one = async (i: number) => {
    const r = await runCheck(checks[i] as PlannedCheck, opts.signal);
    opts.signal?.throwIfAborted();
    opts.onResult?.(r);
    results[i] = r;
  };
  const together = order.filter((i) => !runsAlone(checks[i] as PlannedCheck));
  const pings = together.filter((i) => checks[i]?.kind === 'ping');
  const probed = new Set(pings.length && (await currentProber()) !== undefined ? pings : []);
  await Promise.all([
    pool([...probed], PROBE_CONCURRENCY, one),
    pool(together.filter((i) => !probed.has(i)), CHECK_CONCURRENCY, one),
  ]);
  for (const i of order.filter((j) => runsAlone(checks[j] as PlannedCheck))) await one(i);
  return results;
}
