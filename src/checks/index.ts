// Check kinds → runners, through one table; and the scheduler that runs a stage's checks in parallel.
import type { Check } from '../lab/types.js';
import type { PlannedCheck } from '../plan/planner.js';
import { pool } from '../runner/pool.js';
import { runPing } from './ping.js';
import type { CheckResult } from './result.js';

type Runner<K extends Check['kind']> = (c: Extract<PlannedCheck, { kind: K }>, signal?: AbortSignal) => Promise<CheckResult>;

/** Every check kind's runner; a kind added to the model without a runner does not compile. */
export const CHECK_RUNNERS = {
  ping: runPing,
} satisfies { [K in Check['kind']]: Runner<K> };

/** How many checks run at once. */
export const CHECK_CONCURRENCY = 16;

/** Runs checks with a bounded pool; results come back in the order given. */
export async function runChecks(
  checks: readonly PlannedCheck[],
  opts: { signal?: AbortSignal; onResult?: (r: CheckResult) => void } = {},
): Promise<CheckResult[]> {
  return pool(checks, CHECK_CONCURRENCY, async (c) => {
    const r = await (CHECK_RUNNERS[c.kind] as Runner<typeof c.kind>)(c, opts.signal);
    opts.signal?.throwIfAborted();
    opts.onResult?.(r);
    return r;
  });
}
