// The learner's loop on real namespaces, for every exercise of every built-in lab (labs/*.yaml; an exercise added to
// a lab is tested by being there): up --exercise → check fails with hints → the reference commands typed through
// `netlab exec` make it pass → reset fails again → part of the work by hand, then solve passes → down leaves nothing.
// And `step` moving a running lab on, one step and several at once.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseLab } from '../../src/lab/load.js';
import type { RunReport } from '../../src/report/model.js';
import { execa } from 'execa';
import { CLI, describeLab, instanceNamespaces, netlab, ROOT, tempDir, STATE } from './helpers.js';

const TMP = tempDir('netlab-e2e-ex-');

/** Every exercise step of every built-in lab. */
const EXERCISES = readdirSync(join(ROOT, 'labs'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) => {
    const lab = parseLab(readFileSync(join(ROOT, 'labs', f), 'utf8'), f);
    return lab.stages.flatMap((s) => (s.exercise ? [{ file: join(ROOT, 'labs', f), lab: lab.name, step: s.name, exercise: s.exercise }] : []));
  });

/** check (table on stdout, JSON in a file): exit code, the table, and the results. */
async function check(id: string, verb: string[] = ['check', id]) {
  const json = join(TMP, `${id}.json`);
  const r = await netlab([...verb, '-f', 'table', '-f', 'json', '-o', '-', '-o', json]);
  const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, results: report.stages.flatMap((s) => s.results) };
}

/** Types one reference command into a node the way a learner would: a shell inside it. */
async function type(id: string, node: string, command: string): Promise<void> {
  const r = await netlab(['exec', id, node, '--', 'sh', '-c', command]);
  expect(r.exitCode, `${node}: ${command}\n${r.stdout}${r.stderr}`).toBe(0);
}

