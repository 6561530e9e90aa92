// NAT, port forwards, firewall and services, proven from inside the namespaces: the HTTP service reports the
// client address it saw, so masquerade, SNAT and DNAT are observable.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { procStart } from '../../src/runner/state.js';
import { describeLab, instanceNamespaces, netlab, tempDir, STATE } from './helpers.js';

/** Every temp file of this file's tests lives below this, removed after them. */
const TMP = tempDir('netlab-e2e-');

const LAB = 'test/fixtures/labs/nat-services.yaml';

interface Seen {
  node: string;
  client: string;
}

/** The lab, or a variant of it with the masquerade rule swapped for SNAT to the second WAN address. */
function labFile(variant: 'masquerade' | 'snat'): string {
  if (variant === 'masquerade') return LAB;
  const text = readFileSync(LAB, 'utf8').replace(
    /nat: \[\{ masquerade: true[^\n]*\]/,
    'nat: [{ snat: 192.168.3.102, out: wan, src: 10.0.2.0/24 }]',
  );
  expect(text).toContain('snat: 192.168.3.102');
  const dir = mkdtempSync(join(TMP, 'netlab-snat-'));
  writeFileSync(join(dir, 'nat-services-snat.yaml'), text.replace('name: nat-services', 'name: nat-services-snat'));
  return join(dir, 'nat-services-snat.yaml');
}

async function withLab(id: string, variant: 'masquerade' | 'snat', fn: (exec: (node: string, argv: string[]) => Promise<{ stdout: string; exitCode: number | undefined }>) => Promise<void>) {
  const up = await netlab(['up', labFile(variant), '-i', id, '-q']);
  expect(up.exitCode, up.stderr).toBe(0);
  const pids = (JSON.parse(readFileSync(`${STATE}/${id}.json`, 'utf8')) as { processes: { pid: number; what: string }[] }).processes;
  expect(pids.map((p) => p.what)).toEqual(['services', 'services']);
  try {
    await fn(async (node, argv) => {
      const r = await netlab(['exec', id, node, '--', ...argv]);
      return { stdout: r.stdout, exitCode: r.exitCode };
    });
  } finally {
    expect((await netlab(['down', id])).exitCode).toBe(0);
  }
  expect(instanceNamespaces(id)).toEqual([]);
  for (const p of pids) expect(procStart(p.pid), `service pid ${p.pid} still runs`).toBeUndefined();
}

const curl = (url: string) => ['curl', '-s', '--max-time', '3', url];

describeLab('NAT, forwards, firewall and services (real namespaces)', () => {
  it('masquerade: the internet server sees the NAT device\'s address, never the VM\'s', async () => {
    await withLab('e2e-masq', 'masquerade', async (exec) => {
      const r = await exec('vm', curl('http://203.0.113.10/'));
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout) as Seen).toMatchObject({ node: 'internet', client: '192.168.3.101' });
      const direct = await exec('internet', ['ping', '-c1', '-W1', '10.0.2.15']);
      expect(direct.exitCode).not.toBe(0);
    });
  });

  it('SNAT: the server sees the fixed address', async () => {
    await withLab('e2e-snat', 'snat', async (exec) => {
      const r = await exec('vm', curl('http://203.0.113.10/'));
      expect((JSON.parse(r.stdout) as Seen).client).toBe('192.168.3.102');
    });
  });

  it('DNAT: forwarded ports reach the VM\'s services with the original client address; others do not', async () => {
    await withLab('e2e-dnat', 'masquerade', async (exec) => {
      const http = await exec('internet', curl('http://192.168.3.101:8888/'));
      expect(http.exitCode).toBe(0);
      expect(JSON.parse(http.stdout) as Seen).toMatchObject({ node: 'vm', client: '203.0.113.10' });
      const fromGw = await exec('gw', curl('http://192.168.3.101:8888/'));
      expect((JSON.parse(fromGw.stdout) as Seen).client).toBe('192.168.3.1');
      const echo = await exec('internet', ['bash', '-c', 'echo via-2222 | socat -T2 - TCP:192.168.3.101:2222']);
      expect(echo.stdout.trim()).toBe('via-2222');
      const udp = await exec('internet', ['bash', '-c', 'echo via-udp-5007 | socat -T2 - UDP:192.168.3.101:5007']);
      expect(udp.stdout.trim()).toBe('via-udp-5007');
      const unforwarded = await exec('internet', curl('http://192.168.3.101:9999/'));
      expect(unforwarded.exitCode).not.toBe(0);
      // With a route to the VM's subnet, the forward chain's drop policy still stops what no rule accepts (ICMP).
      const firewalled = await exec('gw', ['bash', '-c', 'ip route add 10.0.2.0/24 via 192.168.3.101 && ping -c1 -W1 10.0.2.15']);
      expect(firewalled.exitCode).not.toBe(0);
      const allowed = await exec('gw', curl('http://10.0.2.15:8080/'));
      expect((JSON.parse(allowed.stdout) as Seen).client).toBe('192.168.3.1');
    });
  });

  it('tcp-echo and udp-echo answer with what they were sent', async () => {
    await withLab('e2e-echo', 'masquerade', async (exec) => {
      const tcp = await exec('nat', ['bash', '-c', 'echo hello-tcp | socat -T2 - TCP:10.0.2.15:22']);
      expect(tcp.stdout.trim()).toBe('hello-tcp');
      const udp = await exec('nat', ['bash', '-c', 'echo hello-udp | socat -T2 - UDP:10.0.2.15:7']);
      expect(udp.stdout.trim()).toBe('hello-udp');
    });
  });
});
