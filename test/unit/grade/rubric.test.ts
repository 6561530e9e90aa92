// Rubric files: the schema, the merge into the lab, problems at the rubric's line:col, and gradedLab.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError, type Problem } from '../../../src/errors.js';
import { gradedLab, isRubricText, loadRubric, mergeRubric, parseRubricText, rubricJsonSchema } from '../../../src/grade/rubric.js';
import { parseLab } from '../../../src/lab/load.js';
import { planLab } from '../../../src/plan/planner.js';

const LAB = `name: two
nodes:
  a: {}
  b: {}
links:
  - endpoints: [{ at: "a:eth0", address: 10.0.0.1/24 }, { at: "b:eth0", address: 10.0.0.2/24 }]
checks:
  - { kind: ping, name: a reaches b, from: a, to: b }
steps:
  - name: fix
    checks:
      - { kind: ping, name: b reaches a, from: b, to: a }
      - kind: matrix
        name: both ways
        groups: { A: [a], B: [b] }
        expect: { "A <-> B": yes }
`;

/** The merged lab of a rubric text over LAB, or the problems as `file:line:col path message`. */
function merge(rubric: string): ReturnType<typeof mergeRubric> | string[] {
  try {
    return mergeRubric(parseRubricText(rubric, 'r.yaml'), LAB, 'lab.yaml');
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems.map((p: Problem) => `${p.file}:${p.line}:${p.col} ${p.path} ${p.message}`);
  }
}

describe('rubric files', () => {
  it('are told from lab files by a top-level rubric: key', () => {
    expect(isRubricText('# c\nrubric: x\nlab: y\n')).toBe(true);
    expect(isRubricText(LAB)).toBe(false);
  });

  it('merge: checks go to the setup and the named step after the lab\'s own; lab_checks re-weigh the lab\'s; the run is scored', () => {
    const m = merge(`rubric: r
lab: two
lab_checks:
  "a reaches b": { points: 2, gate: true }
  "both ways": { points: 0.5, gate: true, hidden: true }
checks:
  - { kind: ping, from: b, to: a, points: 3 }
steps:
  fix:
    - { kind: tcp, from: a, to: b, port: 22, expect: fail, reason: refused, hidden: true }
`);
    if (Array.isArray(m)) throw new Error(m.join('\n'));
    const [setup, fix] = m.lab.stages;
    expect(m.lab.scored).toBe(true);
    expect(m.exercise).toBe(1); // no exercise step: the last step
    expect(setup?.checks.map((c) => [c.id, c.points, c.gate, c.hidden])).toEqual([
      ['setup/1', 2, true, undefined],
      ['setup/2', 3, undefined, undefined],
    ]);
    expect(fix?.checks.map((c) => [c.id, c.points, c.gate, c.hidden])).toEqual([
      ['fix/1', undefined, undefined, undefined],
      ['fix/2.1', 0.5, undefined, true],
      ['fix/2.2', 0.5, true, true], // a matrix gates after its last pair
      ['fix/3', undefined, undefined, true],
    ]);
    // The planner carries the fields through to the checks that run.
    const planned = planLab(m.lab, 't').stages[1]?.checks ?? [];
    expect(planned.map((c) => c.hidden)).toEqual([undefined, true, true, true]);
  });

  it('a check naming an unknown node, a step or a lab check the lab lacks: problems at the rubric\'s line:col, with hints', () => {
    expect(
      merge(`rubric: r
lab: two
lab_checks:
  "no such check": { points: 1 }
checks:
  - { kind: ping, from: zz, to: b }
steps:
  nope: []
  fix:
    - { kind: ping, from: a, to: nowhere }
`),
    ).toEqual([
      'r.yaml:4:3 lab_checks.no such check lab two has no check or matrix named "no such check"',
      'r.yaml:6:25 checks[0].from unknown node "zz"',
      'r.yaml:8:3 steps.nope lab two has no step "nope"',
      'r.yaml:10:34 steps.fix[0].to unknown node "nowhere"',
    ]);
  });

  it('schema problems are reported with the semantic ones of the valid rest, as for lab files', () => {
    expect(
      merge(`rubric: Bad_Name
lab: two
colour: red
checks:
  - { kind: ping, from: a, to: b, points: 1001 }
  - { kind: ping, from: zz, to: b }
`),
    ).toEqual([
      'r.yaml:1:9 rubric rubric names are lower-case words joined by dashes, e.g. host-only-internet',
      'r.yaml:3:1 colour unknown key "colour"',
      'r.yaml:5:43 checks[0].points points are at most 1000',
      'r.yaml:6:25 checks[1].from unknown node "zz"',
    ]);
  });

  it('an unknown key\'s hint lists the keys a rubric allows', () => {
    const parsed = parseRubricText('rubric: r\nlab: two\nchecks_extra: []\n', 'r.yaml');
    expect(parsed.problems[0]?.hint).toBe('allowed keys here: $schema, rubric, title, lab, exercise, time_limit, lab_checks, checks, steps');
  });

  it('the example rubric for host-only validates; its JSON Schema is what the build wrote', async () => {
    const { rubric, lab, exercise } = await loadRubric('examples/rubrics/host-only.yaml');
    expect(rubric).toMatchObject({ name: 'host-only-internet', lab: 'host-only', timeLimitMs: 120_000 });
    expect(lab.stages[exercise]?.name).toBe('let-them-out');
    expect(JSON.parse(readFileSync('schema/rubric.schema.json', 'utf8'))).toEqual(rubricJsonSchema());
  });

  it('docs/grading.md shows the example rubric as it is', () => {
    const md = readFileSync('docs/grading.md', 'utf8');
    const block = /## Example: host-only[\s\S]*?```yaml\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBe(readFileSync('examples/rubrics/host-only.yaml', 'utf8'));
  });
});

