// Check kinds → runners, through one table; and the scheduler that runs a stage's checks in parallel.
import type { Check } from '../lab/types.js';
import type { PlannedCheck } from '../plan/planner.js';
import { pool } from '../runner/pool.js';
import { runTcp, runUdp } from './connect.js';
import { runDns } from './dns.js';
import { runHttp, runNatSource } from './http.js';
import { runPing } from './ping.js';
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
} satisfies { [K in Check['kind']]: Runner<K> };

/** A check whose target is a DHCP lease (`lease:<node>:<ifname>`), with the leased address filled in. */
function withLease(c: PlannedCheck, leases: readonly { node: string; ifname: string; address: string }[]): PlannedCheck {
  const m = /^lease:([^:]+):(.+)$/.exec(c.target);
  if (!m) return c;
  const lease = leases.find((l) => l.node === m[1] && l.ifname === m[2]);
  // Without a lease the target stays unresolvable: the check reports an error, not a pass or a fail.
  return lease ? { ...c, target: lease.address } : c;
}

/** How many checks run at once. */
export const CHECK_CONCURRENCY = 16;

/** Runs checks with a bounded pool; results come back in the order given. */
export async function runChecks(
  checks: readonly PlannedCheck[],
  opts: { signal?: AbortSignal; onResult?: (r: CheckResult) => void; leases?: readonly { node: string; ifname: string; address: string }[] } = {},
): Promise<CheckResult[]> {
  return pool(checks, CHECK_CONCURRENCY, async (planned) => {
    const c = withLease(planned, opts.leases ?? []);
    const r = await (CHECK_RUNNERS[c.kind] as Runner<typeof c.kind>)(c, opts.signal);
    opts.signal?.throwIfAborted();
    opts.onResult?.(r);
    return r;
  });
}