describeLab('exercises (real namespaces)', () => {
  it('the built-in labs hold exercises', () => {
    expect(EXERCISES.map((e) => `${e.lab}/${e.step}`)).toEqual(expect.arrayContaining(['host-only/let-them-out', 'veth-routing/routes-both-ways']));
  });

  EXERCISES.forEach((ex, n) => {
    it(`${ex.lab}/${ex.step}: up --exercise, check fails with hints, the reference commands pass, reset, solve, down`, async () => {
      const id = `e2e-ex${n}`;
      const up = await netlab(['up', ex.file, '--exercise', ex.step, '-i', id, '-q']);
      expect(up.exitCode, up.stderr).toBe(0);
      try {
        expect(up.stdout).toContain(`Exercise (step `);
        expect(up.stdout).toContain(`netlab check ${id}`);
        const rec = JSON.parse(readFileSync(`${STATE}/${id}.json`, 'utf8')) as { stage: number; exercise?: { stage: number } };
        expect(rec.exercise?.stage).toBe(rec.stage + 1);

        // The start: the step's checks do not all hold, and what fails shows its hint.
        const start = await check(id);
        expect(start.exitCode, start.stdout + start.stderr).toBe(1);
        const failing = start.results.filter((r) => !r.ok);
        expect(failing.some((r) => r.stage === ex.step)).toBe(true);
        expect(failing.some((r) => r.hint !== undefined)).toBe(true);
        for (const r of failing) if (r.hint !== undefined) expect(start.stdout).toContain(`hint: ${r.hint.trim().split('\n')[0]}`);

        // The learner types the reference commands (what `solve --show` prints) into each node.
        const show = await netlab(['solve', id, '--show']);
        expect(show.exitCode).toBe(0);
        for (const s of ex.exercise.solution) {
          expect(`${show.stdout}\n`).toContain(`${s.node}:\n${s.commands.map((c) => `  ${c}\n`).join('')}`);
          for (const c of s.commands) await type(id, s.node, c);
        }
        const done = await check(id);
        expect(done.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
        expect(done.exitCode).toBe(0);
        expect(done.results.filter((r) => r.stage === ex.step).length).toBeGreaterThan(0);

        // reset: nothing of the learner's work survives.
        const reset = await netlab(['reset', id, '-q']);
        expect(reset.exitCode, reset.stderr).toBe(0);
        expect((await check(id)).exitCode).toBe(1);

        // Part of the work by hand, then solve: the step applies over it, and the checks pass.
        const first = ex.exercise.solution[0];
        if (first?.commands[0] !== undefined) await type(id, first.node, first.commands[0]);
        const solved = await check(id, ['solve', id, '-q']);
        expect(solved.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
        expect(solved.exitCode, solved.stderr).toBe(0);
        expect((await netlab(['check', id])).exitCode).toBe(0);
      } finally {
        const down = await netlab(['down', id]);
        expect(down.exitCode, down.stderr).toBe(0);
      }
      expect(instanceNamespaces(id)).toEqual([]);
      expect(existsSync(`${STATE}/${id}.json`)).toBe(false);
      expect(existsSync(`${STATE}/${id}`)).toBe(false);
    });
  });

  it('step moves a running lab on: one step, then several; check runs the step it is at; never backwards', async () => {
    const id = 'e2e-ex-step';
    const up = await netlab(['up', 'veth-routing', '--step', '0', '-i', id, '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    try {
      const stepOf = async () => ((JSON.parse((await netlab(['status', '--json'])).stdout) as { instance: string; step: string }[]).find((r) => r.instance === id))?.step;
      expect(await stepOf()).toBe('setup');
      // Not an exercise: solve says so.
      const solve = await netlab(['solve', id]);
      expect(solve.exitCode).toBe(2);
      expect(solve.stderr).toContain(`instance "${id}" is not an exercise`);

      const next = await netlab(['step', id, '-q']);
      expect(next.exitCode, next.stderr).toBe(0);
      expect(await stepOf()).toBe('no-routes');
      const one = await check(id);
      expect(one.exitCode).toBe(0);
      expect(one.results.map((r) => [r.stage, r.expected, r.got])).toEqual([['setup', 'pass', 'pass'], ['setup', 'pass', 'pass'], ['no-routes', 'fail', 'fail']]);

      // Two steps at once (route-one-way, routes-both-ways), with the checks of the last.
      const both = await check(id, ['step', id, 'routes-both-ways', '--check', '-q']);
      expect(both.exitCode, both.stderr).toBe(0);
      expect(await stepOf()).toBe('routes-both-ways');
      expect(both.results.filter((r) => r.stage === 'routes-both-ways').map((r) => r.got)).toEqual(['pass', 'pass']);
      const routes = await netlab(['exec', id, 'ns1', '--', 'ip', '-j', 'route']);
      expect(JSON.parse(routes.stdout)).toContainEqual(expect.objectContaining({ dst: '10.10.20.0/24', gateway: '10.10.10.1' }));

      // exec without a command: a shell whose prompt names the lab, the instance and the node (a terminal through script(1)).
      const shell = await execa('script', ['-qec', `node ${CLI} exec ${id} ns2`, '/dev/null'], { input: 'echo "in $$"\nexit\n', reject: false, env: { NO_COLOR: '1' }, cwd: ROOT });
      expect(shell.stdout).toContain(`[veth-routing:${id} ns2]# `);

      const end = await netlab(['step', id]);
      expect(end.exitCode).toBe(2);
      expect(end.stderr).toContain('at its last step already');
      const back = await netlab(['step', id, 'no-routes']);
      expect(back.exitCode).toBe(2);
      expect(back.stderr).toContain('steps only go forward');

      // reset builds what up built: the topology only.
      expect((await netlab(['reset', id, '-q'])).exitCode).toBe(0);
      expect(await stepOf()).toBe('setup');
    } finally {
      expect((await netlab(['down', id])).exitCode).toBe(0);
    }
    expect(instanceNamespaces(id)).toEqual([]);
  });

  it('up --exercise on a step that is no exercise, or a lab without one, is refused before anything is built', async () => {
    const r = await netlab(['up', 'veth-routing', '--exercise', 'no-routes', '-i', 'e2e-ex-no']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('step "no-routes" of lab veth-routing is not an exercise');
    const both = await netlab(['up', 'veth-routing', '--exercise', '--step', '1', '-i', 'e2e-ex-no']);
    expect(both.exitCode).toBe(2);
    expect(instanceNamespaces('e2e-ex-no')).toEqual([]);
  });
});
