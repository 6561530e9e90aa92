// netlab's prober (libexec/netlab-probe.py) sends ping checks' echoes without a process each. It must see what
// iputils ping sees: the same lab, run once with the prober and once with `ping` (NETLAB_PROBER=0), gives every
// check the same outcome, reason and TTLs — a reply (IPv4 and IPv6, one hop and two), the source's own missing route,
// an ICMP unreachable from a router and from a firewall's reject, silence from a drop and from an absent neighbour,
// and the source's own failed neighbour resolution.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/result.js';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, tempDir } from './helpers.js';

const dir = tempDir('netlab-prober-');

/** c → r → s. r forwards, has no route to 10.63.9.0/24, rejects icmp to s's 10.63.2.3 and drops it to 10.63.2.4. */
const LAB = `name: prober
nodes:
  c: { routes: [{ dst: default, via: 10.63.1.1 }, { dst: "2001:db8:63:2::/64", via: "2001:db8:63:1::1" }] }
  lone: {}
  r:
    forwarding: true
    firewall:
      forward:
        rules:
          - { action: reject, proto: icmp, dst: 10.63.2.3 }
          - { action: drop, proto: icmp, dst: 10.63.2.4 }
  s: { routes: [{ dst: default, via: 10.63.2.1 }, { dst: "2001:db8:63:1::/64", via: "2001:db8:63:2::1" }] }
links:
  - endpoints: [{ at: "c:eth0", address: [10.63.1.2/24, "2001:db8:63:1::2/64"] }, { at: "r:eth0", address: [10.63.1.1/24, "2001:db8:63:1::1/64"] }]
  - endpoints: [{ at: "r:eth1", address: [10.63.2.1/24, "2001:db8:63:2::1/64"] }, { at: "s:eth0", address: [10.63.2.2/24, 10.63.2.3/24, 10.63.2.4/24, "2001:db8:63:2::2/64"] }]
  - endpoints: [{ at: "lone:eth0", address: 10.63.4.2/24 }, { at: "r:eth2", address: 10.63.4.1/24 }]
checks:
  - { name: one hop, kind: ping, from: c, to: 10.63.1.1, ttl: 64 }
  - { name: two hops, kind: ping, from: c, to: 10.63.2.2, ttl: 63, count: 3 }
  - { name: ipv6 one hop, kind: ping, from: c, to: "2001:db8:63:1::1", ttl: 64 }
  - { name: ipv6 two hops, kind: ping, from: c, to: "2001:db8:63:2::2", ttl: 63 }
  - { name: wrong ttl, kind: ping, from: c, to: 10.63.2.2, ttl: 64 }
  - { name: no route, kind: ping, from: lone, to: 10.63.2.2, expect: fail, reason: no-route }
  - { name: router has no route, kind: ping, from: c, to: 10.63.9.1, expect: fail, reason: icmp-unreachable }
  - { name: rejected, kind: ping, from: c, to: 10.63.2.3, expect: fail, reason: icmp-unreachable }
  - { name: dropped, kind: ping, from: c, to: 10.63.2.4, expect: fail, reason: no-reply }
  - { name: dropped is no unreachable, kind: ping, from: c, to: 10.63.2.4, expect: fail, reason: icmp-unreachable }
  - { name: absent neighbour, kind: ping, from: c, to: 10.63.1.99, expect: fail, reason: no-reply }
  - { name: absent neighbour with a long wait, kind: ping, from: c, to: 10.63.1.98, expect: fail, reason: icmp-unreachable, timeout: 5s }
`;

/** What a check showed, in the words both ways of pinging must agree on. */
function seen(r: CheckResult): unknown {
  return { ok: r.ok, got: r.got, gotReason: r.gotReason, detail: r.detail.replace(/ \(from [^)]+\)/, '') };
}

async function runLab(env: Record<string, string>, id: string): Promise<Map<string, CheckResult>> {
  const file = join(dir, 'prober.yaml');
  writeFileSync(file, LAB);
  const r = await netlab(['run', file, '-i', id, '-f', 'json', '-q'], { env });
  expect(instanceNamespaces(id)).toEqual([]);
  // "wrong ttl" and "dropped is no unreachable" must not hold: exit 1.
  expect(r.exitCode, r.stderr).toBe(1);
  const report = JSON.parse(r.stdout) as RunReport;
  return new Map(report.stages.flatMap((s) => s.results).map((x) => [x.name, x]));
}

describeLab('the prober sees what ping sees (real namespaces)', () => {
  it('gives every ping check the outcome, reason and TTL iputils ping gives it', async () => {
    const probed = await runLab({}, 'e2e-prober');
    const pinged = await runLab({ NETLAB_PROBER: '0' }, 'e2e-prober-ping');
    const names = [...probed.keys()];
    expect(names).toHaveLength(12);
    for (const n of names) expect({ n, ...(seen(probed.get(n) as CheckResult) as object) }).toEqual({ n, ...(seen(pinged.get(n) as CheckResult) as object) });
    // Which ran how: the prober's request, or ping in the namespace.
    expect(probed.get('one hop')?.evidence.argv[0]).toBe('netlab-probe');
    expect(pinged.get('one hop')?.evidence.argv).toContain('ping');
    expect(pinged.get('one hop')?.evidence.argv[0]).not.toBe('netlab-probe');
    // Every check but the two that must not hold held, each for its stated reason.
    const bad = [...probed.values()].filter((x) => !x.ok).map((x) => x.name);
    expect(bad.sort()).toEqual(['dropped is no unreachable', 'wrong ttl']);
    expect(probed.get('wrong ttl')?.detail).toBe('reply, TTL 63, expected TTL 64');
    expect(probed.get('two hops')?.evidence.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(probed.get('router has no route')?.detail).toBe('Destination Net Unreachable (from 10.63.1.1)');
    expect(probed.get('absent neighbour with a long wait')?.detail).toMatch(/^Destination Host Unreachable \(from /);
  }, 120_000);
});
