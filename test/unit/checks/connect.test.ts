// How tcp, udp, http and nat-source checks fail, from socat's and curl's recorded words (socat 1.7.4, curl 7.88 -v,
// LANG=C), and whether a must-fail check with a reason holds only when it failed that way.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { connectFailure, failureReason, runTcp, runUdp, udpFailure } from '../../../src/checks/connect.js';
import { runHttp, runNatSource } from '../../../src/checks/http.js';
import type { PlannedCheck } from '../../../src/plan/planner.js';
import { run, type RunResult } from '../../../src/runner/exec.js';

vi.mock('../../../src/runner/exec.js', () => ({ run: vi.fn() }));

const SOCAT = {
  refused: '2026/12/01 20:10:40 socat[11852] E connect(6, AF=2 10.99.2.2:81, 16): Connection refused\n',
  netUnreachable: '2026/12/01 20:10:40 socat[11858] E connect(6, AF=2 10.99.9.9:81, 16): Network is unreachable\n',
  hostUnreachable: '2026/12/01 20:10:53 socat[12254] E connect(6, AF=2 10.99.2.2:83, 16): No route to host\n',
  timedOut: '2026/12/01 20:10:54 socat[12262] E connecting to AF=2 10.99.2.2:85: Connection timed out\n',
  udpRefused: '2026/12/01 20:11:09 socat[12541] E read(5, 0x55cdb464b000, 8192): Connection refused\n',
  udpProhibited: '2026/12/01 20:11:09 socat[12555] E read(5, 0x55687bba8000, 8192): No route to host\n',
  udpNetUnreachable: '2026/12/01 20:11:19 socat[12713] E read(5, 0x56505e4cc000, 8192): Network is unreachable\n',
  udpLocal: '2026/12/01 20:11:11 socat[12577] E connect(5, AF=2 10.99.2.2:81, 16): Network is unreachable\n',
};
const CURL = {
  refused: "*   Trying 10.99.2.2:81...\n* connect to 10.99.2.2 port 81 failed: Connection refused\n* Failed to connect to 10.99.2.2 port 81 after 5 ms: Couldn't connect to server\n* Closing connection 0\ncurl: (7) Failed to connect to 10.99.2.2 port 81 after 5 ms: Couldn't connect to server\n",
  prohibited: "*   Trying 10.99.2.2:83...\n* connect to 10.99.2.2 port 83 failed: No route to host\n* Closing connection 0\ncurl: (7) Failed to connect to 10.99.2.2 port 83 after 6 ms: Couldn't connect to server\n",
  timedOut: '*   Trying 10.99.2.2:85...\n* Connection timed out after 500 milliseconds\n* Closing connection 0\ncurl: (28) Connection timed out after 500 milliseconds\n',
  reset: '*   Trying 10.99.2.2:80...\n* Connected to 10.99.2.2 (10.99.2.2) port 80 (#0)\n> GET / HTTP/1.1\n* Recv failure: Connection reset by peer\n* Closing connection 0\ncurl: (56) Recv failure: Connection reset by peer\n',
};
const ROUTE = '10.99.2.2 via 10.99.1.1 dev eth0 src 10.99.1.2 uid 0 \n    cache \n';
const NO_ROUTE = 'RTNETLINK answers: Network is unreachable\n';

function ran(p: Partial<RunResult>): RunResult {
  return { argv: [], exitCode: 1, stdout: '', stderr: '', durationMs: 3, timedOut: false, ...p };
}
/** The next commands' results, in order. */
function answers(...rs: Partial<RunResult>[]): void {
  for (const r of rs) vi.mocked(run).mockResolvedValueOnce(ran(r));
}

const base = {
  id: 'setup/1',
  stage: 'setup',
  name: 'c',
  timeoutMs: 500,
  retries: 0,
  at: [],
  from: 'a',
  fromNs: 'netlab-x-a',
  to: { kind: 'address' as const, address: '10.99.2.2' },
  toText: '10.99.2.2',
  target: '10.99.2.2',
  more: [] as string[],
};
type Kind<K extends PlannedCheck['kind']> = Extract<PlannedCheck, { kind: K }>;
const tcp = (p: Partial<Kind<'tcp'>> = {}): Kind<'tcp'> => ({ ...base, kind: 'tcp', port: 81, expect: 'fail', ...p });
const udp = (p: Partial<Kind<'udp'>> = {}): Kind<'udp'> => ({ ...base, kind: 'udp', port: 7, send: 'netlab', expect: 'fail', ...p });
const http = (p: Partial<Kind<'http'>> = {}): Kind<'http'> => ({ ...base, kind: 'http', port: 80, path: '/', status: 200, headers: {}, expect: 'fail', ...p });

beforeEach(() => vi.mocked(run).mockReset());

