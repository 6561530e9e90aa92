// A run report for the renderer tests: two stages; a passing check, a failing one with evidence and a hint, one that could not run.
import type { CheckResult } from '../../../src/checks/result.js';
import { makeReport, type RunReport } from '../../../src/report/model.js';

const base = { kind: 'ping', from: 'ns1', expected: 'pass' as const };

export const passing: CheckResult = {
  ...base,
  id: 'setup/1',
  stage: 'setup',
  name: 'ns1 reaches its end of the cable (host v1_r)',
  to: 'host:v1_r',
  target: '10.10.10.1',
  got: 'pass',
  ok: true,
  detail: 'reply, TTL 64',
  durationMs: 10.4,
  evidence: { argv: ['nsenter', '--net=/run/netns/netlab-t-ns1', 'ping', '-c1', '10.10.10.1'], exitCode: 0, stdout: '64 bytes from 10.10.10.1: ttl=64\n', stderr: '' },
};

/** Not as expected; detail and hint hold a comma, a quote, a newline, `#` and `|`; stdout is several lines. */
export const failing: CheckResult = {
  ...base,
  id: 'route-one-way/1',
  stage: 'route-one-way',
  name: 'ns1 → ns2 replies | #1',
  to: '10.10.20.2',
  target: '10.10.20.2',
  got: 'fail',
  ok: false,
  detail: 'no reply in time, "silent"\nsecond line',
  durationMs: 508,
  hint: 'ns2 has no route back, add one: ip route add 10.10.10.0/24 via 10.10.20.1',
  attempts: 3,
  findings: ['ns2 has no route back to 10.10.10.2 (ns1)', 'host dropped 2 packet(s) at: counter packets 2 bytes 168 comment "policy drop"'],
  evidence: {
    argv: ['nsenter', '--net=/run/netns/netlab-t-ns1', 'ping', '-c1', '-W', '0.5', '10.10.20.2', 'it\'s'],
    exitCode: 1,
    stdout: 'PING 10.10.20.2 (10.10.20.2) 56(84) bytes of data.\n\n--- 10.10.20.2 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss\n',
    stderr: '  leading spaces: kept\n',
  },
};

/** Could not run: no exit code, stderr with a control character and two `]]>`. */
export const erroring: CheckResult = {
  ...base,
  id: 'route-one-way/2',
  stage: 'route-one-way',
  name: 'ns2 → ns1 works too',
  from: 'ns2',
  to: 'ns1:v1',
  target: '10.10.10.2',
  got: 'error',
  ok: false,
  detail: 'spawn ping ENOENT',
  durationMs: 1.5,
  evidence: { argv: ['ping', '-c1', '10.10.10.2'], exitCode: undefined, stdout: '', stderr: '\u001b[31mno ping\u001b[0m ]]> and ]]> again' },
};

/** The report as makeReport builds it, with a fixed start and duration. */
export function fixtureReport(extra: { aborted?: string } = {}): RunReport {
  const report = makeReport({
    lab: 'veth-routing',
    title: 'Two networks joined by a router',
    instance: 'veth-routing-cf83',
    startedAt: new Date('2025-01-02T03:04:05.678Z'),
    stages: [
      { name: 'setup', title: 'Setup', results: [passing] },
      { name: 'route-one-way', title: 'A route one way', explain: 'ns2 has no way back', results: [failing, erroring] },
    ],
    ...extra,
  });
  return { ...report, durationMs: 1234 };
}
