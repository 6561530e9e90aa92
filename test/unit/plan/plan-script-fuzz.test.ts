// Property: whatever text a lab file carries (titles, names, explanations, check names and hints, descriptions,
// commands of cmd checks, the instance id), the script `netlab plan` prints runs exactly the plan's own commands
// and nothing else. The script (and the teardown script after it) runs under `env -i bash --norc --noprofile` in
// an empty directory, PATH an empty directory, and ip, tc, nft, sysctl, nsenter, node, dnsmasq and udhcpc stubbed
// by shell functions that record argv and stdin; anything else (a comment broken by a newline, an unquoted word,
// `$(…)`, a redirection, eval or source) shows up as a command not found, as output, as a file, or as a command
// that is not the plan's. NETLAB_FUZZ_RUNS sets the number of cases (default 100).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, ValidationError } from '../../../src/errors.js';
import { parseLab } from '../../../src/lab/load.js';
import { shellStep } from '../../../src/plan/argv.js';
import { instanceProblem, validInstance } from '../../../src/plan/naming.js';
import { planLab, type Plan } from '../../../src/plan/planner.js';
import { planScript, teardownScript } from '../../../src/plan/script.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const RUNS = Number(process.env.NETLAB_FUZZ_RUNS ?? 100);
const STUBS = ['ip', 'tc', 'nft', 'sysctl', 'nsenter', 'node', 'dnsmasq', 'udhcpc'];
const BASH = '/bin/bash';

/** The labs whose plans are fuzzed: every built-in lab and every test lab (together they cover every op kind). */
const BASES = [join(ROOT, 'labs'), join(ROOT, 'test/fixtures/labs')]
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f)))
  .map((file) => ({ file, data: parse(readFileSync(file, 'utf8')) as Record<string, unknown> }));
const FILES = BASES.map((b) => b.file);

/** Text that tries to break out of a comment, a quoted word or a heredoc. */
const HOSTILE = [
  '\n: > pwned',
  '\r\n: > pwned',
  "'; : > pwned; '",
  '"; : > pwned; "',
  '$(: > pwned)',
  '`: > pwned`',
  '${IFS}$(: > pwned)',
  '\nNFT\n: > pwned\n',
  '\nEOF\n: > pwned',
  '\n#!/bin/sh\n: > pwned',
  '\neval ": > pwned"',
  '\nsource /dev/stdin',
  '\n. ./pwned',
  '\nexit 0',
  '\nunset PATH',
  '\u2028: > pwned',
  '\u0085: > pwned',
  '\x1b[2J\x1b]0;title\x07',
  '\u202e)dewnp > :(',
  '\\\n: > pwned',
  '# \n: > pwned',
  '!!',
  '; : > pwned &',
  '| : > pwned',
  '\0',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 8 }))
      .map(([a, b, c]) => a + b + c),
  },
);
const instance = fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), fc.constantFrom(...HOSTILE)), { nil: undefined });

/** A copy of a base lab with every free-text field (and a few cmd/state checks made of text) set from `texts`. */
function mutate(data: Record<string, unknown>, texts: string[]): Record<string, unknown> {
  const lab = structuredClone(data) as Record<string, any>;
  let i = 0;
  const next = () => texts[i++ % texts.length] as string;
  Object.assign(lab, { title: next(), description: next(), goals: [next(), next()], source: next() });
  for (const [name, node] of Object.entries(lab.nodes as Record<string, unknown>)) lab.nodes[name] = { ...((node as object | null) ?? {}), description: next() };
  const first = Object.keys(lab.nodes)[0];
  lab.steps ??= [{ name: 'fuzz', checks: [] }];
  for (const step of lab.steps as Record<string, any>[]) Object.assign(step, { title: next(), explain: next() });
  lab.checks = [
    ...((lab.checks as unknown[] | undefined) ?? []),
    { kind: 'cmd', node: first, argv: [next(), next()] },
    { kind: 'cmd', node: first, shell: next(), stdout: 'x' },
    { kind: 'state', node: first, nft: { contains: next() } },
  ];
  for (const checks of [lab.checks, ...(lab.steps as Record<string, any>[]).map((s) => s.checks ?? [])] as Record<string, unknown>[][]) {
    checks.forEach((c, j) => {
      if (j % 3 !== 2) c.name = next();
      c.hint = next();
    });
  }
  return lab;
}

