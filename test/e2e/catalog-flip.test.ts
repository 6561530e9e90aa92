// A built-in lab cannot pass for the wrong reason: turn every must-fail check (and every "no" matrix cell) of a lab
// into a must-pass one and the lab must exit 1, with EACH flipped check not as expected. Checks are independent,
// so this is the same as flipping any one of them alone — at the cost of one run per lab instead of one per check.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { loadLabFile } from '../../src/lab/load.js';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, ROOT, skipIfNeedsRoot, tempDir } from './helpers.js';

const LABS = readdirSync(join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml')).sort();

/** A matrix's cells, however nested (`expect:`, or `rows:` → column → cell, or a labelled cell's `expect:`): no → yes. */
function flipCells(node: unknown): void {
  if (!isMap(node)) return;
  for (const pair of node.items) {
    const v = pair.value as { value?: unknown } | null;
    if (isMap(v)) flipCells(v);
    else if (v && (v.value === 'no' || v.value === false)) v.value = 'yes';
  }
}

/** Turns every `expect: fail` check into `expect: pass` (dropping its reason) and every "no" matrix cell into "yes". */
function flip(text: string): string {
  const doc = parseDocument(text);
  const flipList = (list: unknown) => {
    if (!isSeq(list)) return;
    for (const item of list.items) {
      if (!isMap(item)) continue;
      const check = item as YAMLMap;
      if (check.get('kind') === 'matrix') {
        flipCells(check.get('expect'));
        flipCells(check.get('rows'));
      } else if (check.get('expect') === 'fail') {
        check.set('expect', 'pass');
        check.delete('reason');
      }
    }
  };
  flipList(doc.get('checks'));
  const steps = doc.get('steps');
  if (isSeq(steps)) for (const s of steps.items) if (isMap(s)) flipList(s.get('checks'));
  return doc.toString();
}

describeLab('flipping the must-fail checks of a built-in lab makes it fail (real namespaces)', () => {
  const dir = tempDir('netlab-flip-');
  for (const file of LABS) {
    const name = file.replace(/\.yaml$/, '');
    it(`${name}: every flipped check comes out not as expected, exit 1`, async (ctx) => {
      // The must-fail checks as netlab itself reads the original lab (matrix cells expanded): flipping keeps ids.
      const lab = await loadLabFile(join(ROOT, 'labs', file));
      const ids = lab.stages.flatMap((s) => s.checks).filter((c) => c.expect === 'fail').map((c) => c.id);
      expect(ids.length, 'a lab has must-fail checks').toBeGreaterThan(0);
      const path = join(dir, file);
      writeFileSync(path, flip(readFileSync(join(ROOT, 'labs', file), 'utf8')));
      const instance = `e2e-flip-${name}`.slice(0, 40);
      const r = await netlab(['run', path, '-i', instance, '-f', 'json', '-q']);
      expect(instanceNamespaces(instance)).toEqual([]);
      skipIfNeedsRoot(ctx, r);
      expect(r.exitCode, r.stderr).toBe(1);
      const byId = new Map((JSON.parse(r.stdout) as RunReport).stages.flatMap((s) => s.results).map((x) => [x.id, x]));
      // Each flipped check ran, now expected to pass, and failed: not as expected, and not an error hiding what happened.
      const outcome = ids.map((id) => { const x = byId.get(id); return `${id} ${x ? `${x.expected} got ${x.got}${x.ok ? ' OK' : ''}` : 'missing'}`; });
      expect(outcome).toEqual(ids.map((id) => `${id} pass got fail`));
    });
  }
});
