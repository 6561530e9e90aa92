// `netlab plan LAB > lab.sh && bash lab.sh` builds the same state that netlab builds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { describeLab, itRootOnly, inLab, instanceNamespaces, netlab, tempDir } from './helpers.js';

/** Every temp file of this file's tests lives below this, removed after them. */
const TMP = tempDir('netlab-e2e-');

interface AddrJson {
  ifname: string;
  flags: string[];
  mtu: number;
  link_type: string;
  operstate: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

/** Runs argv in namespace `ns` of `instance` (inside its sandbox when it is boxed, NETLAB_E2E_SANDBOX=1). */
async function inNs(instance: string, ns: string, argv: string[]): Promise<string> {
  const [cmd, ...args] = inLab(instance, ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv]);
  return (await execa(cmd as string, args)).stdout;
}

/** The observable network state of one namespace, without kernel-assigned ids, MACs or counters. */
async function snapshot(ns: string) {
  const instance = /^netlab-(.+)-[^-]+$/.exec(ns)?.[1] ?? '';
  const addrs = (JSON.parse(await inNs(instance, ns, ['ip', '-j', 'addr'])) as AddrJson[])
    .map((l) => ({
      ifname: l.ifname,
      flags: [...l.flags].sort(),
      mtu: l.mtu,
      type: l.link_type,
      state: l.operstate,
      addrs: l.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen} ${a.scope}`),
    }))
    .sort((a, b) => a.ifname.localeCompare(b.ifname));
  const routes = (JSON.parse(await inNs(instance, ns, ['ip', '-j', 'route'])) as Record<string, unknown>[]).map((r) =>
    [r.dst, r.gateway, r.dev, r.protocol, r.scope, r.prefsrc].filter(Boolean).join(' '),
  );
  const forward = (await inNs(instance, ns, ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim();
  return { addrs, routes: routes.sort(), forward };
}

describeLab('netlab plan → bash (real namespaces)', () => {
  itRootOnly("the plan script builds plain named namespaces in the host's /run/netns")('builds the same addresses, routes, link states and forwarding as netlab up', async () => {
    const plan = await netlab(['plan', 'veth-routing', '-i', 'e2e-plan-script']);
    expect(plan.exitCode).toBe(0);
    const dir = mkdtempSync(join(TMP, 'netlab-plan-'));
    writeFileSync(join(dir, 'lab.sh'), plan.stdout);
    const teardown = (await netlab(['plan', 'veth-routing', '-i', 'e2e-plan-script', '--teardown'])).stdout;
    try {
      const sh = await execa('bash', [join(dir, 'lab.sh')], { reject: false });
      expect(sh.exitCode, sh.stderr).toBe(0);
      expect((await netlab(['up', 'veth-routing', '-i', 'e2e-plan-up', '-q'])).exitCode).toBe(0);
      for (const node of ['host', 'ns1', 'ns2']) {
        const byScript = await snapshot(`netlab-e2e-plan-script-${node}`);
        const byNetlab = await snapshot(`netlab-e2e-plan-up-${node}`);
        expect(byScript, node).toEqual(byNetlab);
        expect(byNetlab.addrs.length, node).toBeGreaterThan(1);
      }
      expect((await snapshot('netlab-e2e-plan-up-ns1')).routes).toContain('10.10.20.0/24 10.10.10.1 v1');
    } finally {
      await execa('bash', ['-c', teardown], { reject: false });
      await netlab(['down', 'e2e-plan-up']);
    }
    expect(instanceNamespaces('e2e-plan-script')).toEqual([]);
    expect(instanceNamespaces('e2e-plan-up')).toEqual([]);
  });
});
