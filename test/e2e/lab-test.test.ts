// `netlab test [PATHS...]` for real: the repo's labs/ give one JUnit document a real parser (junit2json) reads, a
// testsuite per lab and a testcase per check, exit 0; a lab broken on purpose beside a good one exits 1 with a
// <failure> only in the broken lab's suite; an invalid lab file exits 1 with its problem's line:col; SIGINT/SIGTERM
// end every lab running and leave nothing behind. Nothing any of it started remains (and helpers' leak check agrees).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type TestSuite, type TestSuites } from 'junit2json';
import { describe, expect, it } from 'vitest';
import type { TestRun } from '../../src/report/test-run.js';
import { describeLab, instanceNamespaces, itRootOnly, netlab, recordFile, ROOT, runDirOf, spawnNetlab, STATE, tempDir, UNPRIVILEGED, waitFor } from './helpers.js';

type Suite = TestSuite & { file?: string };

async function junitOf(file: string): Promise<{ doc: TestSuites; suites: Suite[] }> {
  const doc = (await parse(readFileSync(file, 'utf8'))) as TestSuites;
  return { doc, suites: (doc.testsuite ?? []) as Suite[] };
}

/** Every instance the run's reports name is gone: namespaces, state record, run directory. */
function nothingLeft(run: TestRun): void {
  const instances = run.labs.flatMap((l) => (l.report ? [l.report.instance] : []));
  for (const i of instances) {
    expect(instanceNamespaces(i), i).toEqual([]);
    expect(existsSync(recordFile(i)), recordFile(i)).toBe(false);
    expect(existsSync(runDirOf(i)), runDirOf(i)).toBe(false);
  }
}

/** State records of instances of labs whose names start with `prefix` (run ids are <lab>-<6 hex>). */
const records = (prefix: string) => {
  try {
    return readdirSync(STATE).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
  } catch {
    return [];
  }
};

const VETH = readFileSync(join(ROOT, 'labs/veth-routing.yaml'), 'utf8');
/** The route ns2 needs back to ns1 in the last step: without it, both must-pass pings of that step fail. */
const RETURN_ROUTE = '    nodes:\n      ns2:\n        routes:\n          - { dst: 10.10.10.0/24, via: 10.10.20.1 }\n';
const renamed = (name: string, text = VETH) => text.replace(/^name: veth-routing$/m, `name: ${name}`);