describe('gradedLab', () => {
  const ref = merge(`rubric: r
lab: two
checks:
  - { kind: ping, from: b, to: a, points: 3, hidden: true }
`);
  if (Array.isArray(ref)) throw new Error(ref.join('\n'));
  const loaded = { rubric: { name: 'r', file: 'r.yaml', lab: 'two' }, ...ref };

  it('puts the setup and exercise checks into one final stage "graded" of the student\'s lab, without the student\'s own checks', () => {
    const student = parseLab(`name: mine
nodes: { a: {}, b: {} }
links:
  - endpoints: [{ at: "a:eth0", address: 10.0.0.1/24 }, { at: "b:eth0", address: 10.0.0.2/24 }]
checks:
  - { kind: ping, name: my own easy point, from: a, to: b, points: 100 }
`, 'mine.yaml');
    const lab = gradedLab(loaded, student);
    expect(lab.scored).toBe(true);
    expect(lab.stages.map((s) => s.name)).toEqual(['setup', 'graded']);
    expect(lab.stages[0]?.checks).toEqual([]);
    const graded = lab.stages[1]?.checks ?? [];
    expect(graded.map((c) => [c.id, c.name])).toEqual([
      ['graded/1', 'a reaches b'],
      ['graded/2', 'ping b → a'],
      ['graded/3', 'b reaches a'],
      ['graded/4', 'a → b (A → B)'],
      ['graded/5', 'b → a (B → A)'],
    ]);
    expect(graded[1]?.hidden).toBe(true);
    expect(graded[3]?.matrix?.name).toBe('fix: both ways');
    // It plans: every target resolves in the student's lab.
    expect(planLab(lab, 's').stages[1]?.checks.map((c) => c.target)).toEqual(['10.0.0.2', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1']);
  });

  it('a student lab without a node the checks name: a problem list (ValidationError), not a crash', () => {
    const student = parseLab('name: mine\nnodes: { a: {} }\n', 'mine.yaml');
    let problems: Problem[] = [];
    try {
      gradedLab(loaded, student);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      problems = e.problems;
    }
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.message.startsWith('in the submitted lab: '))).toBe(true);
    expect(problems.map((p) => p.message)).toContain('in the submitted lab: unknown node "b"');
    // Located where the checks were written: the rubric's in the rubric, the lab's in the lab file.
    expect(new Set(problems.map((p) => p.file))).toEqual(new Set(['lab.yaml', 'r.yaml']));
  });
});
