// The core acceptance: veth-routing builds for real, each step gives the document's result, nothing is left.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, recordFile, STATE, UNPRIVILEGED } from './helpers.js';

describeLab('netlab run veth-routing (real namespaces)', () => {
  it('reproduces the three stages of seed 004 §3.2.2 and tears down', async () => {
    const r = await netlab(['run', 'veth-routing', '-i', 'e2e-vr', '-f', 'json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report.schemaVersion).toBe(1);
    const byStage = Object.fromEntries(report.stages.map((s) => [s.name, s.results]));
    expect(byStage['no-routes']![0]).toMatchObject({ expected: 'fail', got: 'fail', ok: true });
    // Fails at once: the kernel refused to send (ping's exit 2 at connect), it did not wait for a reply.
    expect(byStage['no-routes']![0]!.detail).toContain('Network is unreachable');
    expect(byStage['no-routes']![0]!.evidence.exitCode).toBe(2);
    // Silence: ping itself gave up (exit 1) after the short must-fail timeout it was given, not the 2 s default.
    expect(byStage['route-one-way']![0]).toMatchObject({ expected: 'fail', got: 'fail', ok: true, detail: 'no reply in time' });
    expect(byStage['route-one-way']![0]!.evidence.exitCode).toBe(1);
    expect(byStage['route-one-way']![0]!.evidence.argv.join(' ')).toContain(' -W 0.50 ');
    for (const c of byStage['routes-both-ways']!) expect(c).toMatchObject({ got: 'pass', ok: true, detail: 'reply, TTL 63' });
    expect(report.summary).toEqual({ total: 6, passed: 6, failed: 0, errors: 0 });
    expect(instanceNamespaces('e2e-vr')).toEqual([]);
  });

  it('prints a table with a closing line to stdout and progress to stderr', async () => {
    const r = await netlab(['run', 'veth-routing', '-i', 'e2e-vr-table']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^6 passed, 0 failed$/m);
    expect(r.stdout).toContain('no route (Network is unreachable)');
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stderr).toContain('Tear down: deleted 3 namespaces');
    expect(instanceNamespaces('e2e-vr-table')).toEqual([]);
  });

  it('runs two instances of one lab at the same time, both passing', async () => {
    const [a, b] = await Promise.all([netlab(['run', 'veth-routing', '-q']), netlab(['run', 'veth-routing', '-q'])]);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    const ids = [a, b].map((r) => /instance (veth-routing-[0-9a-f]{4})/.exec(r.stdout)?.[1]);
    expect(ids[0]).toBeDefined();
    expect(ids[0]).not.toBe(ids[1]);
    expect(instanceNamespaces('veth-routing-')).toEqual([]);
  });

  it('reports a check that does not give the expected result, with exit 1', async () => {
    // Stop after step 2: the run's own checks pass; then re-check step 3's expectation against step-2 state.
    const up = await netlab(['up', 'veth-routing', '-i', 'e2e-vr-fail', '--step', 'route-one-way', '-q']);
    expect(up.exitCode).toBe(0);
    try {
      const r = await netlab(['check', 'e2e-vr-fail', '--step', 'routes-both-ways', '-f', 'json']);
      expect(r.exitCode).toBe(1);
      const report = JSON.parse(r.stdout) as RunReport;
      expect(report.summary.failed).toBe(2);
      expect(report.stages[0]!.results[0]).toMatchObject({ expected: 'pass', got: 'fail', ok: false });
      expect(report.stages[0]!.results[0]!.hint).toContain('routes');
    } finally {
      await netlab(['down', 'e2e-vr-fail']);
    }
    expect(instanceNamespaces('e2e-vr-fail')).toEqual([]);
  });
});

describe('netlab without root', () => {
  it.skipIf(!UNPRIVILEGED)('builds the lab boxed: the same passing report, nothing in the host\'s /run/netns, state in the user\'s own directory', async () => {
    const r = await netlab(['run', 'veth-routing', '-i', 'e2e-vr-user', '-f', 'json', '-q']);
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as { summary: { failed: number; passed: number } }).summary).toMatchObject({ failed: 0, passed: 6 });
    expect(STATE).not.toBe('/run/netlab');
    expect(existsSync(recordFile('e2e-vr-user'))).toBe(false);
    expect(instanceNamespaces('e2e-vr-user')).toEqual([]);
  });
});
