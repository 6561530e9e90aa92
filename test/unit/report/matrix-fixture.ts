// A run report with matrices for the renderer tests: every kind of cell (yes ✔, no ✔, yes ✘, partly, error),
// a plain check beside them, and a second matrix in a step.
import type { CheckResult } from '../../../src/checks/result.js';
import { makeReport, type RunReport } from '../../../src/report/model.js';
import { passing } from './fixture.js';

/** One pair of matrix `name`: from → to in cell fromSide → toSide, expected and got as given. */
function pair(name: string, stage: string, n: number, [from, fromSide]: [string, string], [to, toSide]: [string, string], expected: 'pass' | 'fail', got: CheckResult['got']): CheckResult {
  return {
    id: `${stage}/2.${n}`,
    stage,
    name: `${from} → ${to}${from === fromSide && to === toSide ? '' : ` (${fromSide} → ${toSide})`}`,
    kind: 'ping',
    from: from.split(':')[0]!,
    to,
    target: '10.0.0.1',
    expected,
    got,
    ok: got === expected,
    detail: got === 'pass' ? 'reply, TTL 64' : got === 'fail' ? 'no reply in time' : 'spawn ping ENOENT',
    durationMs: 3,
    ...(got !== expected ? { hint: 'look at the NAT device' } : {}),
    matrix: { name, from: fromSide, to: toSide },
    evidence: { argv: ['ping'], exitCode: got === 'pass' ? 0 : 1, stdout: '', stderr: '' },
  };
}

const M = 'VirtualBox NAT mode';
export const matrixResults: CheckResult[] = [
  pair(M, 'setup', 1, ['vm1', 'vm'], ['host:eth0', 'host'], 'pass', 'pass'),
  pair(M, 'setup', 2, ['vm2', 'vm'], ['host:eth0', 'host'], 'pass', 'pass'),
  pair(M, 'setup', 3, ['host', 'host'], ['vm1', 'vm'], 'fail', 'fail'),
  pair(M, 'setup', 4, ['host', 'host'], ['vm2', 'vm'], 'fail', 'fail'),
  pair(M, 'setup', 5, ['vm1', 'vm1'], ['vm2', 'vm2'], 'fail', 'pass'),
  pair(M, 'setup', 6, ['vm1', 'vm'], ['internet', 'internet'], 'pass', 'pass'),
  pair(M, 'setup', 7, ['vm2', 'vm'], ['internet', 'internet'], 'pass', 'fail'),
  pair(M, 'setup', 8, ['internet', 'internet'], ['vm1', 'vm'], 'fail', 'error'),
  pair(M, 'setup', 9, ['internet', 'internet'], ['vm2', 'vm'], 'fail', 'error'),
];
export const stepResults: CheckResult[] = [pair('after | fix', 'fix', 1, ['vm1', 'a'], ['vm2', 'b'], 'pass', 'pass')];

/** The report: setup has one plain check and the matrix; step "fix" has another matrix. */
export function matrixReport(): RunReport {
  const report = makeReport({
    lab: 'nat',
    title: 'VirtualBox NAT',
    instance: 'nat-1',
    startedAt: new Date('2025-01-02T03:04:05.678Z'),
    stages: [
      { name: 'setup', title: 'Setup', results: [passing, ...matrixResults] },
      { name: 'fix', title: 'Fix', results: stepResults },
    ],
  });
  return { ...report, durationMs: 1234 };
}
