// Gates: a stage's checks run in segments split at its gates; once a gate does not hold, the rest are skipped, not run.
import { describe, expect, it } from 'vitest';
import { failedGate, gateSegments, runGated } from '../../../src/checks/phase.js';
import type { CheckResult } from '../../../src/checks/result.js';
import type { PlannedCheck } from '../../../src/plan/planner.js';

const check = (id: string, over: Partial<PlannedCheck> = {}): PlannedCheck =>
  ({ id, stage: 'setup', name: `check ${id}`, kind: 'ping', expect: 'pass', from: 'a', to: { kind: 'address', address: '10.0.0.2' }, toText: '10.0.0.2', fromNs: 'netlab-x-a', target: '10.0.0.2', more: [], ...over }) as PlannedCheck;

const result = (c: PlannedCheck, ok: boolean): CheckResult => ({
  id: c.id,
  stage: c.stage,
  name: c.name,
  kind: c.kind,
  from: c.from,
  to: '10.0.0.2',
  target: c.target,
  expected: c.expect,
  got: ok ? 'pass' : 'fail',
  ok,
  detail: ok ? 'reply' : 'no reply',
  durationMs: 1,
  evidence: { argv: ['ping'], exitCode: ok ? 0 : 1, stdout: '', stderr: '' },
});

/** A fake segment runner: records each segment it was given, and fails the checks whose ids are in `bad`. */
function fakeRunner(bad: readonly string[]) {
  const segments: string[][] = [];
  const run = async (seg: readonly PlannedCheck[]) => {
    segments.push(seg.map((c) => c.id));
    return seg.map((c) => result(c, !bad.includes(c.id)));
  };
  return { segments, run };
}

describe('gate segments', () => {
  it('without gates a stage is one segment, as before', () => {
    const checks = [check('1'), check('2'), check('3')];
    expect(gateSegments(checks)).toEqual([checks]);
    expect(gateSegments([])).toEqual([[]]);
  });

  it('each segment ends with a gate, in file order; what follows the last gate is the last segment', () => {
    const c = [check('1'), check('2', { gate: true }), check('3'), check('4', { gate: true }), check('5')];
    expect(gateSegments(c).map((s) => s.map((x) => x.id))).toEqual([['1', '2'], ['3', '4'], ['5']]);
    // A gate last: no empty segment after it.
    expect(gateSegments([check('1', { gate: true })]).map((s) => s.map((x) => x.id))).toEqual([['1']]);
  });
});

describe('runGated', () => {
  const stage = [check('1'), check('2', { gate: true }), check('3'), check('4', { gate: true }), check('5')];

  it('all gates hold: every segment runs, one after the other', async () => {
    const fake = fakeRunner([]);
    const out = await runGated(stage, fake.run);
    expect(fake.segments).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(out.map((r) => r.got)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('a gate that does not hold: the checks after it are skipped results and never run', async () => {
    const fake = fakeRunner(['2']);
    const seen: string[] = [];
    const out = await runGated(stage, fake.run, (r) => seen.push(r.id));
    expect(fake.segments).toEqual([['1', '2']]);
    expect(out.map((r) => [r.id, r.got, r.ok])).toEqual([
      ['1', 'pass', true],
      ['2', 'fail', false],
      ['3', 'skipped', false],
      ['4', 'skipped', false],
      ['5', 'skipped', false],
    ]);
    expect(out[2]?.detail).toBe('not run: the gate "check 2" did not hold');
    expect(out[2]?.evidence.argv).toEqual([]);
    // Skipped results are reported as they are made (progress counts them).
    expect(seen).toEqual(['3', '4', '5']);
  });

  it('only the gate closes the stage: a check failing beside it does not; the next gate failing skips what follows it', async () => {
    const fake = fakeRunner(['1', '4']);
    const out = await runGated(stage, fake.run);
    expect(fake.segments).toEqual([['1', '2'], ['3', '4']]);
    expect(out.map((r) => r.got)).toEqual(['fail', 'pass', 'pass', 'fail', 'skipped']);
  });

  it('a matrix gates as a whole: any pair of it not holding closes the stage', () => {
    const pair = (id: string, gate = false) => check(id, { matrix: { name: 'matrix 2', from: 'A', to: 'B' }, ...(gate ? { gate: true as const } : {}) });
    const seg = [check('1'), pair('2.1'), pair('2.2', true)];
    const ok = seg.map((c) => result(c, true));
    expect(failedGate(seg, ok)).toBeUndefined();
    const oneBad = seg.map((c) => result(c, c.id !== '2.1'));
    expect(failedGate(seg, oneBad)?.name).toBe('matrix 2 (check 2.1)');
    // The plain check failing is not the gate's business.
    expect(failedGate(seg, seg.map((c) => result(c, c.id !== '1')))).toBeUndefined();
  });
});
