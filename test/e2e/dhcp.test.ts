// DHCP on real namespaces: dnsmasq serves, udhcpc leases, netlab applies the lease; teardown removes everything.
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { inSubnet, parseCidr } from '../../src/lab/ip.js';
import { procStart } from '../../src/runner/state.js';
import { describeLab, instanceNamespaces, netlab, STATE } from './helpers.js';

const LAB = 'test/fixtures/labs/dhcp.yaml';

describeLab('DHCP (real namespaces)', () => {
  it('VMs lease addresses in range with the configured gateway (or none), and checks reach them by name', async () => {
    const id = 'e2e-dhcp';
    const up = await netlab(['up', LAB, '-i', id, '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(`${STATE}/${id}.json`, 'utf8')) as {
      processes: { pid: number; what: string }[];
      leases: { node: string; address: string; router?: string }[];
    };
    try {
      expect(rec.processes.map((p) => p.what).sort()).toEqual(['dhcp-server virbr0', 'dhcp-server vmnet1']);
      const lease = (node: string) => rec.leases.find((l) => l.node === node)!;
      for (const vm of ['vm1', 'vm2']) {
        const a = parseCidr(lease(vm).address)!;
        expect(a.value >= parseCidr('192.168.122.2')!.value && a.value <= parseCidr('192.168.122.254')!.value, lease(vm).address).toBe(true);
        expect(lease(vm).router).toBe('192.168.122.1');
      }
      expect(inSubnet(parseCidr(lease('vm3').address)!, parseCidr('192.168.153.128/25')!)).toBe(true);
      expect(lease('vm3').router).toBeUndefined();

      const routes = async (node: string) => JSON.parse((await netlab(['exec', id, node, '--', 'ip', '-j', 'route'])).stdout) as { dst: string; gateway?: string }[];
      expect(await routes('vm1')).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '192.168.122.1' }));
      expect((await routes('vm3')).some((r) => r.dst === 'default')).toBe(false);
      const leases = readFileSync(`${STATE}/${id}/host.virbr0.leases`, 'utf8');
      expect(leases).toContain(lease('vm1').address);

      const check = await netlab(['check', id, '-f', 'json']);
      expect(check.exitCode).toBe(0);
      const report = JSON.parse(check.stdout) as { stages: { results: { name: string; target: string }[] }[] };
      expect(report.stages[0]!.results.find((r) => r.name === 'ping vm1 → vm2')!.target).toBe(lease('vm2').address);
    } finally {
      expect((await netlab(['down', id])).exitCode).toBe(0);
    }
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(`${STATE}/${id}`)).toBe(false);
    for (const p of rec.processes) expect(procStart(p.pid), `dnsmasq pid ${p.pid}`).toBeUndefined();
  });
});
