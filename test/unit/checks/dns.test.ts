import { describe, expect, it, vi } from 'vitest';
import { noReply, parseDig, runDns } from '../../../src/checks/dns.js';
import { runOnce } from '../../../src/checks/index.js';
import type { PlannedCheck } from '../../../src/plan/planner.js';
import { run, type RunResult } from '../../../src/runner/exec.js';

vi.mock('../../../src/runner/exec.js', () => ({ run: vi.fn() }));

const ANSWER = `
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @10.0.2.53 www.lab.test A +time=1 +tries=1
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 44398
;; flags: qr aa rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;www.lab.test.			IN	A

;; ANSWER SECTION:
www.lab.test.		0	IN	CNAME	web.lab.test.
web.lab.test.		0	IN	A	10.0.2.53

;; Query time: 0 msec
;; SERVER: 10.0.2.53#53(10.0.2.53) (UDP)
`;
const NXDOMAIN = `
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 32214
;; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1

;; QUESTION SECTION:
;nope.lab.test.			IN	A

;; Query time: 0 msec
`;
const TIMEOUT = `;; communications error to 10.0.3.2#53: timed out

; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @10.0.3.2 www.lab.test A +time=1 +tries=1
;; no servers could be reached
`;

describe('parseDig (dig 9.18, LANG=C)', () => {
  it('reads the status and every answer record, CNAMEs included', () => {
    expect(parseDig(ANSWER)).toEqual({
      status: 'NOERROR',
      answers: [
        { name: 'www.lab.test.', type: 'CNAME', data: 'web.lab.test.' },
        { name: 'web.lab.test.', type: 'A', data: '10.0.2.53' },
      ],
    });
  });
  it('reads NXDOMAIN with no answers', () => {
    expect(parseDig(NXDOMAIN)).toEqual({ status: 'NXDOMAIN', answers: [] });
  });
  it('has no status when no response came', () => {
    expect(parseDig(TIMEOUT)).toEqual({ answers: [] });
  });
});

describe('noReply', () => {
  it('says whether the server was silent or refused', () => {
    expect(noReply(TIMEOUT, false, '10.0.3.2:53', 300)).toBe('no reply from 10.0.3.2:53 in 0.3 s');
    expect(noReply('', true, '10.0.3.2:53', 1000)).toBe('no reply from 10.0.3.2:53 in 1.0 s');
    expect(noReply(';; communications error to 10.0.2.1#53: connection refused\n', false, '10.0.2.1:53', 500)).toBe(
      'no reply from 10.0.2.1:53: connection refused (no DNS server there)',
    );
  });
});

describe('runDns outcomes', () => {
  const check = {
    kind: 'dns', id: 'setup/1', stage: 'setup', name: 'dns', expect: 'pass', timeoutMs: 500, retries: 0, at: [], from: 'c', fromNs: 'netlab-x-c',
    to: { kind: 'node', node: 's' }, toText: 's', target: '10.0.2.53', more: ['10.0.2.53'], query: 'www.lab.test', port: 53,
  } as PlannedCheck & { kind: 'dns' };
  const answer = (r: Partial<RunResult>) => vi.mocked(run).mockResolvedValueOnce({ argv: [], exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false, ...r });

  it('passes on the expected address, fails on another, on NXDOMAIN and on silence', async () => {
    answer({ stdout: ANSWER });
    expect(await runDns(check)).toMatchObject({ got: 'pass', detail: 'resolved to 10.0.2.53', evidence: { stdout: ANSWER } });
    answer({ stdout: ANSWER });
    expect(await runDns({ ...check, more: ['10.0.2.54'] })).toMatchObject({ got: 'fail', detail: 'resolved to 10.0.2.53, expected 10.0.2.54' });
    answer({ stdout: NXDOMAIN });
    expect(await runDns(check)).toMatchObject({ got: 'fail', detail: 'NXDOMAIN' });
    answer({ exitCode: undefined, timedOut: true });
    expect(await runDns(check)).toMatchObject({ got: 'fail', detail: 'no reply from 10.0.2.53:53 in 0.5 s' });
    expect(vi.mocked(run).mock.lastCall?.[0]).toEqual(['nsenter', '--net=/run/netns/netlab-x-c', '--', 'dig', '@10.0.2.53', '-p', '53', '+time=1', '+tries=1', 'www.lab.test', 'A']);
  });

  it('with expect: fail and a reason, holds only when it fails that way', async () => {
    const mustFail = (reason: 'nxdomain' | 'no-answer' | 'no-reply') => ({ ...check, expect: 'fail' as const, reason });
    answer({ stdout: NXDOMAIN });
    expect(await runDns(mustFail('nxdomain'))).toMatchObject({ got: 'fail', ok: true, detail: 'NXDOMAIN' });
    // A dead server is not "no such name": the check does not hold.
    answer({ exitCode: undefined, timedOut: true });
    expect(await runDns(mustFail('nxdomain'))).toMatchObject({ got: 'fail', ok: false, detail: 'no reply from 10.0.2.53:53 in 0.5 s, expected nxdomain' });
    answer({ exitCode: undefined, timedOut: true });
    expect(await runDns(mustFail('no-reply'))).toMatchObject({ got: 'fail', ok: true });
    answer({ stdout: ANSWER });
    expect(await runDns(mustFail('nxdomain'))).toMatchObject({ got: 'pass', ok: false });
    answer({ stdout: NXDOMAIN });
    expect(await runDns({ ...check, expect: 'fail' })).toMatchObject({ got: 'fail', ok: true });
  });

  it('is an error, not a failure, when dig is missing', async () => {
    answer({ exitCode: 127, stderr: 'nsenter: failed to execute dig: No such file or directory\n' });
    expect(await runOnce(check)).toMatchObject({ got: 'error', ok: false, detail: 'dig is missing (package bind9-dnsutils; netlab doctor)' });
  });
});
