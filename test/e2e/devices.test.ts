// Device kinds on real namespaces: each lab proves its behaviour from inside the namespaces.
// Kinds this kernel lacks (netlab's own kernel probe says so) must be refused before building, with the reason.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { probeKernel, type KernelFeature } from '../../src/runner/features.js';
import { canBuildLabs, describeLab, instanceNamespaces, itRootOnly, KERNEL, KERNEL_COMMAND, netlab, ROOT, tempDir } from './helpers.js';

const dir = tempDir('netlab-devices-');
function labFile(name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/**
 * What this kernel supports, asked with netlab's own probe (the one `doctor` and the preflight of `run`/`up` use):
 * every kind tried at once in a throwaway namespace. A kind it lacks is not skipped: its lab must be refused before
 * anything is built, with the preflight's line.
 */
const KINDS = ['dummy', 'ipvlan', 'vlan', 'netem'] as const satisfies readonly KernelFeature[];
const probed = canBuildLabs ? await probeKernel(KINDS) : [];
const support = Object.fromEntries(KINDS.map((k) => [k, probed.find((r) => r.feature === k)?.status === 'ok'])) as Record<(typeof KINDS)[number], boolean>;

const missing = KINDS.filter((k) => !support[k]);
if (canBuildLabs && missing.length) process.stdout.write(`devices: this kernel lacks ${missing.join(', ')}; their labs are checked to be refused before building (\`${KERNEL_COMMAND}\` runs them on a kernel that has them)\n`);

/** On a kernel without `feature`: `run` exits 3 before building, naming the feature; nothing is left. */
async function refused(file: string, id: string, feature: KernelFeature): Promise<void> {
  const r = await netlab(['run', file, '-i', id, '-q']);
  expect(r.exitCode, r.stderr).toBe(3);
  expect(r.stderr).toContain(`kernel feature ${feature} (`);
  expect(r.stderr).toContain('nothing was created');
  expect(r.stderr).toMatch(/hint: /);
  expect(instanceNamespaces(id)).toEqual([]);
}

async function run(file: string, id: string): Promise<RunReport> {
  const r = await netlab(['run', file, '-i', id, '-f', 'json', '-q']);
  expect(r.stderr).toBe('');
  const report = JSON.parse(r.stdout) as RunReport;
  const bad = report.stages.flatMap((s) => s.results).filter((c) => !c.ok);
  expect(bad.map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
  expect(r.exitCode).toBe(0);
  expect(instanceNamespaces(id)).toEqual([]);
  return report;
}

async function withUp<T>(file: string, id: string, fn: (exec: (node: string, argv: string[]) => Promise<string>) => Promise<T>): Promise<T> {
  const up = await netlab(['up', file, '-i', id, '-q']);
  expect(up.exitCode, up.stderr).toBe(0);
  try {
    return await fn(async (node, argv) => (await netlab(['exec', id, node, '--', ...argv])).stdout);
  } finally {
    await netlab(['down', id]);
    expect(instanceNamespaces(id)).toEqual([]);
  }
}

const MACVLAN = (mode: string) => `
name: macvlan-${mode}
nodes: { host: {}, ns1: {}, ns2: {}, sw: {} }
links:
  - endpoints: [{ at: "host:eth0", address: 192.168.50.1/24 }, "sw:p0"]
devices:
  - { kind: bridge, name: br0, node: sw, ports: [p0] }
  - { kind: macvlan, name: mv1, node: ns1, parent: "host:eth0", mode: ${mode}, address: 192.168.50.11/24 }
  - { kind: macvlan, name: mv2, node: ns2, parent: "host:eth0", mode: ${mode}, address: 192.168.50.12/24 }
checks:
  - { kind: ping, from: ns1, to: ns2, expect: ${mode === 'bridge' ? 'pass' : 'fail'} }
  - { kind: ping, from: host, to: ns1, expect: fail }
  - { kind: ping, from: ns2, to: host, expect: fail }
`;

describeLab('devices (real namespaces)', () => {
  it('macvlan bridge mode: children reach each other, not their parent', async () => {
    await run(labFile('mvb', MACVLAN('bridge')), 'e2e-mvb');
  });

  it('macvlan private mode: children cannot reach each other either', async () => {
    await run(labFile('mvp', MACVLAN('private')), 'e2e-mvp');
  });

  it('bridge: ports forward between VMs; stp off, vlan_filtering as asked', async () => {
    const file = labFile('br', `
name: bridged
nodes: { sw: {}, vm1: {}, vm2: {} }
links:
  - endpoints: [{ at: "vm1:eth0", address: 192.168.3.122/24 }, "sw:p1"]
  - endpoints: [{ at: "vm2:eth0", address: 192.168.3.123/24 }, "sw:p2"]
bridges:
  - { name: br0, node: sw, ports: [p1, p2], address: 192.168.3.101/24 }
checks:
  - { kind: ping, from: vm1, to: vm2 }
  - { kind: ping, from: vm2, to: sw:br0 }
`);
    await run(file, 'e2e-br');
    await withUp(file, 'e2e-br-up', async (exec) => {
      const links = JSON.parse(await exec('sw', ['ip', '-j', '-d', 'link', 'show', 'br0'])) as { linkinfo: { info_data: { stp_state: number; vlan_filtering: number } } }[];
      expect(links[0]!.linkinfo.info_data).toMatchObject({ stp_state: 0, vlan_filtering: 0 });
      const ports = JSON.parse(await exec('sw', ['ip', '-j', 'link', 'show', 'master', 'br0'])) as { ifname: string }[];
      expect(ports.map((p) => p.ifname).sort()).toEqual(['p1', 'p2']);
    });
  });

  itRootOnly('tun/tap: /dev/net/tun is 0600 (root only) on this machine')('tap and tun: created, up, but no carrier until a program opens them; MTU and MAC as set', async () => {
    const file = labFile('tap', `
name: taptun
nodes:
  host:
    interfaces:
      tap1: { mtu: 1400, mac: "02:00:00:00:00:42" }
devices:
  - { kind: bridge, name: br1, node: host, ports: [tap1], address: 192.168.142.1/24 }
  - { kind: tap, name: tap1, node: host }
  - { kind: tun, name: tun1, node: host, address: 10.9.0.1/24 }
`);
    await withUp(file, 'e2e-tap', async (exec) => {
      const links = JSON.parse(await exec('host', ['ip', '-j', '-d', 'link'])) as { ifname: string; flags: string[]; mtu: number; address?: string; master?: string; linkinfo?: { info_kind: string; info_data?: { type?: string } } }[];
      const tap = links.find((l) => l.ifname === 'tap1')!;
      const tun = links.find((l) => l.ifname === 'tun1')!;
      expect(tap.linkinfo).toMatchObject({ info_kind: 'tun', info_data: { type: 'tap' } });
      expect(tun.linkinfo).toMatchObject({ info_kind: 'tun', info_data: { type: 'tun' } });
      expect(tap.flags).toContain('UP');
      expect(tap.flags).toContain('NO-CARRIER');
      expect(tap).toMatchObject({ mtu: 1400, address: '02:00:00:00:00:42', master: 'br1' });
      const addrs = JSON.parse(await exec('host', ['ip', '-j', 'addr', 'show', 'tun1'])) as { addr_info: { local: string }[] }[];
      expect(addrs[0]!.addr_info.map((a) => a.local)).toContain('10.9.0.1');
    });
  });

  it('vxlan: two nodes talk over a VXLAN tunnel on a veth underlay; MTU 1600 on the underlay', async () => {
    await run(labFile('vx', `
name: vxlan
nodes:
  a: { interfaces: { u0: { mtu: 1600 } } }
  b: { interfaces: { u0: { mtu: 1600 } } }
links:
  - endpoints: [{ at: "a:u0", address: 172.16.0.1/24 }, { at: "b:u0", address: 172.16.0.2/24 }]
devices:
  - { kind: vxlan, name: vx0, node: a, id: 42, remote: 172.16.0.2, dev: u0, address: [10.42.0.1/24, "2001:db8:42::1/64"] }
  - { kind: vxlan, name: vx0, node: b, id: 42, remote: 172.16.0.1, dev: u0, address: [10.42.0.2/24, "2001:db8:42::2/64"] }
checks:
  - { kind: ping, from: a, to: 10.42.0.2 }
  - { kind: ping, from: b, to: "2001:db8:42::1" }
`), 'e2e-vx');
  });

  it('dummy: an address on a dummy device answers locally and via a route (refused before building without dummy)', KERNEL, async () => {
    const file = join(ROOT, 'test/fixtures/labs/dummy.yaml');
    if (support.dummy) await run(file, 'e2e-dummy');
    else await refused(file, 'e2e-dummy', 'dummy');
  });

  it('vlan: sub-interfaces with the same id talk, a different id does not (refused before building without 8021q)', KERNEL, async () => {
    const file = labFile('vlan', `
name: vlan
nodes: { a: {}, b: {} }
links:
  - endpoints: [a:eth0, b:eth0]
devices:
  - { kind: vlan, name: eth0.10, node: a, parent: eth0, id: 10, address: 10.10.0.1/24 }
  - { kind: vlan, name: eth0.10, node: b, parent: eth0, id: 10, address: 10.10.0.2/24 }
  - { kind: vlan, name: eth0.20, node: a, parent: eth0, id: 20, address: 10.20.0.1/24 }
  - { kind: vlan, name: eth0.30, node: b, parent: eth0, id: 30, address: 10.20.0.2/24 }
checks:
  - { kind: ping, from: a, to: 10.10.0.2 }
  - { kind: ping, from: a, to: 10.20.0.2, expect: fail }
`);
    if (support.vlan) await run(file, 'e2e-vlan');
    else await refused(file, 'e2e-vlan', 'vlan');
  });

  it('ipvlan l2: children on one parent reach each other (refused before building without ipvlan)', KERNEL, async () => {
    const file = labFile('ipvlan', `
name: ipvlan
nodes: { host: {}, sw: {}, ns1: {}, ns2: {} }
links:
  - endpoints: [{ at: "host:eth0", address: 192.168.60.1/24 }, "sw:p0"]
devices:
  - { kind: ipvlan, name: iv1, node: ns1, parent: "host:eth0", mode: l2, address: 192.168.60.11/24 }
  - { kind: ipvlan, name: iv2, node: ns2, parent: "host:eth0", mode: l2, address: 192.168.60.12/24 }
checks:
  - { kind: ping, from: ns1, to: ns2 }
`);
    if (support.ipvlan) await run(file, 'e2e-ipvlan');
    else await refused(file, 'e2e-ipvlan', 'ipvlan');
  });

  it('netem: added delay shows in the round-trip time (refused before building without sch_netem)', KERNEL, async () => {
    const file = labFile('netem', `
name: netem
nodes:
  a: { interfaces: { eth0: { netem: { delay: 100ms } } } }
  b: {}
links:
  - endpoints: [{ at: "a:eth0", address: 10.5.0.1/24 }, { at: "b:eth0", address: 10.5.0.2/24 }]
`);
    if (!support.netem) return refused(file, 'e2e-netem', 'netem');
    await withUp(file, 'e2e-netem', async (exec) => {
      const out = await exec('a', ['ping', '-c', '1', '-W', '2', '10.5.0.2']);
      const rtt = Number(/time=([\d.]+) ms/.exec(out)?.[1]);
      expect(rtt).toBeGreaterThanOrEqual(100);
    });
  });
});
