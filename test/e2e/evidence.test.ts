// Flake control and evidence on real namespaces: retries and `within`, the settle wait for STP bridge ports,
// findings and evidence files that name a missing route or a dropping rule, a pcap, and --only-failed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { BOXED, describeLab, instanceNamespaces, isRoot, netlab, tempDir } from './helpers.js';

const dir = tempDir('netlab-evidence-');

function labFile(name: string, text: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\n${text}`);
  return file;
}

async function runJson(file: string, id: string, extra: string[] = []) {
  const r = await netlab(['run', file, '-i', id, '-f', 'json', '-q', ...extra]);
  expect(instanceNamespaces(id)).toEqual([]);
  const report = r.stdout ? (JSON.parse(r.stdout) as RunReport) : undefined;
  return { code: r.exitCode, stderr: r.stderr, report, results: report?.stages.flatMap((s) => s.results) ?? [] };
}

/** veth-routing at its second stage: ns1 has a route to ns2, ns2 none back. */
const ONE_WAY = `nodes:
  host: { forwarding: true }
  ns1: { routes: [{ dst: 10.10.20.0/24, via: 10.10.10.1 }] }
  ns2: ROUTES
links:
  - endpoints: [{ at: "ns1:v1", address: 10.10.10.2/24 }, { at: "host:v1_r", address: 10.10.10.1/24 }]
  - endpoints: [{ at: "ns2:v2", address: 10.10.20.2/24 }, { at: "host:v2_r", address: 10.10.20.1/24 }]
checks:
  - { kind: ping, from: ns1, to: host:v1_r }
  - { kind: ping, from: ns1, to: ns2, timeout: 500ms, hint: ns2 needs a route back }
`;

/** A NAT router whose forward chain drops TCP port 80 before it accepts the LAN. */
const DROPPING = `nodes:
  vm: { routes: [{ dst: default, via: 10.0.2.2 }] }
  nat:
    forwarding: true
    nat: [{ masquerade: true, out: wan, src: 10.0.2.0/24 }]
    firewall:
      forward:
        policy: drop
        rules:
          - { action: drop, proto: tcp, port: 80 }
          - { action: accept, src: 10.0.2.0/24 }
  internet:
    services: [{ kind: http, port: 80 }]
links:
  - endpoints: [{ at: "vm:eth0", address: 10.0.2.15/24 }, { at: "nat:lan", address: 10.0.2.2/24 }]
  - endpoints: [{ at: "nat:wan", address: 203.0.113.1/24 }, { at: "internet:eth0", address: 203.0.113.10/24 }]
checks:
  - { kind: ping, from: vm, to: internet }
  - { kind: http, from: vm, to: internet, timeout: 1s }
`;

describeLab('evidence, retries, settle and --only-failed (real namespaces)', () => {
  it('a missing route back is named in the findings and in the evidence files', async () => {
    const ev = join(dir, 'ev-route');
    const { code, stderr, results } = await runJson(labFile('ev-route', ONE_WAY.replace('ROUTES', '{}')), 'e2e-ev-route', ['--evidence', ev]);
    expect(code, stderr).toBe(1);
    const [reach, across] = results;
    expect(reach?.ok).toBe(true);
    expect(reach?.findings).toBeUndefined();
    expect(across?.ok).toBe(false);
    expect(across?.findings).toEqual(['ns2 has no route back to 10.10.10.2 (ns1)']);
    const folder = join(ev, 'setup', '2-ping');
    expect(readFileSync(join(folder, 'summary.txt'), 'utf8')).toContain('findings:\n  - ns2 has no route back to 10.10.10.2 (ns1)');
    const routes = readFileSync(join(folder, 'routes.txt'), 'utf8');
    expect(routes).toContain('# ns2\n$ ip route get 10.10.20.2\nlocal 10.10.20.2');
    expect(routes).toMatch(/# ns2[\s\S]*\$ ip route get 10\.10\.10\.2\nRTNETLINK answers: Network is unreachable/);
    expect(JSON.parse(readFileSync(join(folder, 'addr.json'), 'utf8'))).toEqual(expect.arrayContaining([expect.objectContaining({ ifname: 'v1' })]));
    expect(readFileSync(join(folder, 'command.txt'), 'utf8')).toMatch(/^\$ netlab-probe --netns=\S+ ping /);
    expect(existsSync(join(ev, 'setup', '1-ping'))).toBe(false);
  });

  // Without root, --pcap is refused before building (tcpdump calls setgroups, which an unprivileged box denies): the
  // finding and the ruleset are shown all the same, the pcap only as root.
  it(`a dropping firewall rule is named, with the ruleset${isRoot ? ' and a pcap of the dropped SYN' : ' (--pcap: refused without root)'}`, async () => {
    const ev = join(dir, 'ev-drop');
    if (!isRoot) {
      const refused = await runJson(labFile('ev-drop', DROPPING), 'e2e-ev-drop', ['--evidence', ev, '--pcap']);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/pcap/);
      expect(existsSync(ev)).toBe(false);
    }
    const { code, results } = await runJson(labFile('ev-drop', DROPPING), 'e2e-ev-drop', ['--evidence', ev, ...(isRoot ? ['--pcap'] : [])]);
    expect(code).toBe(1);
    const http = results[1];
    expect(http?.ok).toBe(false);
    expect(http?.findings).toEqual([expect.stringMatching(/^nat dropped [1-9]\d* packet\(s\) at: tcp dport 80 counter drop$/)]);
    // The ping that passed went through the same router: its packets are not blamed on any rule.
    expect(results[0]?.findings).toBeUndefined();
    const folder = join(ev, 'setup', '2-http');
    expect(readFileSync(join(folder, 'nft-nat.txt'), 'utf8')).toContain('tcp dport 80 counter packets');
    if (!isRoot) return;
    const pcap = await execa('tcpdump', ['-n', '-r', join(folder, 'capture.pcap')], { reject: false });
    expect(pcap.stdout).toMatch(/IP 10\.0\.2\.15\.\d+ > 203\.0\.113\.10\.80: Flags \[S\]/);
  });

  it('retries and within run a check again until it holds, and report the attempts', async () => {
    // A boxed check writes only in its work directory, its cwd (the instance's, removed with it).
    const counter = (n: string) => (BOXED ? `count-${n}` : join(dir, `count-${n}`));
    // Holds from the third run on: the count file goes 1, 2, 3.
    const third = (n: string) => `n=$(( $(cat ${counter(n)} 2>/dev/null || echo 0) + 1 )); echo $n > ${counter(n)}; [ $n -ge 3 ]`;
    const file = labFile(
      'retries',
      `nodes:\n  a: {}\nchecks:\n` +
        `  - { kind: cmd, name: three tries, node: a, shell: '${third('r5')}', retries: 5 }\n` +
        `  - { kind: cmd, name: too few tries, node: a, shell: '${third('r1')}', retries: 1 }\n` +
        `  - { kind: cmd, name: eventually, node: a, shell: '${third('w')}', within: 30s }\n` +
        `  - { kind: cmd, name: never within, node: a, argv: ["false"], retries: 1, within: 2s }\n`,
    );
    const { code, results } = await runJson(file, 'e2e-retries');
    expect(code).toBe(1);
    // retries is a count: exactly as many attempts as it takes to hold, or retries + 1. `eventually` holds at its
    // third attempt, after 300 ms of pauses; its 30 s leave room for attempts slowed by a loaded machine (one
    // `nsenter false` took 1.8 s with both cores busy).
    expect(results.slice(0, 3).map((r) => [r.name, r.ok, r.attempts])).toEqual([
      ['three tries', true, 3],
      ['too few tries', false, 2],
      ['eventually', true, 3],
    ]);
    // within is a deadline, not a count: how many attempts fit in 2 s depends on how long each takes (a loaded
    // machine gets fewer), so the number is not asserted. What is certain: retries: 1 made it run at least twice;
    // the pauses (100, 200, 400, 800 ms) leave room for at most five; and it stopped only because the next pause
    // would have ended past the deadline (it ran until then).
    const never = results[3];
    expect([never?.name, never?.ok]).toEqual(['never within', false]);
    const attempts = never?.attempts ?? 1;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(5);
    expect((never?.durationMs ?? 0) + Math.min(100 * 2 ** (attempts - 1), 1000)).toBeGreaterThanOrEqual(2000);
    // 100 + 200 ms of backoff between the three attempts.
    expect(results[0]?.durationMs).toBeGreaterThanOrEqual(300);
  });

  it('waits for STP bridge ports to forward before checks run', async () => {
    const file = labFile(
      'stp-settle',
      `nodes:\n  sw: {}\n  a: {}\n  b: {}\n` +
        `devices:\n  - { kind: bridge, name: br0, node: sw, stp: true, forward_delay: 2s, ports: [pa, pb] }\n` +
        `links:\n  - endpoints: [{ at: "a:eth0", address: 10.9.0.1/24 }, "sw:pa"]\n  - endpoints: [{ at: "b:eth0", address: 10.9.0.2/24 }, "sw:pb"]\n` +
        `checks:\n  - { kind: ping, from: a, to: b, timeout: 500ms }\n`,
    );
    const started = Date.now();
    const { code, results } = await runJson(file, 'e2e-stp');
    // Listening then learning, 2 s each, before the ports forward; without the wait the ping would be lost.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(results.map((r) => [r.ok, r.detail])).toEqual([[true, 'reply, TTL 64']]);
    expect(code).toBe(0);
  });

  it('--only-failed runs only what did not hold last time, then nothing once all held', async () => {
    const file = labFile('e2e-only-failed', ONE_WAY.replace('ROUTES', '{}'));
    const first = await runJson(file, 'e2e-of-1');
    expect(first.results.map((r) => [r.id, r.ok])).toEqual([['setup/1', true], ['setup/2', false]]);
    const again = await runJson(file, 'e2e-of-2', ['--only-failed']);
    expect(again.results.map((r) => [r.id, r.ok])).toEqual([['setup/2', false]]);
    expect(again.code).toBe(1);
    // The learner adds the route back; only the check that failed runs, and now holds.
    writeFileSync(file, readFileSync(file, 'utf8').replace('ns2: {}', 'ns2: { routes: [{ dst: 10.10.10.0/24, via: 10.10.20.1 }] }'));
    const fixed = await runJson(file, 'e2e-of-3', ['--only-failed']);
    expect(fixed.results.map((r) => [r.id, r.ok, r.detail])).toEqual([['setup/2', true, 'reply, TTL 63']]);
    expect(fixed.code).toBe(0);
    const nothing = await runJson(file, 'e2e-of-4', ['--only-failed']);
    expect(nothing.code).toBe(0);
    expect(nothing.report).toBeUndefined();
    expect(nothing.stderr).toContain('every check of e2e-only-failed held last time');
  });

  it('--only-failed keeps what did not run, and refuses when what failed is not among what would run', async () => {
    const file = labFile(
      'e2e-only-failed-steps',
      ONE_WAY.replace('ROUTES', '{}').replace(/^checks:[\s\S]*$/m, 'checks:\n  - { kind: ping, from: ns1, to: host:v1_r }\nsteps:\n  - name: across\n    checks: [{ kind: ping, from: ns1, to: ns2, timeout: 300ms }]\n'),
    );
    const first = await runJson(file, 'e2e-ofs-1');
    expect(first.results.map((r) => [r.id, r.ok])).toEqual([['setup/1', true], ['across/1', false]]);
    // Only the setup stage: the failed check is not there.
    const setupOnly = await netlab(['run', file, '-i', 'e2e-ofs-2', '--step', '0', '--only-failed', '-q']);
    expect(setupOnly.exitCode).toBe(2);
    expect(setupOnly.stderr).toContain('did not hold last time (across/1) are not among the checks this would run');
    expect(instanceNamespaces('e2e-ofs-2')).toEqual([]);
    // A run of the setup stage alone passes, and does not forget across/1.
    expect((await runJson(file, 'e2e-ofs-3', ['--step', '0'])).code).toBe(0);
    const again = await runJson(file, 'e2e-ofs-4', ['--only-failed']);
    expect(again.results.map((r) => [r.id, r.ok])).toEqual([['across/1', false]]);
  });

  it('--only-failed without an earlier run is a usage error that builds nothing', async () => {
    const r = await netlab(['run', labFile('never-ran-here', ONE_WAY.replace('ROUTES', '{}')), '-i', 'e2e-of-none', '--only-failed']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('lab never-ran-here has no earlier results here');
    expect(instanceNamespaces('e2e-of-none')).toEqual([]);
    const pcap = await netlab(['run', 'veth-routing', '-i', 'e2e-pcap-alone', '--pcap']);
    expect([pcap.exitCode, pcap.stderr]).toEqual([2, 'netlab: --pcap needs --evidence DIR\n  hint: the pcaps are written into the evidence folders: --evidence ev --pcap']);
    expect(instanceNamespaces('e2e-pcap-alone')).toEqual([]);
  });
});
