// SIGINT/SIGTERM during build and during checks leave nothing; kill -9 during build, then `netlab cleanup`, leaves nothing.
import { readFileSync, existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeRoot, instanceNamespaces, netlab, spawnNetlab, starLab, waitFor } from './helpers.js';

const stateFile = (id: string) => `/run/netlab/${id}.json`;
const stage = (id: string): number => {
  try {
    return (JSON.parse(readFileSync(stateFile(id), 'utf8')) as { stage: number }).stage;
  } catch {
    return -2;
  }
};

describeRoot('signals and crashes (real namespaces)', () => {
  const star = starLab(60, 'sigstar');

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during the build tears down (exit %i)', async (sig, code) => {
    const id = `e2e-build-${sig.toLowerCase()}`;
    const child = spawnNetlab(['run', star, '-i', id]);
    await waitFor(() => instanceNamespaces(id).length > 0, 15_000, 1);
    expect(stage(id)).toBe(-1); // still building
    child.kill(sig);
    const r = await child;
    expect(r.exitCode).toBe(code);
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(stateFile(id))).toBe(false);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during the checks tears down (exit %i) and reports what ran', async (sig, code) => {
    const id = `e2e-check-${sig.toLowerCase()}`;
    const started = Date.now();
    const child = spawnNetlab(['run', 'test/fixtures/labs/slow-check.yaml', '-i', id]);
    await waitFor(() => stage(id) === 1); // the 8 s check of step 1 is running
    child.kill(sig);
    const r = await child;
    expect(r.exitCode).toBe(code);
    expect(Date.now() - started).toBeLessThan(7000);
    expect(r.stdout).toContain(`stopped early: interrupted by ${sig}`);
    expect(instanceNamespaces(id)).toEqual([]);
  });
});
