// Rubrics on real namespaces: `netlab run host-only --rubric` with a gate that fails (what follows it is skipped, not
// run, and scores 0) and a score that adds up; then a grader's loop on the exercise — up --exercise, solve, check
// --rubric — and the learner's view, which leaves the hidden checks out.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, ROOT, tempDir } from './helpers.js';

const TMP = tempDir('netlab-e2e-rubric-');

/**
 * Setup: the lab's five checks (1 point each) and three of the rubric's: a gate that cannot hold before the step (vm1
 * has no way out yet), then two checks it skips. The step: the lab's two checks re-weighed, and a hidden one.
 */
const RUBRIC = `rubric: e2e-host-only
lab: host-only
lab_checks:
  "vm1 now reaches the internet server": { points: 3 }
checks:
  - { kind: http, name: gate too early, from: vm1, to: internet, gate: true, points: 2 }
  - { kind: ping, name: after the gate, from: vm1, to: vm2, points: 1 }
  - { kind: ping, name: after the gate too, from: vm2, to: vm1, points: 3 }
steps:
  let-them-out:
    - { kind: http, name: the secret one, from: vm2, to: internet, points: 2, hidden: true }
`;

function report(file: string): RunReport {
  return JSON.parse(readFileSync(file, 'utf8')) as RunReport;
}

describeLab('rubrics (real namespaces)', () => {
  const rubric = join(TMP, 'rubric.yaml');
  writeFileSync(rubric, RUBRIC);

  it('run --rubric: the failed gate skips what follows it in its step; the score adds up', async () => {
    const id = 'e2e-rubric-run';
    const json = join(TMP, 'run.json');
    const r = await netlab(['run', 'host-only', '-i', id, '--rubric', rubric, '-q', '-f', 'table', '-f', 'json', '-o', '-', '-o', json]);
    expect(r.exitCode, r.stderr).toBe(1);
    const rep = report(json);
    const [setup, step] = rep.stages;
    expect(setup?.results.map((x) => [x.name, x.got, x.score, x.points])).toEqual([
      ['vm1 reaches vm2 on the host-only network', 'pass', 1, 1],
      ['vm1 reaches the host (192.168.56.1)', 'pass', 1, 1],
      ['vm2 reaches the host', 'pass', 1, 1],
      ['the host itself reaches the internet server (the way out exists)', 'pass', 1, 1],
      ['vm1 cannot reach the internet (no default gateway)', 'fail', 1, 1],
      ['gate too early', 'fail', 0, 2],
      ['after the gate', 'skipped', 0, 1],
      ['after the gate too', 'skipped', 0, 3],
    ]);
    // Skipped checks never ran: no command, no time.
    for (const s of setup?.results.slice(6) ?? []) expect([s.evidence.argv, s.durationMs, s.detail]).toEqual([[], 0, 'not run: the gate "gate too early" did not hold']);
    // The gate acts within its step: the step's checks run.
    expect(step?.results.map((x) => [x.name, x.ok, x.score, x.points, x.hidden])).toEqual([
      ['vm1 now reaches the internet server', true, 3, 3, undefined],
      ["the server sees the host's uplink address, not the VM's", true, 1, 1, undefined],
      ['the secret one', true, 2, 2, true],
    ]);
    expect(setup?.score).toEqual({ points: 5, max: 11 });
    expect(step?.score).toEqual({ points: 6, max: 6 });
    expect(rep.score).toEqual({ points: 11, max: 17 });
    expect(rep.summary).toEqual({ total: 11, passed: 8, failed: 1, errors: 0, skipped: 2 });
    expect(r.stdout).toContain('score: total 11/17');
    expect(r.stdout).toContain('8 passed, 1 failed, 2 skipped; score 11/17');
    expect(instanceNamespaces(id)).toEqual([]);
  }, 120_000);

  it('a grader tries the rubric on the reference solution: check --rubric scores it; --learner leaves the hidden check out', async () => {
    const id = 'e2e-rubric-up';
    const up = await netlab(['up', 'host-only', '--exercise', '-i', id, '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    try {
      const solved = await netlab(['solve', id, '--no-check', '-q']);
      expect(solved.exitCode, solved.stderr).toBe(0);
      const grader = join(TMP, 'grader.json');
      const g = await netlab(['check', id, '--rubric', rubric, '-f', 'json', '-o', grader]);
      // Solved, vm1 is out: the setup's gate holds now, and nothing is skipped. check leaves out the setup's
      // must-fail check once a step's checks run: 4 of the lab's, 2 + 1 + 3 of the rubric's; the step 3 + 1 + 2.
      expect(g.exitCode, g.stderr).toBe(0);
      const full = report(grader);
      expect(full.stages.flatMap((s) => s.results).find((x) => x.name === 'the secret one')?.score).toBe(2);
      expect(full.stages.map((s) => s.score)).toEqual([{ points: 10, max: 10 }, { points: 6, max: 6 }]);
      expect(full.score).toEqual({ points: 16, max: 16 });
      expect(full.summary.skipped).toBeUndefined();

      const learnerFile = join(TMP, 'learner.json');
      const l = await netlab(['check', id, '--rubric', rubric, '--learner', '-f', 'table', '-f', 'json', '-o', '-', '-o', learnerFile]);
      expect(l.exitCode).toBe(g.exitCode); // the exit code is the grader's
      const learner = report(learnerFile);
      expect(JSON.stringify(learner)).not.toContain('the secret one');
      expect(learner.hiddenChecks).toBe(1);
      expect(learner.score).toEqual({ points: 14, max: 14 });
      expect(l.stdout).not.toContain('the secret one');
      expect(l.stdout).toContain('1 hidden check is graded too');
    } finally {
      const down = await netlab(['down', id]);
      expect(down.exitCode, down.stderr).toBe(0);
    }
    expect(instanceNamespaces(id)).toEqual([]);
  }, 120_000);

  it('a rubric for another lab is a usage error before anything is built', async () => {
    const r = await netlab(['run', 'veth-routing', '-i', 'e2e-rubric-other', '--rubric', rubric, '-q']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is for lab host-only, not veth-routing');
    expect(instanceNamespaces('e2e-rubric-other')).toEqual([]);
  });
});

it('the example rubric validates as a rubric', async () => {
  const r = await netlab(['validate', join(ROOT, 'examples/rubrics/host-only.yaml')]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/ok .*host-only\.yaml {2}\(rubric host-only-internet for lab host-only/);
});
