// DNS on real namespaces: dnsmasq answers the declared names across a router, NXDOMAIN for the rest (never
// forwarded), a check against a node with no DNS server fails within its timeout; teardown leaves nothing.
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { procStart } from '../../src/runner/state.js';
import { describeLab, instanceNamespaces, netlab, STATE } from './helpers.js';

const LAB = 'test/fixtures/labs/dns.yaml';

describeLab('DNS (real namespaces)', () => {
  it('declared names resolve, others are NXDOMAIN, silence fails fast, and down stops dnsmasq', async () => {
    const id = 'e2e-dns';
    const up = await netlab(['up', LAB, '-i', id, '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(`${STATE}/${id}.json`, 'utf8')) as { processes: { pid: number; what: string; node: string }[] };
    try {
      expect(rec.processes.map((p) => `${p.node} ${p.what}`)).toEqual(['server dns-server 53']);
      const dig = (name: string, type = 'A') => netlab(['exec', id, 'client', '--', 'dig', '@10.0.2.53', '+time=2', '+tries=1', name, type]);

      const www = await dig('www.lab.test');
      expect(www.stdout).toContain('status: NOERROR');
      expect(www.stdout).toMatch(/^www\.lab\.test\.\s+\d+\s+IN\s+A\s+10\.0\.2\.53$/m);
      expect((await dig('gw.lab.test')).stdout).toMatch(/^gw\.lab\.test\.\s+\d+\s+IN\s+A\s+10\.0\.1\.1$/m);
      expect((await dig('v6.lab.test', 'AAAA')).stdout).toMatch(/^v6\.lab\.test\.\s+\d+\s+IN\s+AAAA\s+2001:db8::1$/m);
      for (const name of ['nope.lab.test', 'example.com']) expect((await dig(name)).stdout, name).toContain('status: NXDOMAIN');
      const log = readFileSync(`${STATE}/${id}/server.dns53.dnsmasq.log`, 'utf8');
      expect(log).toContain('config example.com is NXDOMAIN');
      expect(log).not.toMatch(/forwarded/);

      const check = await netlab(['check', id, '-f', 'json']);
      const report = JSON.parse(check.stdout) as RunReport;
      const results = report.stages.flatMap((s) => s.results);
      // The one check that must not hold: it says the name does not exist, but no server answers at all.
      expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual(['a dead server is not NXDOMAIN: no reply from 10.0.3.2:53 in 0.3 s, expected nxdomain']);
      expect(check.exitCode).toBe(1);
      const byName = Object.fromEntries(results.map((r) => [r.name, r]));
      expect(byName['dns client → server: v6.lab.test is 2001:db8::1']!.detail).toBe('resolved to 2001:db8::1');
      expect(byName['dns client → server: nope.lab.test']!.detail).toBe('NXDOMAIN');
      const silent = byName['dns client → silent: www.lab.test']!;
      expect(silent).toMatchObject({ got: 'fail', detail: 'no reply from 10.0.3.2:53 in 0.3 s' });
      // One try, cut off at the check's 0.3 s (+250 ms to start nsenter and dig), not dig's 3 tries of 5 s. The bound
      // is 5x what the cut-off guarantees, so a loaded machine cannot break it; dig's defaults would take 15 s.
      expect(silent.evidence.argv).toEqual(expect.arrayContaining(['+time=1', '+tries=1']));
      expect(silent.durationMs).toBeLessThan(5 * (300 + 250));
    } finally {
      expect((await netlab(['down', id])).exitCode).toBe(0);
    }
    expect(instanceNamespaces(id)).toEqual([]);
    expect(existsSync(`${STATE}/${id}`)).toBe(false);
    for (const p of rec.processes) expect(procStart(p.pid), `dnsmasq pid ${p.pid}`).toBeUndefined();
  });
});
