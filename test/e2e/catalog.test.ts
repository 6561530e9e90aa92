// Every built-in lab (labs/*.yaml) builds for real and gives every check its expected result — the must-fail
// ones for their stated reason — and leaves nothing behind. A lab added to the catalog is tested by being there.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { describeRoot, instanceNamespaces, netlab, ROOT } from './helpers.js';

const LABS = readdirSync(join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml')).sort();

describeRoot('the built-in labs (real namespaces)', () => {
  it('the catalog is not empty', () => {
    expect(LABS.length).toBeGreaterThan(1);
  });

  for (const file of LABS) {
    const name = file.replace(/\.yaml$/, '');
    it(`${name}: every check as expected, nothing left behind`, async () => {
      const instance = `e2e-cat-${name}`.slice(0, 40);
      const r = await netlab(['run', join(ROOT, 'labs', file), '-i', instance, '-f', 'json', '-q']);
      expect(instanceNamespaces(instance)).toEqual([]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as RunReport;
      const results = report.stages.flatMap((s) => s.results);
      expect(results.filter((x) => !x.ok).map((x) => `${x.name}: ${x.got} ${x.detail}`)).toEqual([]);
      // A lab proves the path works beside what must not: at least one check of each expectation.
      expect(results.some((x) => x.expected === 'pass')).toBe(true);
      expect(results.some((x) => x.expected === 'fail')).toBe(true);
      // A must-fail check that was met says how it failed, and it failed that way when one was stated.
      for (const x of results.filter((y) => y.expected === 'fail' && y.expectedReason !== undefined)) expect(x.gotReason, x.name).toBe(x.expectedReason);
    });
  }
});