describe('connectFailure and failureReason (socat and curl words)', () => {
  it('reads refused, reset, timeout and unreachable', () => {
    expect(connectFailure(SOCAT.refused, false)).toEqual({ how: 'refused', message: 'connection refused' });
    expect(connectFailure(CURL.refused, false).how).toBe('refused');
    expect(connectFailure(SOCAT.timedOut, false).how).toBe('timeout');
    expect(connectFailure(CURL.timedOut, false).how).toBe('timeout');
    // Stopped by netlab: the tool did not say, so no reason (a must-fail check with one does not hold).
    expect(connectFailure('', true)).toEqual({ message: 'did not finish in time (stopped by netlab)' });
    expect(connectFailure(CURL.reset, false).how).toBe('reset');
    expect(connectFailure(SOCAT.netUnreachable, false)).toEqual({ how: 'unreachable', message: 'Network is unreachable' });
    expect(connectFailure(CURL.prohibited, false)).toEqual({ how: 'unreachable', message: 'No route to host' });
    expect(connectFailure('curl: (52) Empty reply from server\n', false)).toEqual({ message: 'curl: (52) Empty reply from server' });
  });

  it('tells the source missing a route from an ICMP unreachable by the source having a route', () => {
    expect(failureReason({ how: 'unreachable', message: 'Network is unreachable' }, false)).toEqual({ how: 'no-route', message: 'no route (Network is unreachable)' });
    expect(failureReason({ how: 'unreachable', message: 'No route to host' }, true).how).toBe('icmp-unreachable');
    expect(failureReason({ how: 'refused', message: 'connection refused' }, false).how).toBe('refused');
  });

  it('for udp: a connect() error is the source own, an error on read came back as ICMP, silence is a timeout', () => {
    expect(udpFailure(SOCAT.udpLocal, false).how).toBe('no-route');
    expect(udpFailure(SOCAT.udpRefused, false).how).toBe('refused');
    expect(udpFailure(SOCAT.udpProhibited, false).how).toBe('icmp-unreachable');
    expect(udpFailure(SOCAT.udpNetUnreachable, false).how).toBe('icmp-unreachable');
    expect(udpFailure('', false)).toEqual({ how: 'timeout', message: 'nothing came back in time' });
    // Stopped by netlab, socat may not have sent anything: that is no timeout a must-fail check could hold on.
    expect(udpFailure('', true).how).toBeUndefined();
  });
});

describe('tcp checks', () => {
  it('a must-fail check holds only when it fails for its reason, and the result says how it failed', async () => {
    answers({ stderr: SOCAT.refused });
    expect(await runTcp(tcp({ reason: 'refused' }))).toMatchObject({ got: 'fail', ok: true, expectedReason: 'refused', gotReason: 'refused', detail: 'connection refused' });
    answers({ stderr: SOCAT.timedOut });
    expect(await runTcp(tcp({ reason: 'refused' }))).toMatchObject({ got: 'fail', ok: false, expectedReason: 'refused', gotReason: 'timeout', detail: 'no answer in time, expected refused' });
    answers({ stderr: SOCAT.timedOut });
    expect(await runTcp(tcp({ reason: 'timeout' }))).toMatchObject({ ok: true, gotReason: 'timeout' });
    // netlab's time limit fired late, after socat had exited by itself: its words count.
    answers({ exitCode: 1, timedOut: true, stderr: SOCAT.refused });
    expect(await runTcp(tcp({ reason: 'refused' }))).toMatchObject({ ok: true, gotReason: 'refused' });
    answers({ exitCode: undefined, timedOut: true });
    expect(await runTcp(tcp({ reason: 'timeout' }))).toMatchObject({ got: 'fail', ok: false, detail: 'did not finish in time (stopped by netlab), expected timeout' });
    answers({ exitCode: 0 });
    const passed = await runTcp(tcp({ reason: 'timeout' }));
    expect(passed).toMatchObject({ got: 'pass', ok: false, expectedReason: 'timeout' });
    expect(passed.gotReason).toBeUndefined();
  });

  it('asks the source for its route only when the network was unreachable: none is no-route, one is icmp-unreachable', async () => {
    answers({ stderr: SOCAT.netUnreachable }, { exitCode: 2, stderr: NO_ROUTE });
    expect(await runTcp(tcp({ reason: 'no-route' }))).toMatchObject({ ok: true, gotReason: 'no-route', detail: 'no route (Network is unreachable)' });
    expect(vi.mocked(run).mock.calls[1]?.[0]).toEqual(['nsenter', '--net=/run/netns/netlab-x-a', '--', 'ip', 'route', 'get', '10.99.2.2']);
    answers({ stderr: SOCAT.hostUnreachable }, { exitCode: 0, stdout: ROUTE });
    expect(await runTcp(tcp({ reason: 'no-route' }))).toMatchObject({ ok: false, gotReason: 'icmp-unreachable' });
    vi.mocked(run).mockReset();
    answers({ stderr: SOCAT.refused });
    await runTcp(tcp({ reason: 'refused' }));
    expect(vi.mocked(run)).toHaveBeenCalledTimes(1);
  });

  it('a must-pass check that fails says how, and is not ok', async () => {
    answers({ stderr: SOCAT.refused });
    const r = await runTcp(tcp({ expect: 'pass' }));
    expect(r).toMatchObject({ got: 'fail', ok: false, gotReason: 'refused' });
    expect(r.expectedReason).toBeUndefined();
  });
});

