// Exercises in lab files: what validates and what does not (with where), the model normalize makes of them, and
// the pure parts of the learner's loop (which stage check grades, replace ops, the shell prompt, the texts shown).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { SOLUTION_LIMITS } from '../../../src/lab/schema.js';
import { batchText, jobText } from '../../../src/plan/argv.js';
import { replacing, type Op } from '../../../src/plan/ops.js';
import { gradedPicks, gradedStage, shellPrompt } from '../../../src/commands/instances.js';
import { exerciseBrief, solutionText } from '../../../src/commands/learn.js';
import { exerciseIndex } from '../../../src/commands/run.js';
import { problemLines } from './problems.js';

const LAB = `name: ex
nodes:
  a: {}
  b: {}
links:
  - endpoints: [{ at: a:v1, address: 10.0.0.1/24 }, { at: b:v1, address: 10.0.0.2/24 }]
steps:
  - name: first
    checks:
      - { kind: ping, from: a, to: b }
  - name: second
    nodes:
      a: { routes: [{ dst: 10.9.0.0/16, via: 10.0.0.2 }] }
    checks:
      - { kind: state, node: a, route: { dst: 10.9.0.0/16 } }
    exercise:
      task: Give a a route to 10.9.0.0/16 through b.
      solution:
        a:
          - ip route add 10.9.0.0/16 via 10.0.0.2
`;

const withExercise = (exercise: string): string => LAB.replace(/    exercise:\n[\s\S]*$/, exercise);

describe('exercise: schema and rules', () => {
  it('a lab with an exercise step is valid; the model keeps the task and the solution in the order written', () => {
    expect(problemLines(LAB)).toEqual([]);
    const lab = parseLab(LAB, 'lab.yaml');
    expect(lab.stages.map((s) => s.exercise !== undefined)).toEqual([false, false, true]);
    expect(lab.stages[2]?.exercise).toEqual({
      task: 'Give a a route to 10.9.0.0/16 through b.',
      solution: [{ node: 'a', commands: ['ip route add 10.9.0.0/16 via 10.0.0.2'], at: ['steps', 1, 'exercise', 'solution', 'a'] }],
      at: ['steps', 1, 'exercise'],
    });
  });

  it('an unknown node in the solution is reported at its key, with the nodes as hint', () => {
    const text = withExercise('    exercise:\n      task: t\n      solution:\n        a: [ip route]\n        zz: [ip route]\n');
    expect(problemLines(text)).toEqual(['20:9  steps[1].exercise.solution.zz  unknown node "zz"']);
  });

  it('an exercise step without checks is refused: nothing could grade it', () => {
    const text = LAB.replace('    checks:\n      - { kind: state, node: a, route: { dst: 10.9.0.0/16 } }\n', '');
    expect(problemLines(text)).toEqual(['14:5  steps[1].exercise  step "second" is an exercise but has no checks']);
  });

  it.each([
    ['a missing task', '    exercise:\n      solution: { a: [ip route] }\n', /missing required key "task"|task/],
    ['an empty task', '    exercise:\n      task: ""\n      solution: { a: [ip route] }\n', /the task is not empty/],
    ['no solution', '    exercise:\n      task: t\n', /solution/],
    ['a solution naming no node', '    exercise:\n      task: t\n      solution: {}\n', /at least one node/],
    ['a node with no commands', '    exercise:\n      task: t\n      solution: { a: [] }\n', /at least one command/],
    ['a command that is not a string', '    exercise:\n      task: t\n      solution: { a: [[ip, route]] }\n', /expected string/i],
    ['a command of two lines', '    exercise:\n      task: t\n      solution: { a: ["ip route\\nreboot"] }\n', /one line of text/],
    ['an escape sequence in a command', '    exercise:\n      task: t\n      solution: { a: ["ip \\e[2J route"] }\n', /one line of text/],
    ['a blank command', '    exercise:\n      task: t\n      solution: { a: ["   "] }\n', /one line of text/],
    ['a command too long', `    exercise:\n      task: t\n      solution: { a: ["${'x'.repeat(SOLUTION_LIMITS.commandChars + 1)}"] }\n`, /at most 1000 characters/],
    ['too many commands', `    exercise:\n      task: t\n      solution: { a: [${Array(SOLUTION_LIMITS.commandsPerNode + 1).fill('ip route').join(', ')}] }\n`, /at most 50 commands/],
    ['a node name that is no node name', '    exercise:\n      task: t\n      solution: { "a b": [ip route] }\n', /is not a node name/],
    ['an unknown key', '    exercise:\n      task: t\n      solution: { a: [ip route] }\n      answer: x\n', /unknown key "answer"/],
  ])('%s is one located problem', (_what, exercise, message) => {
    const lines = problemLines(withExercise(exercise));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^1[6-9]:\d+  steps\[1\]\.exercise/);
    expect(lines[0]).toMatch(message);
  });

  it('exercise is a key of steps only, not of the top level', () => {
    expect(problemLines(`${LAB}exercise: { task: t, solution: { a: [x] } }\n`)).toEqual(['21:1  exercise  unknown key "exercise"']);
  });

  it('the built-in labs with exercises validate, and each exercise has checks and names nodes of its lab', () => {
    const dir = join(import.meta.dirname, '../../../labs');
    const withExercises = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => parseLab(readFileSync(join(dir, f), 'utf8'), f))
      .filter((lab) => lab.stages.some((s) => s.exercise));
    expect(withExercises.map((l) => l.name)).toEqual(expect.arrayContaining(['host-only', 'veth-routing']));
    for (const lab of withExercises) {
      for (const s of lab.stages.filter((x) => x.exercise)) {
        expect(s.checks.length, `${lab.name} ${s.name}`).toBeGreaterThan(0);
        for (const n of s.exercise?.solution ?? []) expect(lab.nodes.map((x) => x.name)).toContain(n.node);
      }
    }
  });
});

