// How often a check runs: `retries: N` is a count (exactly N+1 attempts while it fails), `within` is a deadline (as many
// attempts as fit, so their number depends on how long each takes). The clock is faked: attempt durations are exact.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlannedCheck } from '../../../src/plan/planner.js';
import type { RunResult } from '../../../src/runner/exec.js';

/** How long each `run` takes (ms of fake time), and whether it exits 0. */
const behaviour = { ms: 0, passFrom: Infinity, calls: 0 };

vi.mock('../../../src/runner/exec.js', () => ({
  run: (argv: string[]): Promise<RunResult> =>
    new Promise((resolve) => {
      const n = ++behaviour.calls;
      setTimeout(() => resolve({ argv, exitCode: n >= behaviour.passFrom ? 0 : 1, stdout: '', stderr: '', durationMs: behaviour.ms, timedOut: false }), behaviour.ms);
    }),
}));

const { runCheck } = await import('../../../src/checks/index.js');

const cmd = (over: Partial<PlannedCheck>): PlannedCheck =>
  ({ kind: 'cmd', id: 's/1', stage: 's', name: 'c', from: 'a', fromNs: 'netlab-x-a', target: '', expect: 'pass', argv: ['false'], exit: 0, timeoutMs: 5000, retries: 0, more: [], ...over }) as PlannedCheck;

async function attemptsOf(c: PlannedCheck, attemptMs: number, passFrom = Infinity) {
  Object.assign(behaviour, { ms: attemptMs, passFrom, calls: 0 });
  const p = runCheck(c);
  await vi.runAllTimersAsync();
  const r = await p;
  expect(behaviour.calls).toBe(r.attempts ?? 1);
  return { ok: r.ok, attempts: r.attempts ?? 1, durationMs: r.durationMs };
}

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] }));
afterEach(() => vi.useRealTimers());

describe('retries: a count, whatever each attempt costs', () => {
  it.each([0, 60, 400])('retries: 2 runs a failing check exactly 3 times (attempts of %i ms)', async (ms) => {
    expect(await attemptsOf(cmd({ retries: 2 }), ms)).toMatchObject({ ok: false, attempts: 3 });
  });

  it('stops at the first attempt that holds', async () => {
    expect(await attemptsOf(cmd({ retries: 5 }), 30, 3)).toMatchObject({ ok: true, attempts: 3 });
    expect(await attemptsOf(cmd({ retries: 5 }), 30, 1)).toMatchObject({ ok: true, attempts: 1 });
  });
});

describe('within: a deadline, so the number of attempts follows their duration', () => {
  // Pauses are 100, 200, 400, 800 ms; an attempt starts only when its pause ends before the deadline.
  it('within: 400ms gives 3 instant attempts, but only 2 when each takes 60 ms (a loaded machine)', async () => {
    expect(await attemptsOf(cmd({ withinMs: 400 }), 0)).toMatchObject({ ok: false, attempts: 3, durationMs: 300 });
    // 60 + 100 + 60 = 220 ms; 220 + 200 ms of pause would end past 400 ms: no third attempt.
    expect(await attemptsOf(cmd({ withinMs: 400 }), 60)).toMatchObject({ ok: false, attempts: 2, durationMs: 220 });
  });

  it('never runs past the deadline by more than one attempt, and always stops', async () => {
    for (const ms of [0, 10, 60, 150, 500, 1500]) {
      const { attempts, durationMs } = await attemptsOf(cmd({ withinMs: 2000 }), ms);
      const pauses = Array.from({ length: attempts - 1 }, (_, i) => Math.min(100 * 2 ** i, 1000)).reduce((a, b) => a + b, 0);
      expect(durationMs, `${ms} ms attempts`).toBe(attempts * ms + pauses);
      expect(attempts, `${ms} ms attempts`).toBeLessThanOrEqual(5);
      // It stopped because the next pause would have ended past the deadline.
      expect(durationMs + Math.min(100 * 2 ** (attempts - 1), 1000), `${ms} ms attempts`).toBeGreaterThanOrEqual(2000);
    }
  });

  it('a check that holds in time stops there', async () => {
    expect(await attemptsOf(cmd({ withinMs: 5000 }), 50, 3)).toMatchObject({ ok: true, attempts: 3 });
  });
});
