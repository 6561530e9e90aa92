// run()'s own spawn (exec.ts spawnShort, in place of execa): a process netlab stops — for its time, or for printing
// without end — is done with even when a grandchild the signal does not reach still holds its pipes (as `ip netns
// exec` forks the command: the box's pdeathsig is not inherited). Without that, the run hung reading the flood.
import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT, run } from '../../../src/runner/exec.js';

describe('run (no root needed)', () => {
  it('stops a flood from a grandchild: the pipes are closed on it, the result says why', async () => {
    const r = await run(['sh', '-c', 'sh -c yes; true']);
    expect(r.stderr).toContain(`its output went over ${MAX_OUTPUT} characters`);
    expect(r.stdout.length).toBeLessThanOrEqual(MAX_OUTPUT);
  }, 30_000);

  it('a timed-out process whose grandchild sleeps on is done with once it exited', async () => {
    // The grandchild keeps the pipes and never ends by itself: without closing them the result would wait for it,
    // past this test's 30 s. Closed, its next write ends it (SIGPIPE): nothing is left behind.
    const r = await run(['sh', '-c', 'sh -c "while :; do sleep 0.2; echo tick; done"; true'], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeUndefined();
  }, 30_000);

  it('keeps stdout, stderr and the exit code of an ordinary process, and reports one that cannot start', async () => {
    const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 3'], { input: '' });
    expect([r.stdout, r.stderr, r.exitCode, r.timedOut]).toEqual(['out\n', 'err\n', 3, false]);
    const missing = await run(['netlab-no-such-command']);
    expect(missing.exitCode).toBeUndefined();
    expect(missing.spawnError).toMatch(/ENOENT/);
  });
});

describe('run, where the kernel refuses to start anything', () => {
  it('gives a spawn error, not a throw, when spawn itself throws (EPERM as root without capabilities)', async () => {
    // An argv that makes node's spawn throw synchronously: a NUL in an argument.
    const r = await run(['sh', '-c', 'true\0x']);
    expect(r.exitCode).toBeUndefined();
    expect(r.spawnError).toMatch(/Command failed with/);
  });
});