/** JSON is YAML; every non-ASCII or control character goes in as a \u escape, so the YAML reader sees all of them. */
const asYaml = (lab: unknown) => JSON.stringify(lab).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const work = mkdtempSync(join(tmpdir(), 'netlab-plan-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// The stubs are shell functions defined through BASH_ENV (so the script file runs unchanged and no process is
// spawned per command: fast on a loaded machine); PATH is an empty directory, so any other command is not found.
// Each call writes its name and argv as NUL-terminated words to a file named by the main shell's count of calls,
// its own pid and the main shell's pid (a background call runs in a subshell: another pid), and stdin beside it.
const emptyPath = join(work, 'bin');
mkdirSync(emptyPath);
const stubs = join(work, 'stubs.sh');
writeFileSync(
  stubs,
  [
    '__n=0',
    `__stub() { __n=$((__n + 1)); local f="$NETLAB_STUB_LOG/$__n-$BASHPID-$$" stdin=''; printf '%s\\0' "$@" > "$f.argv"; IFS= read -r -d '' stdin || true; printf '%s' "$stdin" > "$f.stdin"; }`,
    ...STUBS.map((name) => `${name}() { __stub ${name} "$@"; }`),
    '',
  ].join('\n'),
);

interface Call {
  argv: string[];
  stdin: string;
  /** Made by a background job (a subshell of the script's shell). */
  bg?: boolean;
}
const key = (c: Call) => JSON.stringify([c.argv, c.stdin]);
/** A call that separates the plan script from the teardown script run after it. */
const MARKER = ['ip', '--netlab-fuzz-marker--'];

let cases = 0;
/** Runs a script as described above; returns what it printed, what ran (in order) and what it left in its directory. */
async function run(script: string) {
  const dir = join(work, `case-${cases++}`);
  const cwd = join(dir, 'cwd');
  const log = join(dir, 'log');
  // Not recursive: a case still running after the suite removed `work` (a timeout) fails instead of leaving files.
  mkdirSync(dir);
  mkdirSync(cwd);
  mkdirSync(log);
  // `wait` so the background lines (services) have recorded their call before the log is read.
  writeFileSync(join(dir, 'plan.sh'), `${script}wait\n`);
  try {
    const r = await execa('/usr/bin/env', ['-i', `PATH=${emptyPath}`, `BASH_ENV=${stubs}`, `NETLAB_STUB_LOG=${log}`, BASH, '--norc', '--noprofile', join(dir, 'plan.sh')], {
      cwd,
      stdin: 'ignore',
      reject: false,
      timeout: 60_000,
    });
    const files = readdirSync(log)
      .filter((f) => f.endsWith('.argv'))
      .map((f) => ({ f, n: f.replace(/\.argv$/, '').split('-').map(Number) as [number, number, number] }))
      .sort((a, b) => a.n[0] - b.n[0] || a.n[1] - b.n[1]);
    const calls: Call[] = files.map(({ f, n }) => ({
      argv: readFileSync(join(log, f), 'utf8').split('\0').slice(0, -1),
      stdin: readFileSync(join(log, f.replace(/\.argv$/, '.stdin')), 'utf8'),
      bg: n[1] !== n[2],
    }));
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, calls, files: files.length, leftovers: readdirSync(cwd), logFiles: readdirSync(log).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commands the plan itself holds, in order, each marked when its line runs it in the background. */
function planned(plan: Plan): Call[] {
  return plan.stages
    .flatMap((s) => s.ops)
    .flatMap((op) => {
      const step = shellStep(op);
      return step ? [{ argv: step.argv, stdin: step.stdin ?? '', bg: step.background ?? false }] : [];
    });
}

/** Asserts a script ran exactly `expected` (the same foreground calls in order, background ones in any order) and did nothing else. */
function expectExactly(ran: Awaited<ReturnType<typeof run>>, calls: Call[], expected: Call[]): void {
  expect(ran.stderr).toBe('');
  expect(ran.stdout).toBe('');
  expect(ran.exitCode).toBe(0);
  expect(ran.leftovers).toEqual([]);
  expect(ran.logFiles).toBe(2 * ran.files);
  expect(calls.filter((c) => !c.bg).map(key)).toEqual(expected.filter((c) => !c.bg).map(key));
  expect(calls.filter((c) => c.bg).map(key).sort()).toEqual(expected.filter((c) => c.bg).map(key).sort());
}

describe('netlab plan scripts are inert (property, stubbed commands)', () => {
  it('the stubs record what they are given, and a broken-out word would be seen', async () => {
    const ok = await run("ip a 'b c' $'d\\ne'\nnft -f - <<'X'\nline $(x)\nX\n");
    expect(ok.calls).toEqual([
      { argv: ['ip', 'a', 'b c', 'd\ne'], stdin: '', bg: false },
      { argv: ['nft', '-f', '-'], stdin: 'line $(x)\n', bg: false },
    ]);
    const broken = await run('# a comment\n: > pwned\nip x\n');
    expect(broken.leftovers).toEqual(['pwned']);
    const notFound = await run('set -e\ntouch x\nip y\n');
    expect(notFound.stderr).toMatch(/touch: command not found/);
    expect(notFound.calls).toEqual([]);
    const background = await run('ip a &\nip b\n');
    expect(background.calls.map((c) => [c.argv, c.bg]).sort()).toEqual([[['ip', 'a'], true], [['ip', 'b'], false]]);
  });

  // A case costs two bash processes' worth of time; generous for a loaded 2-core machine (it is not a speed test).
  it(`runs only the plan's own commands, whatever the lab text (${RUNS} cases)`, { timeout: 60_000 + RUNS * 3000 }, async () => {
    let accepted = 0;
    let refusedIds = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), fc.array(text, { minLength: 8, maxLength: 40 }), instance, async (file, texts, id) => {
        const base = BASES.find((b) => b.file === file)!;
        let lab;
        try {
          lab = parseLab(asYaml(mutate(base.data, texts)), base.file);
        } catch (e) {
          if (e instanceof ValidationError) return; // refused: fine, the property is about what is accepted
          throw e;
        }
        let inst = lab.name;
        if (id !== undefined) {
          if (instanceProblem(id) === undefined) inst = id;
          else {
            expect(() => validInstance(id)).toThrow(UsageError);
            refusedIds++;
          }
        }
        accepted++;
        const plan = planLab(lab, inst);
        // One bash for both scripts (a process costs ~0.1 s on a loaded machine): the plan, a marker, the teardown.
        const both = await run(`${planScript(plan, { ...(lab.title !== undefined ? { title: lab.title } : {}) })}wait\n${MARKER.join(' ')}\n${teardownScript(plan)}`);
        const main = both.calls.filter((c) => !c.bg);
        const at = main.findIndex((c) => key(c) === key({ argv: MARKER, stdin: '' }));
        expect(at, 'the marker after the plan script ran').toBeGreaterThanOrEqual(0);
        expectExactly(both, [...main.slice(0, at), ...both.calls.filter((c) => c.bg)], planned(plan));
        expect(main.slice(at + 1).map(key)).toEqual(plan.namespaces.map((n) => key({ argv: ['ip', 'netns', 'del', n.ns], stdin: '' })));
      }),
      { numRuns: RUNS },
    );
    // Most cases must be accepted and run, or the property says little.
    expect(accepted).toBeGreaterThanOrEqual(RUNS / 3);
    console.log(`plan fuzz: ${accepted} of ${RUNS} labs accepted and run, ${refusedIds} instance ids refused`);
  });
});
