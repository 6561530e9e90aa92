// Every check kind on a real lab, each with an expect: pass and an expect: fail case that hold; then the same
// checks with every expectation flipped, which must all be reported as not as expected (no check that cannot fail).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHECK_KINDS } from '../../src/lab/schema.js';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, isRoot, netlab, tempDir } from './helpers.js';

/** Every temp file of this file's tests lives below this, removed after them. */
const TMP = tempDir('netlab-e2e-');

/** The NAT lab of the services tests, with a smaller MTU on the internet side, a DNS server there, and these checks. */
function labWith(checks: object[], name: string): string {
  const base = readFileSync('test/fixtures/labs/nat-services.yaml', 'utf8')
    .replace('name: nat-services', `name: ${name}`)
    .replace('  gw:\n    forwarding: true', '  gw:\n    forwarding: true\n    interfaces: { up: { mtu: 1400 } }')
    .replace('services: [{ kind: http, port: 80 }]', 'services: [{ kind: http, port: 80 }, { kind: dns, records: { www.lab.test: internet } }]');
  const text = base.replace(/^checks:[\s\S]*$/m, `checks:\n${checks.map((c) => `  - ${JSON.stringify(c)}`).join('\n')}\n`);
  const dir = mkdtempSync(join(TMP, 'netlab-checks-'));
  writeFileSync(join(dir, `${name}.yaml`), text);
  return join(dir, `${name}.yaml`);
}

type Spec = Record<string, unknown> & { kind: string; expect: 'pass' | 'fail' };
const ALL_CHECKS: Spec[] = [
  { kind: 'ping', from: 'vm', to: 'internet', expect: 'pass' },
  { kind: 'ping', from: 'internet', to: 'vm', expect: 'fail', reason: 'icmp-unreachable' },
  { kind: 'tcp', from: 'vm', to: 'internet', port: 80, expect: 'pass' },
  { kind: 'tcp', from: 'vm', to: 'internet', port: 81, expect: 'fail', reason: 'refused' },
  { kind: 'udp', from: 'nat', to: 'vm', port: 7, expect: 'pass' },
  { kind: 'udp', from: 'nat', to: 'vm', port: 9, expect: 'fail', reason: 'refused' },
  { kind: 'http', from: 'vm', to: 'internet', contains: '"node":"internet"', headers: { 'X-Netlab-Node': 'internet' }, expect: 'pass' },
  { kind: 'http', from: 'vm', to: 'internet', path: '/status/404', status: 200, expect: 'fail', reason: 'mismatch' },
  { kind: 'nat-source', from: 'vm', to: 'internet', seen_as: 'nat:wan', expect: 'pass' },
  { kind: 'nat-source', from: 'vm', to: 'internet', seen_as: 'vm', expect: 'fail' },
  { kind: 'mtu', from: 'vm', to: 'internet', size: 1400, expect: 'pass' },
  { kind: 'mtu', from: 'vm', to: 'internet', size: 1500, expect: 'fail' },
  { kind: 'path', from: 'vm', to: 'internet', via: ['10.0.2.2', 'gw:lan'], expect: 'pass' },
  { kind: 'path', from: 'vm', to: 'internet', via: ['gw:lan'], expect: 'fail' },
  { kind: 'dns', from: 'vm', server: 'internet', query: 'www.lab.test', address: 'internet', expect: 'pass' },
  { kind: 'dns', from: 'vm', server: 'internet', query: 'nope.lab.test', expect: 'fail', reason: 'nxdomain' },
  { kind: 'state', node: 'nat', sysctl: { key: 'net.ipv4.ip_forward', value: 1 }, expect: 'pass' },
  { kind: 'state', node: 'vm', route: { dst: 'default', via: '10.0.2.2' }, expect: 'pass' },
  { kind: 'state', node: 'vm', address: { dev: 'eth0', cidr: '10.0.2.99/24' }, expect: 'fail' },
  { kind: 'state', node: 'nat', nft: { contains: 'masquerade' }, expect: 'pass' },
  { kind: 'state', node: 'vm', link: { dev: 'eth0', up: true, carrier: true }, expect: 'pass' },
  { kind: 'cmd', node: 'vm', argv: ['ip', 'route'], stdout: '^default via 10\\.0\\.2\\.2', expect: 'pass' },
  { kind: 'cmd', node: 'vm', argv: ['false'], expect: 'fail' },
  // Masquerade: on nat's wan the VM's private address never appears; what crosses is ICMP, not UDP.
  { kind: 'capture', from: 'vm', to: 'internet', on: 'nat:wan', filter: 'ip', all: 'icmp', none: 'host 10.0.2.15', expect: 'pass' },
  { kind: 'capture', from: 'vm', to: 'internet', on: 'nat:wan', filter: 'ip', all: 'udp', expect: 'fail', reason: 'mismatch' },
];
/**
 * A reason for a check flipped to expect: fail (tcp, udp and http must say one): it passes, so any reason fails; with
 * one, a check that fails for another cause (an overloaded machine) does not count as holding either.
 */