describe('udp checks', () => {
  it('asks socat to report ICMP errors (ip-recverr, ipv6-recverr for IPv6) and classifies them', async () => {
    answers({ stderr: SOCAT.udpRefused });
    expect(await runUdp(udp({ reason: 'refused' }))).toMatchObject({ ok: true, gotReason: 'refused' });
    expect(vi.mocked(run).mock.lastCall?.[0].slice(3)).toEqual(['socat', '-t0.50', '-', 'UDP:10.99.2.2:7,ip-recverr=1']);
    answers({ exitCode: 0 });
    expect(await runUdp(udp({ reason: 'refused' }))).toMatchObject({ got: 'fail', ok: false, gotReason: 'timeout', detail: 'nothing came back in time, expected refused' });
    answers({ stderr: SOCAT.udpProhibited });
    expect(await runUdp(udp({ reason: 'icmp-unreachable', target: '2001:db8::2' }))).toMatchObject({ ok: true, gotReason: 'icmp-unreachable' });
    expect(vi.mocked(run).mock.lastCall?.[0].at(-1)).toBe('UDP:[2001:db8::2]:7,ipv6-recverr=1');
    answers({ exitCode: 0, stdout: 'netlab\n' });
    expect(await runUdp(udp({ reason: 'timeout' }))).toMatchObject({ got: 'pass', ok: false });
  });
});

describe('http checks', () => {
  it('runs curl -v (its verbose lines name the error) and classifies connect failures, resets and answers', async () => {
    answers({ exitCode: 7, stderr: CURL.refused });
    expect(await runHttp(http({ reason: 'refused' }))).toMatchObject({ ok: true, gotReason: 'refused' });
    expect(vi.mocked(run).mock.lastCall?.[0]).toContain('-v');
    answers({ exitCode: 28, stderr: CURL.timedOut });
    expect(await runHttp(http({ reason: 'refused' }))).toMatchObject({ ok: false, gotReason: 'timeout' });
    answers({ exitCode: 56, stderr: CURL.reset });
    expect(await runHttp(http({ reason: 'reset' }))).toMatchObject({ ok: true, gotReason: 'reset' });
    answers({ exitCode: 7, stderr: CURL.prohibited }, { exitCode: 0, stdout: ROUTE });
    expect(await runHttp(http({ reason: 'icmp-unreachable' }))).toMatchObject({ ok: true, gotReason: 'icmp-unreachable' });
  });

  it('an answer not as asked is a mismatch: it does not hold for a must-fail check that wanted the server unreachable', async () => {
    const notFound = 'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nno\n';
    answers({ exitCode: 0, stdout: notFound });
    expect(await runHttp(http({ reason: 'mismatch' }))).toMatchObject({ got: 'fail', ok: true, gotReason: 'mismatch', detail: 'status 404, expected 200' });
    answers({ exitCode: 0, stdout: notFound });
    expect(await runHttp(http({ reason: 'timeout' }))).toMatchObject({ got: 'fail', ok: false, gotReason: 'mismatch' });
  });
});

describe('nat-source checks', () => {
  const nat = (expect: 'pass' | 'fail'): Kind<'nat-source'> => ({ ...base, kind: 'nat-source', port: 80, seenAs: { kind: 'address', address: '10.0.2.15' }, seenAsText: 'vm', more: ['10.0.2.15'], expect });
  const answer = (client: string) => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"node":"internet","client":"${client}"}`;

  it('must-fail holds only when the service answered and saw another address', async () => {
    answers({ exitCode: 0, stdout: answer('192.168.3.101') });
    expect(await runNatSource(nat('fail'))).toMatchObject({ got: 'fail', ok: true, expectedReason: 'mismatch', gotReason: 'mismatch', detail: 'the service saw 192.168.3.101, not 10.0.2.15' });
    answers({ exitCode: 7, stderr: CURL.refused });
    const down = await runNatSource(nat('fail'));
    expect(down).toMatchObject({ got: 'fail', ok: false, expectedReason: 'mismatch', gotReason: 'refused' });
    expect(down.detail).toMatch(/^no answer from the service \(connection refused\): a must-fail nat-source check needs the service to answer/);
    answers({ exitCode: 28, stderr: CURL.timedOut });
    expect(await runNatSource(nat('fail'))).toMatchObject({ ok: false, gotReason: 'timeout' });
    answers({ exitCode: 0, stdout: answer('10.0.2.15') });
    expect(await runNatSource(nat('fail'))).toMatchObject({ got: 'pass', ok: false });
  });
});
