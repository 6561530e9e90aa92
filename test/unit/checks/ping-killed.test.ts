// A ping that netlab had to kill (it overran its budget: hung, or a machine too loaded to run it) tells nothing:
// it is an error, never the "no reply" a must-fail check would count as holding.
import { describe, expect, it, vi } from 'vitest';
import type { PlannedCheck } from '../../../src/plan/planner.js';
import type { RunResult } from '../../../src/runner/exec.js';

const runs: { timeoutMs?: number }[] = [];
vi.mock('../../../src/runner/exec.js', () => ({
  run: (argv: string[], opts: { timeoutMs?: number }): Promise<RunResult> => {
    runs.push(opts);
    return Promise.resolve({ argv, exitCode: undefined, stdout: '', stderr: '', durationMs: opts.timeoutMs ?? 0, timedOut: true });
  },
}));

// The ping process itself (runPing uses netlab's prober where Python runs; this is what it falls back to).
const { runPingProcess: runPing } = await import('../../../src/checks/ping.js');

const ping = (expect: 'pass' | 'fail') =>
  ({ kind: 'ping', id: 's/1', stage: 's', name: 'p', from: 'a', fromNs: 'netlab-x-a', toText: 'b', target: '10.0.0.2', expect, count: 1, timeoutMs: 500, retries: 0, more: [] }) as unknown as Extract<PlannedCheck, { kind: 'ping' }>;

describe('a killed ping', () => {
  it.each(['fail', 'pass'] as const)('is an error for a must-%s check', async (expect_) => {
    const r = await runPing(ping(expect_));
    expect({ got: r.got, ok: r.ok }).toEqual({ got: 'error', ok: false });
    expect(r.detail).toMatch(/^ping did not finish in 10\.6 s and was killed: no result$/);
  });

  it('gets time to start on a loaded machine beyond its own wait', () => {
    expect(runs.at(-1)?.timeoutMs).toBe(500 + 50 + 10_000);
  });
});
