// up / status / exec / check / down, rollback of a failed build, and refusing to touch foreign namespaces.
import { expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RunReport } from '../../src/report/model.js';
import { BOXED, describeLab, inLab, instanceNamespaces, itRootOnly, netlab, tempDir } from './helpers.js';

/** Every temp file of this file's tests lives below this, removed after them. */
const TMP = tempDir('netlab-e2e-');

describeLab('instance lifecycle (real namespaces)', () => {
  it('up → status → exec → check → down', async () => {
    const up = await netlab(['up', 'veth-routing', '-i', 'e2e-life', '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    try {
      expect(instanceNamespaces('e2e-life').sort()).toEqual(['netlab-e2e-life-host', 'netlab-e2e-life-ns1', 'netlab-e2e-life-ns2']);
      const status = await netlab(['status', '--json']);
      const row = (JSON.parse(status.stdout) as { instance: string; state: string; step: string; namespaces: string }[]).find((r) => r.instance === 'e2e-life');
      expect(row).toMatchObject({ state: 'up', step: 'routes-both-ways', namespaces: '3/3' });

      const exec = await netlab(['exec', 'e2e-life', 'ns2', '--', 'ip', '-j', 'route']);
      expect(exec.exitCode).toBe(0);
      const routes = JSON.parse(exec.stdout) as { dst: string; gateway?: string }[];
      expect(routes).toContainEqual(expect.objectContaining({ dst: '10.10.10.0/24', gateway: '10.10.20.1' }));
      const fwd = await netlab(['exec', 'e2e-life', 'host', '--', 'sysctl', '-n', 'net.ipv4.ip_forward']);
      expect(fwd.stdout.trim()).toBe('1');

      const check = await netlab(['check', 'e2e-life']);
      expect(check.exitCode).toBe(0);
      expect(check.stdout).toMatch(/^4 passed, 0 failed$/m);

      const again = await netlab(['up', 'veth-routing', '-i', 'e2e-life', '-q']);
      expect(again.exitCode).toBe(2);
      expect(again.stderr).toContain('already exists');
    } finally {
      const down = await netlab(['down', 'e2e-life']);
      expect(down.exitCode).toBe(0);
    }
    expect(instanceNamespaces('e2e-life')).toEqual([]);
    expect((await netlab(['status', '--json'])).stdout).not.toContain('e2e-life');
  });

  it('a check that cannot run (namespace gone, tool missing) is an error, not a fail: exit 3', async () => {
    const up = await netlab(['up', 'veth-routing', '-i', 'e2e-gone', '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    try {
      const [cmd, ...args] = inLab('e2e-gone', ['ip', 'netns', 'del', 'netlab-e2e-gone-ns1']);
      await execa(cmd as string, args);
      const check = await netlab(['check', 'e2e-gone', '-f', 'json']);
      expect(check.exitCode).toBe(3);
      const results = (JSON.parse(check.stdout) as RunReport).stages.flatMap((s) => s.results);
      // ns2 still runs its checks: its cable to host works, and ns1 is no longer there to answer.
      expect(results.map((r) => [r.from, r.got])).toEqual([['ns1', 'error'], ['ns2', 'pass'], ['ns1', 'error'], ['ns2', 'fail']]);
      expect(results[0]?.detail).toMatch(/^namespace netlab-e2e-gone-ns1 is gone \((nsenter: )?cannot open/);
    } finally {
      expect((await netlab(['down', 'e2e-gone'])).exitCode).toBe(0);
    }
    expect(instanceNamespaces('e2e-gone')).toEqual([]);
    const dir = mkdtempSync(join(TMP, 'netlab-tool-'));
    writeFileSync(join(dir, 'no-tool.yaml'), 'name: no-tool\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, node: a, argv: [no-such-tool-here] }\n');
    const run = await netlab(['run', join(dir, 'no-tool.yaml'), '-i', 'e2e-no-tool', '-f', 'json', '-q']);
    expect(run.exitCode).toBe(3);
    const [only] = (JSON.parse(run.stdout) as RunReport).stages.flatMap((s) => s.results);
    // Boxed, a cmd check starts with `ip netns exec` (the node's own /sys), and that is what fails to execute it.
    const why = BOXED ? 'exec of "no-such-tool-here" failed' : 'nsenter: failed to execute no-such-tool-here';
    expect([only?.got, only?.detail]).toEqual(['error', `${why}: No such file or directory (is it installed? netlab doctor)`]);
  });

  it('rolls back everything when the build fails part-way, exit 3', async () => {
    const r = await netlab(['run', 'test/fixtures/labs/bad-sysctl-value.yaml', '-i', 'e2e-rollback']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/ipv6.conf.eth0.accept_dad/);
    expect(r.stderr).toMatch(/rolled back: .*ip netns del netlab-e2e-rollback-a/);
    expect(instanceNamespaces('e2e-rollback')).toEqual([]);
  });

  it('a failed `up` keeps nothing either', async () => {
    const r = await netlab(['up', 'test/fixtures/labs/bad-sysctl-value.yaml', '-i', 'e2e-upfail', '-q']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('rolled back');
    expect(instanceNamespaces('e2e-upfail')).toEqual([]);
    expect((await netlab(['status', '--json'])).stdout).not.toContain('e2e-upfail');
  });

  itRootOnly("it makes a plain named namespace in the host's /run/netns (ip netns add)")('never adopts a namespace it did not create', async () => {
    await execa('ip', ['netns', 'add', 'netlab-e2e-foreign-ns1']);
    try {
      const r = await netlab(['run', 'veth-routing', '-i', 'e2e-foreign']);
      // Boxed too: netlab claims the names against the host's /run/netns before it starts the sandbox.
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('netlab-e2e-foreign-ns1 already exists');
      expect(instanceNamespaces('e2e-foreign')).toEqual(['netlab-e2e-foreign-ns1']);
    } finally {
      await execa('ip', ['netns', 'del', 'netlab-e2e-foreign-ns1']);
    }
  });

  it('exec into an unknown node or instance is a usage error', async () => {
    expect((await netlab(['exec', 'no-such-instance', 'ns1', '--', 'true'])).exitCode).toBe(2);
    expect((await netlab(['run', 'no-such-lab'])).stderr).toContain('built-in labs: ');
  });
});
