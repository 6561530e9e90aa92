// kill -9 during the build leaves a state record and namespaces; `netlab cleanup` removes them.
// Runs alone (vitest project "exclusive"): a plain `netlab cleanup` removes every instance no live netlab runs,
// which would pull the rug from under tests running in parallel.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeLab, instanceNamespaces, netlab, spawnNetlab, starLab, waitFor, STATE } from '../helpers.js';

const stateFile = (id: string) => `${STATE}/${id}.json`;

describeLab('crash recovery (real namespaces)', () => {
  const star = starLab(60, 'killstar');

  it('kill -9 during the build leaves a state record that `netlab cleanup` uses', async () => {
    const id = 'e2e-kill9';
    const child = spawnNetlab(['run', star, '-i', id]);
    await waitFor(() => instanceNamespaces(id).length > 0, { watch: '/run/netns' });
    child.kill('SIGKILL');
    await child;
    expect(instanceNamespaces(id).length).toBeGreaterThan(0);
    expect(existsSync(stateFile(id))).toBe(true);
    const status = await netlab(['status']);
    expect(status.stdout).toMatch(new RegExp(`${id} .*stale`));
    const dry = await netlab(['cleanup', '--dry-run']);
    expect(dry.stderr).toContain(id);
    expect(instanceNamespaces(id).length).toBeGreaterThan(0);
    const r = await netlab(['cleanup']);
    expect(r.exitCode).toBe(0);
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(stateFile(id))).toBe(false);
  });

  it('cleanup also removes up instances and stray netlab namespaces, and says so', async () => {
    expect((await netlab(['up', 'veth-routing', '-i', 'e2e-clean-up', '-q'])).exitCode).toBe(0);
    const plan = await netlab(['plan', 'veth-routing', '-i', 'e2e-clean-script']);
    const { execa } = await import('execa');
    await execa('bash', ['-c', plan.stdout]);
    expect(instanceNamespaces('e2e-clean-script')).toHaveLength(3);
    const r = await netlab(['cleanup']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('instance e2e-clean-up');
    expect(r.stderr).toContain('stray namespaces: netlab-e2e-clean-script-host');
    expect(instanceNamespaces('e2e-clean-up')).toEqual([]);
    expect(instanceNamespaces('e2e-clean-script')).toEqual([]);
    expect((await netlab(['cleanup'])).stderr).toContain('nothing to remove');
  });
});
