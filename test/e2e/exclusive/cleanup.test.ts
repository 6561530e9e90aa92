// kill -9 during the build leaves a state record and namespaces; `netlab cleanup` removes them.
// Runs alone (vitest project "exclusive"): a plain `netlab cleanup` removes every instance no live netlab runs,
// which would pull the rug from under tests running in parallel.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { BOXED, describeLab, instanceNamespaces, isRoot, netlab, spawnNetlab, starLab, waitFor, waitForNamespaces, STATE } from '../helpers.js';

const stateFile = (id: string) => `${STATE}/${id}.json`;

describeLab('crash recovery (real namespaces)', () => {
  const star = starLab(60, 'killstar');

  it('kill -9 during the build leaves a state record that `netlab cleanup` uses', async () => {
    const id = 'e2e-kill9';
    const child = spawnNetlab(['run', star, '-i', id]);
    await waitForNamespaces(id);
    child.kill('SIGKILL');
    await child;
    // Boxed (the unprivileged pass, or NETLAB_E2E_SANDBOX=1), the kernel frees the lab with its supervisor, which
    // netlab's death ended: only the state record is left for cleanup. Plain, the namespaces stay until cleanup.
    if (BOXED) await waitFor(() => instanceNamespaces(id).length === 0, { timeoutMs: 5000 });
    else expect(instanceNamespaces(id).length).toBeGreaterThan(0);
    expect(existsSync(stateFile(id))).toBe(true);
    const status = await netlab(['status']);
    expect(status.stdout).toMatch(new RegExp(`${id} .*stale`));
    const dry = await netlab(['cleanup', '--dry-run']);
    expect(dry.stderr).toContain(id);
    if (!BOXED) expect(instanceNamespaces(id).length).toBeGreaterThan(0);
    const r = await netlab(['cleanup']);
    expect(r.exitCode).toBe(0);
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(stateFile(id))).toBe(false);
  });

  it('cleanup also removes up instances and stray netlab namespaces, and says so', async () => {
    expect((await netlab(['up', 'veth-routing', '-i', 'e2e-clean-up', '-q'])).exitCode).toBe(0);
    // A `netlab plan` script builds plain named namespaces in the host's /run/netns: only root can (and only root's
    // cleanup sees them).
    if (isRoot) {
      const plan = await netlab(['plan', 'veth-routing', '-i', 'e2e-clean-script']);
      const { execa } = await import('execa');
      await execa('bash', ['-c', plan.stdout]);
      expect(instanceNamespaces('e2e-clean-script')).toHaveLength(3);
    }
    const r = await netlab(['cleanup']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('instance e2e-clean-up');
    if (isRoot) expect(r.stderr).toContain('stray namespaces: netlab-e2e-clean-script-host');
    expect(instanceNamespaces('e2e-clean-up')).toEqual([]);
    expect(instanceNamespaces('e2e-clean-script')).toEqual([]);
    expect((await netlab(['cleanup'])).stderr).toContain('nothing to remove');
  });
});
