// A scored run report for the renderer tests: a gate that held, a hidden check, a gate that did not hold, and the
// checks it skipped (one of them a matrix pair).
import type { CheckResult } from '../../../src/checks/result.js';
import { makeReport, type RunReport } from '../../../src/report/model.js';
import { failing, passing } from './fixture.js';

const gateOk: CheckResult = { ...passing, id: 'setup/1', name: 'vm1 reaches vm2', points: 2, gate: true };
const secret: CheckResult = { ...passing, id: 'setup/2', name: 'the secret check', points: 3, hidden: true };
const plain: CheckResult = { ...passing, id: 'setup/3', name: 'vm2 reaches the host' };
const gateBad: CheckResult = { ...failing, id: 'fix/1', stage: 'fix', name: 'vm1 reaches the internet', points: 4, gate: true };
const skipped: CheckResult = {
  ...passing,
  id: 'fix/2',
  stage: 'fix',
  name: 'the server sees the uplink',
  got: 'skipped',
  ok: false,
  detail: 'not run: the gate "vm1 reaches the internet" did not hold',
  durationMs: 0,
  points: 5,
  evidence: { argv: [], exitCode: undefined, stdout: '', stderr: '' },
};
const skippedPair: CheckResult = { ...skipped, id: 'fix/3.1', name: 'vm1 → vm2', points: 1, matrix: { name: 'matrix 3', from: 'vm1', to: 'vm2' } };

export const scored = { gateOk, secret, plain, gateBad, skipped, skippedPair };

/** A scored report: setup 2+3+1 = 6 of 6, fix 0 of 4+5+1 = 10; in all 6/16, two of them skipped. */
export function scoredReport(): RunReport {
  const report = makeReport({
    lab: 'host-only',
    title: 'Host-only',
    instance: 'host-only-ab12',
    startedAt: new Date('2025-01-02T03:04:05.678Z'),
    stages: [
      { name: 'setup', title: 'Setup', results: [gateOk, secret, plain] },
      { name: 'fix', title: 'Fix it', results: [gateBad, skipped, skippedPair] },
    ],
  });
  return { ...report, durationMs: 1234 };
}
