// Every built-in lab (labs/*.yaml) builds for real and gives every check its expected result — the must-fail
// ones for their stated reason — twice at once (two instances side by side must not see each other), and leaves
// nothing behind. A lab added to the catalog is tested by being there. NETLAB_E2E_SANDBOX=1 runs it boxed (helpers.ts).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/result.js';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, ROOT, skipIfNeedsRoot } from './helpers.js';

const LABS = readdirSync(join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml')).sort();

/** Check kinds that send traffic from a node to a target address. */
const TARGETED = new Set(['ping', 'tcp', 'udp', 'http', 'nat-source', 'mtu', 'path']);

/**
 * A must-fail check proves something only beside checks that show the way works: one from the same source that
 * passes (the source can send at all) and one to the same target that passes (the target is alive and answers).
 * Returns what is missing, one line per unpaired must-fail check.
 */
function unpaired(results: CheckResult[]): string[] {
  const passing = results.filter((r) => r.expected === 'pass' && r.ok && TARGETED.has(r.kind));
  return results
    .filter((r) => r.expected === 'fail' && TARGETED.has(r.kind))
    .flatMap((r) => [
      ...(passing.some((p) => p.from === r.from) ? [] : [`${r.name}: no passing check from ${r.from}`]),
      ...(passing.some((p) => p.target === r.target) ? [] : [`${r.name}: no passing check reaches ${r.target}`]),
    ]);
}

describeLab('the built-in labs (real namespaces)', () => {
  it('the catalog is not empty', () => {
    expect(LABS.length).toBeGreaterThan(1);
  });

  for (const file of LABS) {
    const name = file.replace(/\.yaml$/, '');
    it(`${name}: every check as expected in two instances at once, must-fail checks paired, nothing left behind`, async (ctx) => {
      const instances = ['a', 'b'].map((s) => `e2e-cat${s}-${name}`.slice(0, 40));
      const runs = await Promise.all(instances.map((i) => netlab(['run', join(ROOT, 'labs', file), '-i', i, '-f', 'json', '-q'])));
      for (const [k, r] of runs.entries()) {
        expect(instanceNamespaces(instances[k]!)).toEqual([]);
        skipIfNeedsRoot(ctx, r);
      }
      for (const [k, r] of runs.entries()) {
        expect(instanceNamespaces(instances[k]!)).toEqual([]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        const report = JSON.parse(r.stdout) as RunReport;
        const results = report.stages.flatMap((s) => s.results);
        expect(results.filter((x) => !x.ok).map((x) => `${x.name}: ${x.got} ${x.detail}`)).toEqual([]);
        // A lab proves the path works beside what must not: at least one check of each expectation.
        expect(results.some((x) => x.expected === 'pass')).toBe(true);
        expect(results.some((x) => x.expected === 'fail')).toBe(true);
        // A must-fail check that was met says how it failed, and it failed that way when one was stated.
        for (const x of results.filter((y) => y.expected === 'fail' && y.expectedReason !== undefined)) expect(x.gotReason, x.name).toBe(x.expectedReason);
        expect(unpaired(results)).toEqual([]);
      }
    });
  }
});
