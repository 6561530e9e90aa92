// SIGINT/SIGTERM during build and during checks leave nothing; kill -9 during build, then `netlab cleanup`, leaves nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BOXED, describeLab, instanceNamespaces, runDirOf, spawnNetlab, starLab, tempDir, waitFor, waitForNamespaces, STATE } from './helpers.js';

const stateFile = (id: string) => `${STATE}/${id}.json`;
const stage = (id: string): number => {
  try {
    return (JSON.parse(readFileSync(stateFile(id), 'utf8')) as { stage: number }).stage;
  } catch {
    return -2;
  }
};

/** How long the check that gets interrupted would run if nobody stopped it. */
const SLOW_CHECK_S = 40;

describeLab('signals and crashes (real namespaces)', () => {
  const star = starLab(60, 'sigstar');
  const dir = tempDir('netlab-signals-');

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during the build tears down (exit %i)', async (sig, code) => {
    const id = `e2e-build-${sig.toLowerCase()}`;
    const child = spawnNetlab(['run', star, '-i', id]);
    // Woken by the first namespace file appearing (the host's /run/netns, or the box's), not by polling for it.
    await waitForNamespaces(id);
    expect(stage(id)).toBe(-1); // still building
    child.kill(sig);
    const r = await child;
    expect(r.exitCode, `ended by ${r.signal}`).toBe(code);
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(stateFile(id))).toBe(false);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during the checks tears down (exit %i) and reports what ran', async (sig, code) => {
    const id = `e2e-check-${sig.toLowerCase()}`;
    // Step "slow" runs a check that says it started (a file the test watches for), then sleeps 40 s.
    // Boxed, a check writes only in the instance's work directory (its run directory, removed with it).
    const started = BOXED ? join(runDirOf(id), 'started') : join(dir, `started-${id}`);
    const lab = join(dir, `slow-${id}.yaml`);
    writeFileSync(
      lab,
      `name: slow-check\nnodes:\n  a: {}\n  b: {}\nlinks:\n  - endpoints: [{ at: "a:eth0", address: 192.0.2.1/24 }, { at: "b:eth0", address: 192.0.2.2/24 }]\n` +
        `checks:\n  - { kind: ping, name: setup ping, from: a, to: b }\n` +
        `steps:\n  - name: slow\n    checks:\n      - { kind: cmd, name: slow sleep, node: a, shell: 'touch ${started}; exec sleep ${SLOW_CHECK_S}', timeout: ${SLOW_CHECK_S + 10}s }\n`,
    );
    const child = spawnNetlab(['run', lab, '-i', id]);
    await waitFor(() => existsSync(started), { watch: BOXED ? runDirOf(id) : dir, timeoutMs: 45_000 });
    expect(stage(id)).toBe(1);
    const killedAt = Date.now();
    child.kill(sig);
    const r = await child;
    expect(r.exitCode, `ended by ${r.signal}`).toBe(code);
    // Interrupted, not waited out: had netlab let the check finish, it would have exited 40 s after the check
    // started. Cancelling it and tearing down takes a second or two; half the sleep is a 10x margin over that.
    expect(Date.now() - killedAt).toBeLessThan((SLOW_CHECK_S * 1000) / 2);
    expect(r.stdout).toMatch(/setup ping/);
    expect(r.stdout).not.toMatch(/slow sleep/);
    expect(r.stdout).toContain(`stopped early: interrupted by ${sig}`);
    expect(instanceNamespaces(id)).toEqual([]);
  }, 120_000);
});