describeLab('netlab test (real namespaces)', () => {
  const dir = tempDir('netlab-labtest-');

  itRootOnly('some built-in labs need root (captures, tun/tap, macvlan)')('netlab test labs/: one testsuite per lab, one testcase per check, exit 0, nothing left behind', async () => {
    const xml = join(dir, 'all.xml');
    const json = join(dir, 'all.json');
    const r = await netlab(['test', 'labs/', '--junit', xml, '-f', 'json', '-o', json]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const run = JSON.parse(readFileSync(json, 'utf8')) as TestRun;
    const labFiles = readdirSync(join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml')).sort();
    expect(run.labs.map((l) => l.file)).toEqual(labFiles.map((f) => `labs/${f}`));
    expect(run.labs.map((l) => l.status)).toEqual(labFiles.map(() => 'ok'));
    const { doc, suites } = await junitOf(xml);
    expect(suites.map((s) => [s.name, s.file])).toEqual(run.labs.map((l) => [l.lab, l.file]));
    for (const [k, lab] of run.labs.entries()) {
      const report = lab.report;
      if (!report) throw new Error(`${lab.file}: no report`);
      const results = report.stages.flatMap((s) => s.results.map((x) => [`${report.lab}/${s.name}`, x.name]));
      expect(results.length).toBe(report.summary.total);
      expect(suites[k]?.testcase?.map((c) => [c.classname, c.name]), lab.file).toEqual(results);
      expect(suites[k]).toMatchObject({ tests: results.length, failures: 0, errors: 0 });
    }
    expect(doc).toMatchObject({ tests: run.summary.checks.total, failures: 0, errors: 0 });
    nothingLeft(run);
  }, 900_000);

  it('a lab broken on purpose beside a good one: exit 1, a <failure> in its suite only; rubrics and other files skipped', async () => {
    const d = join(dir, 'broken');
    mkdirSync(join(d, 'nested'), { recursive: true });
    writeFileSync(join(d, 'good.yaml'), renamed('lt-good'));
    expect(VETH.split(RETURN_ROUTE)).toHaveLength(2);
    writeFileSync(join(d, 'nested/broken.yml'), renamed('lt-broken', VETH.replace(RETURN_ROUTE, '')));
    writeFileSync(join(d, 'nested/grading.yaml'), 'rubric: lt-rubric\nlab: ../good.yaml\nchecks: []\n');
    writeFileSync(join(d, 'notes.txt'), 'not a lab');
    const xml = join(dir, 'broken.xml');
    const json = join(dir, 'broken.json');
    const r = await netlab(['test', d, '--junit', xml, '-f', 'json', '-o', json, '-v']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain(`skipped ${join(d, 'nested/grading.yaml')}: a rubric`);
    const run = JSON.parse(readFileSync(json, 'utf8')) as TestRun;
    expect(run.labs.map((l) => [l.lab, l.status])).toEqual([
      ['lt-good', 'ok'],
      ['lt-broken', 'failed'],
    ]);
    const { suites } = await junitOf(xml);
    expect(suites.map((s) => s.name)).toEqual(['lt-good', 'lt-broken']);
    const [good, broken] = suites;
    expect(good).toMatchObject({ failures: 0, errors: 0, tests: 6 });
    expect(good?.testcase?.some((c) => c.failure || c.error)).toBe(false);
    expect(broken).toMatchObject({ failures: 2, errors: 0, tests: 6 });
    const failed = broken?.testcase?.filter((c) => c.failure) ?? [];
    expect(failed.map((c) => [c.classname, c.name])).toEqual([
      ['lt-broken/routes-both-ways', 'ns1 → ns2 replies with TTL 63 (one hop)'],
      ['lt-broken/routes-both-ways', 'ns2 → ns1 works too'],
    ]);
    expect(failed[0]?.failure?.[0]?.type).toMatch(/^expected pass, got fail/);
    expect(failed[0]?.failure?.[0]?.inner).toContain('hint: Check both routes and that host forwards');
    nothingLeft(run);
  }, 300_000);

  it('an invalid lab file: exit 1, its suite fails "validate" with the problem at line:col, nothing built; the table says so', async () => {
    const d = join(dir, 'invalid');
    mkdirSync(d);
    const file = join(d, 'bad.yaml');
    writeFileSync(file, 'name: lt-bad\nnodes:\n  a: {}\nlinks:\n  - endpoints: [{ at: "a:eth0", address: 192.0.2.1/24 }, "nosuch:eth0"]\n');
    const xml = join(dir, 'invalid.xml');
    const r = await netlab(['test', file, '--junit', xml]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(records('lt-bad-')).toEqual([]);
    const { suites } = await junitOf(xml);
    expect(suites).toHaveLength(1);
    expect(suites[0]).toMatchObject({ name: 'lt-bad', file, tests: 1, failures: 1 });
    const tc = suites[0]?.testcase?.[0];
    expect(tc?.name).toBe('validate');
    expect(tc?.failure?.[0]?.type).toBe('invalid lab file');
    expect(tc?.failure?.[0]?.inner).toMatch(new RegExp(`^${file}:5:\\d+  links\\[0\\]\\.endpoints\\[1\\]  unknown node "nosuch"`, 'm'));
    expect(r.stdout).toMatch(/│ lt-bad +│ .*bad\.yaml +│ - +│ - +│ - +│ .* │ ✘ invalid +│/);
    expect(r.stdout).toMatch(new RegExp(`${file}:5:\\d+  links\\[0\\]\\.endpoints\\[1\\]`));
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 lab: 0 as expected, 1 invalid; 0 of 0 checks as expected');
  }, 60_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while labs run: every running lab torn down, none started after, exit %i, nothing left', async (sig, code) => {
    const tag = `lt-${sig.toLowerCase()}`;
    const d = join(dir, tag);
    mkdirSync(d);
    // Two labs whose second step runs a 60 s check (two at a time: both start), and a third that must never start.
    const slow = (name: string) =>
      `name: ${name}\nnodes:\n  a: {}\n  b: {}\nlinks:\n  - endpoints: [{ at: "a:eth0", address: 192.0.2.1/24 }, { at: "b:eth0", address: 192.0.2.2/24 }]\n` +
      `checks:\n  - { kind: ping, name: setup ping, from: a, to: b }\n` +
      `steps:\n  - name: slow\n    checks:\n      - { kind: cmd, name: slow sleep, node: a, shell: 'exec sleep 600', timeout: 610s }\n`;
    for (const x of ['a', 'b', 'c']) writeFileSync(join(d, `${x}.yaml`), slow(`${tag}-${x}`));
    const tmp = join(dir, `${tag}-tmp`);
    mkdirSync(tmp);
    const xml = join(dir, `${tag}.xml`);
    // TMPDIR: where netlab test keeps its children's reports, to see it leaves that empty.
    const child = spawnNetlab(['test', d, '-j', '2', '--junit', xml], { env: { TMPDIR: tmp } });
    // Both running labs reached their slow step (the state record says which step an instance is at).
    const atSlowStep = (lab: string) =>
      records(`${lab}-`).some((f) => {
        try {
          return (JSON.parse(readFileSync(join(STATE, f), 'utf8')) as { stage: number }).stage === 1;
        } catch {
          return false;
        }
      });
    await waitFor(() => atSlowStep(`${tag}-a`) && atSlowStep(`${tag}-b`), { watch: STATE, timeoutMs: 60_000 });
    const killedAt = Date.now();
    child.kill(sig);
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(code);
    // Ended, not waited out: the slow checks would have run 600 s (a loaded machine's teardown takes seconds).
    expect(Date.now() - killedAt).toBeLessThan(120_000);
    expect(r.stderr).toContain(`${sig}: ending 2 running labs`);
    for (const x of ['a', 'b', 'c']) expect(records(`${tag}-${x}-`)).toEqual([]);
    expect(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`netlab-${tag}-`)) : []).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]); // netlab test's own report folder went too
    const { suites } = await junitOf(xml);
    expect(suites.map((s) => s.name)).toEqual([`${tag}-a`, `${tag}-b`, 'c']);
    for (const s of suites.slice(0, 2)) expect(s.testcase?.at(-1)).toMatchObject({ name: 'run', error: [{ type: 'interrupted' }] });
    expect(suites[2]?.testcase).toMatchObject([{ name: 'run', error: [{ message: `not run: interrupted by ${sig}` }] }]);
  }, 300_000);
});

describe('netlab test: usage errors (exit 2, before anything runs)', () => {
  it.each<[string, string[], RegExp]>([
    ['a path that does not exist', ['test', '/nonexistent/labs'], /no such file or directory: \/nonexistent\/labs/],
    ['a directory without lab files', ['test', 'docs/labs'], /no lab files found in docs\/labs/],
    ['--jobs 0', ['test', 'labs/veth-routing.yaml', '-j', '0'], /--jobs takes a whole number of at least 1/],
    // Without root every lab is boxed, so the box's limits need no --sandbox there.
    ...(UNPRIVILEGED ? [] : [['--max-pids without --sandbox', ['test', 'labs/veth-routing.yaml', '--max-pids', '64'], /--max-pids limits a boxed lab: it needs --sandbox/] as [string, string[], RegExp]]),
    ['--junit into a directory', ['test', 'labs/veth-routing.yaml', '--junit', '/tmp'], /cannot write the report to \/tmp: it is a directory/],
    ['-f junit (--junit FILE is the JUnit file)', ['test', 'labs/veth-routing.yaml', '-f', 'junit'], /Invalid values/],
  ])('%s', async (_, args, message) => {
    const r = await netlab(args, { plain: true });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