describe('the learner\'s loop, pure parts', () => {
  const lab = parseLab(LAB, 'lab.yaml');

  it('up --exercise holds back the first exercise step, or the one named; other steps are refused', () => {
    expect(exerciseIndex(lab, '')).toBe(2);
    expect(exerciseIndex(lab, 'second')).toBe(2);
    expect(exerciseIndex(lab, '2')).toBe(2);
    expect(() => exerciseIndex(lab, 'first')).toThrow('step "first" of lab ex is not an exercise');
    expect(() => exerciseIndex(lab, 'nope')).toThrow('lab ex has no step "nope"');
    expect(() => exerciseIndex(parseLab(LAB.replace(/    exercise:\n[\s\S]*$/, ''), 'l.yaml'), '')).toThrow('lab ex has no exercise');
  });

  it('check grades the exercise step while it is held back, then the stage the instance is at', () => {
    expect(gradedStage({ stage: 1, exercise: { stage: 2 } })).toBe(2);
    expect(gradedPicks({ stage: 1, exercise: { stage: 2 } })).toEqual([0, 2]);
    expect(gradedPicks({ stage: 2, exercise: { stage: 2 } })).toEqual([0, 2]);
    expect(gradedPicks({ stage: 3, exercise: { stage: 2 } })).toEqual([0, 3]);
    expect(gradedPicks({ stage: 0 })).toEqual([0]);
    expect(gradedPicks({ stage: 1 })).toEqual([0, 1]);
  });

  it('replacing turns route, address and netem adds into replaces, so work the learner did already is no error', () => {
    const ops: Op[] = [
      { kind: 'route-add', ns: 'n', dst: '10.9.0.0/16', via: '10.0.0.2' },
      { kind: 'addr-add', ns: 'n', ifname: 'v1', cidr: '2001:db8::1/64' },
      { kind: 'netem-add', ns: 'n', ifname: 'v1', netem: { delayMs: 50 } },
      { kind: 'sysctl', ns: 'n', key: 'net.ipv4.ip_forward', value: '1' },
    ];
    const r = replacing(ops);
    expect(batchText(r.slice(0, 2))).toBe('route replace 10.9.0.0/16 via 10.0.0.2\naddr replace 2001:db8::1/64 dev v1 nodad\n');
    expect(jobText('tc', [r[2] as Op])).toBe('qdisc replace dev v1 root netem delay 50ms\n');
    expect(r[3]).toBe(ops[3]);
    // The plan itself still adds (netlab plan, a fresh build).
    expect(batchText(ops.slice(0, 1))).toBe('route add 10.9.0.0/16 via 10.0.0.2\n');
  });

  it('the shell prompt names lab and node, and lets nothing through that bash would expand', () => {
    expect(shellPrompt({ lab: 'veth-routing', instance: 'veth-routing' }, 'ns2')).toBe('[veth-routing ns2]# ');
    expect(shellPrompt({ lab: 'veth-routing', instance: 'vr1' }, 'ns2')).toBe('[veth-routing:vr1 ns2]# ');
    expect(shellPrompt({ lab: '$(reboot)`x`\\u', instance: 'i' }, 'a\x1b]0;t\x07')).toBe('[??reboot??x??u:i a??0?t?]# ');
  });

  it('the brief and the reference commands show lab text inert', () => {
    const evil = parseLab(LAB.replace('task: Give a a route to 10.9.0.0/16 through b.', 'task: "Give \\e[31ma a route\\u202e"'), 'lab.yaml');
    const rec = { instance: 'ex1', model: evil, exercise: { stage: 2 } };
    const brief = exerciseBrief(rec);
    expect(brief).toContain('Exercise (step 2 second): second');
    expect(brief).toContain('netlab exec ex1 a ');
    expect(brief).toContain('netlab check ex1');
    const show = solutionText(rec);
    expect(show).toContain('Give \\x1b[31ma a route\\u202e');
    expect(show).toContain('a:\n  ip route add 10.9.0.0/16 via 10.0.0.2\n');
    for (const text of [brief, show]) expect(text).not.toMatch(/[\x1b\u202e]/);
    expect(exerciseBrief({ instance: 'x', model: evil })).toBe('');
  });
});
