// Tunnel services and capture checks on real namespaces: socat really holds the tun/tap device and carries its traffic
// (carrier on, pings through), is recorded and stopped on down and on SIGINT; a capture check fails when ICMP crosses
// the underlay in clear; two instances of a tunnel lab run at once without interference.
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { procStart } from '../../src/runner/state.js';
import { BOXED, describeLab, itRootOnly, instanceNamespaces, labPid, netlab, netnsDir, ROOT, runDirOf, spawnNetlab, tempDir, waitFor, STATE } from './helpers.js';

const TUN_VPN = join(ROOT, 'labs/tun-vpn.yaml');
const record = (id: string) => JSON.parse(readFileSync(`${STATE}/${id}.json`, 'utf8')) as { stage: number; processes: { pid: number; start: string; node: string; what: string }[] };
const results = (stdout: string) => (JSON.parse(stdout) as RunReport).stages.flatMap((s) => s.results);

describeLab('tunnels and captures (real namespaces)', () => {
  const dir = tempDir('netlab-tunnel-');

  itRootOnly('tun/tap: /dev/net/tun is 0600 (root only) on this machine')('socat holds tun0 in its node, traffic flows through it, and down stops it', async () => {
    const id = 'e2e-tun';
    const up = await netlab(['up', TUN_VPN, '-i', id, '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    const rec = record(id);
    try {
      expect(rec.processes.map((p) => `${p.node} ${p.what}`)).toEqual(['gwa tunnel tun0', 'gwb tunnel tun0']);
      for (const p of rec.processes) {
        expect(procStart(p.pid)).toBe(p.start);
        expect(readFileSync(`/proc/${labPid(p.pid)}/cmdline`, 'utf8').split('\0')[0]).toBe('socat');
        // It lives in its node's namespace, not the root namespace.
        expect(readlinkSync(`/proc/${labPid(p.pid)}/ns/net`)).toBe(`net:[${statSync(`${netnsDir(id)}/netlab-${id}-${p.node}`).ino}]`);
      }
      const link = await netlab(['exec', id, 'gwa', '--', 'ip', 'link', 'show', 'dev', 'tun0']);
      expect(link.stdout).toMatch(/<[^>]*LOWER_UP[^>]*>/);
      expect(link.stdout).not.toContain('NO-CARRIER');
      const ping = await netlab(['exec', id, 'pca', '--', 'ping', '-n', '-c', '2', '-W', '2', '10.2.0.10']);
      expect(ping.stdout).toMatch(/2 received/);
      expect(readFileSync(`${STATE}/${id}/gwa.tun0.tunnel.log`, 'utf8')).toContain('starting data transfer loop');
    } finally {
      expect((await netlab(['down', id])).exitCode).toBe(0);
    }
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(`${STATE}/${id}`)).toBe(false);
    for (const p of rec.processes) expect(procStart(p.pid), `socat pid ${p.pid}`).toBeUndefined();
  });

  itRootOnly('capture checks: tcpdump calls setgroups, which an unprivileged box denies')('a capture check fails (mismatch) when ICMP crosses the underlay in clear, and a flipped must-fail capture fails the run', async () => {
    const text = readFileSync(TUN_VPN, 'utf8');
    const flipped = text.replace(/\n {8}expect: fail\n {8}reason: mismatch\n/, '\n');
    expect(flipped).not.toBe(text);
    // Before the tunnel runs, nothing crosses: a capture then fails for want of a reply, with no packet on the underlay.
    const before = flipped.replace(
      '\nsteps:\n',
      '  - { kind: capture, name: nothing crosses before the tunnel, from: pca, to: pcb, on: "gwa:wan", filter: ip, all: udp port 1194, expect: fail, reason: no-reply }\n\nsteps:\n',
    );
    const lab = join(dir, 'tun-vpn-flipped.yaml');
    writeFileSync(lab, before);
    const r = await netlab(['run', lab, '-i', 'e2e-tun-flip', '-f', 'json', '-q']);
    expect(r.exitCode, r.stderr).toBe(1);
    const all = results(r.stdout);
    const notOk = all.filter((x) => !x.ok);
    expect(notOk.map((x) => x.name)).toEqual(['the capture sees ICMP when there is some: gwa pinging 198.51.100.2 directly crosses in clear']);
    expect(notOk[0]).toMatchObject({ expected: 'pass', got: 'fail', gotReason: 'mismatch' });
    expect(notOk[0]!.detail).toMatch(/do not match "udp port 1194", e\.g\. IP 198\.51\.100\.1 > 198\.51\.100\.2: ICMP echo request/);
    expect(notOk[0]!.evidence.stdout).toContain('--- captured on gwa:wan (ip)');
    const nothing = all.find((x) => x.name === 'nothing crosses before the tunnel')!;
    expect(nothing).toMatchObject({ ok: true, got: 'fail', gotReason: 'no-reply' });
    expect(nothing.detail).toContain('0 packets crossed gwa:wan');
    expect(instanceNamespaces('e2e-tun-flip')).toEqual([]);
  });

  it('validate compiles capture filters with tcpdump: a typo is a located problem (exit 2)', async () => {
    const lab = join(dir, 'bad-filter.yaml');
    writeFileSync(lab, readFileSync(TUN_VPN, 'utf8').replace('none: icmp\n        hint: Every ping', 'none: icmpp\n        hint: Every ping'));
    const r = await netlab(['validate', lab]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bad-filter\.yaml:\d+:\d+ {2}steps\[0\]\.checks\[4\]\.none {2}tcpdump cannot compile the filter "icmpp": /);
    expect((await netlab(['validate', TUN_VPN])).stderr).toContain('tcpdump compiled its 6 capture filter(s)');
  });

  itRootOnly('tun/tap: /dev/net/tun is 0600 (root only) on this machine')('two instances of a tunnel lab run at once without interference', async () => {
    const [a, b] = await Promise.all(['e2e-tun-a', 'e2e-tun-b'].map((id) => netlab(['run', TUN_VPN, '-i', id, '-f', 'json', '-q'])));
    for (const r of [a!, b!]) {
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(results(r.stdout).filter((x) => !x.ok)).toEqual([]);
    }
    expect([...instanceNamespaces('e2e-tun-a'), ...instanceNamespaces('e2e-tun-b')]).toEqual([]);
  });

  itRootOnly('tun/tap: /dev/net/tun is 0600 (root only) on this machine')('SIGINT while checks run stops the tunnels and removes everything (exit 130)', async () => {
    const id = 'e2e-tun-sig';
    // Boxed, a check writes only in the instance's work directory (its run directory, removed with it).
    const started = BOXED ? join(runDirOf(id), 'started') : join(dir, 'started');
    const lab = join(dir, 'tun-slow.yaml');
    writeFileSync(
      lab,
      `name: tun-slow
nodes:
  a: { services: [{ kind: tunnel, device: tap0, peer: "b:u0", port: 4000 }] }
  b: { services: [{ kind: tunnel, device: tap0, peer: "a:u0", port: 4000 }] }
links:
  - endpoints: [{ at: "a:u0", address: 192.0.2.1/24 }, { at: "b:u0", address: 192.0.2.2/24 }]
devices:
  - { kind: tap, name: tap0, node: a, address: 10.9.0.1/24 }
  - { kind: tap, name: tap0, node: b, address: 10.9.0.2/24 }
checks:
  - { kind: ping, name: frames cross the tap tunnel, from: a, to: "b:tap0" }
steps:
  - name: slow
    checks:
      - { kind: cmd, name: slow sleep, node: a, shell: 'touch ${started}; exec sleep 40', timeout: 50s }
`,
    );
    const child = spawnNetlab(['run', lab, '-i', id]);
    await waitFor(() => existsSync(started), { watch: BOXED ? STATE : dir, timeoutMs: 45_000 });
    const procs = record(id).processes;
    expect(procs.map((p) => `${p.node} ${p.what}`)).toEqual(['a tunnel tap0', 'b tunnel tap0']);
    for (const p of procs) expect(procStart(p.pid)).toBe(p.start);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toMatch(/frames cross the tap tunnel/);
    expect(instanceNamespaces(id)).toEqual([]);
    for (const p of procs) expect(procStart(p.pid), `socat pid ${p.pid}`).toBeUndefined();
  });
});