/**
 * The checks this run can do: all as root; without root (the unprivileged pass), all but captures, which netlab
 * refuses before building (tcpdump calls setgroups, which an unprivileged box denies).
 */
const CHECKS = isRoot ? ALL_CHECKS : ALL_CHECKS.filter((c) => c.kind !== 'capture');

const FLIP_REASON: Record<string, string> = { ping: 'no-route', tcp: 'timeout', udp: 'timeout', http: 'timeout', dns: 'nxdomain', capture: 'mismatch' };
/** The check with its expectation flipped: a reason goes with expect: fail only. */
const flip = ({ reason: _, ...c }: Spec): Spec => {
  const expect = c.expect === 'pass' ? 'fail' : 'pass';
  const reason = expect === 'fail' ? FLIP_REASON[c.kind] : undefined;
  return { ...c, expect, timeout: '1s', ...(reason !== undefined ? { reason } : {}) };
};

async function run(file: string, id: string): Promise<{ code: number | undefined; report: RunReport }> {
  const r = await netlab(['run', file, '-i', id, '-f', 'json', '-q']);
  expect(instanceNamespaces(id)).toEqual([]);
  return { code: r.exitCode, report: JSON.parse(r.stdout) as RunReport };
}

describeLab('every check kind (real namespaces)', () => {
  it('covers every kind, each with a passing and a failing expectation', () => {
    const kinds = new Set(ALL_CHECKS.map((c) => c.kind));
    // A matrix expands into ping/tcp/http checks; test/e2e/matrix.test.ts holds and breaks one on its own.
    expect([...kinds].sort()).toEqual(CHECK_KINDS.filter((k) => k !== 'matrix').sort());
    for (const k of kinds) expect(new Set(ALL_CHECKS.filter((c) => c.kind === k).map((c) => c.expect)).size, k).toBe(2);
  });

  it('all checks give the expected result', async () => {
    const { code, report } = await run(labWith(CHECKS, 'checks-right'), 'e2e-kinds');
    const bad = report.stages.flatMap((s) => s.results).filter((r) => !r.ok);
    expect(bad.map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(report.summary).toMatchObject({ total: CHECKS.length, passed: CHECKS.length });
    expect(code).toBe(0);
    const byName = Object.fromEntries(report.stages.flatMap((s) => s.results).map((r) => [r.name, r.detail]));
    expect(byName['path vm → internet via 10.0.2.2, gw:lan']).toBe('path 10.0.2.2 → 192.168.3.1 → 203.0.113.10');
    expect(byName['internet sees vm as nat:wan']).toBe('the service saw 192.168.3.101');
    expect(byName['1500-byte packets vm → internet (DF)']).toMatch(/MTU is 1400|dropped/);
    expect(byName['dns vm → internet: www.lab.test is internet']).toBe('resolved to 203.0.113.10');
    expect(byName['dns vm → internet: nope.lab.test']).toBe('NXDOMAIN');
    // Must-fail checks failed the way they say, and the results name it.
    const reasons = report.stages.flatMap((s) => s.results).filter((r) => r.expected === 'fail').map((r) => [r.kind, r.expectedReason, r.gotReason]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        ['ping', 'icmp-unreachable', 'icmp-unreachable'],
        ['tcp', 'refused', 'refused'],
        ['udp', 'refused', 'refused'],
        ['http', 'mismatch', 'mismatch'],
        ['nat-source', 'mismatch', 'mismatch'],
        ['dns', 'nxdomain', 'nxdomain'],
      ]),
    );
  });

  it('with every expectation flipped, every check reports that it did not hold, exit 1', async () => {
    const { code, report } = await run(labWith(CHECKS.map(flip), 'checks-wrong'), 'e2e-kinds-wrong');
    const results = report.stages.flatMap((s) => s.results);
    expect(results).toHaveLength(CHECKS.length);
    expect(results.filter((r) => r.ok).map((r) => r.name)).toEqual([]);
    expect(results.filter((r) => r.got === 'error').map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(code).toBe(1);
  });
});
