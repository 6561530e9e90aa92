// State records are written whole or not at all, and the temp files a killed netlab leaves are found and removed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import type { Lab } from '../../../src/lab/types.js';
import { createRecord, readRecord, removeStaleTempFiles, saveLastFailed, staleTempFiles, updateRecord, type StateRecord } from '../../../src/runner/state.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-state-'));
const saved = process.env.NETLAB_STATE_DIR;
process.env.NETLAB_STATE_DIR = dir;
afterAll(() => {
  if (saved === undefined) delete process.env.NETLAB_STATE_DIR;
  else process.env.NETLAB_STATE_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
});

/** A pid no process can have: above the kernel's pid_max. */
const DEAD_PID = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;

const record = (over: Partial<StateRecord> = {}): StateRecord => ({
  version: 1,
  instance: 'demo',
  lab: 'demo',
  labFile: 'demo.yaml',
  createdAt: new Date(0).toISOString(),
  mode: 'run',
  owner: null,
  status: 'building',
  namespaces: ['netlab-demo-a'],
  processes: [],
  leases: [],
  stage: -1,
  model: {} as Lab,
  ...over,
});

describe('state records', () => {
  it('are created exclusively and rewritten whole, leaving no temp file', async () => {
    await createRecord(record());
    expect(readdirSync(dir)).toEqual(['demo.json']);
    await expect(createRecord(record({ stage: 5 }))).rejects.toThrow(UsageError);
    expect((await readRecord('demo'))?.stage).toBe(-1);
    await Promise.all([updateRecord(record({ stage: 0 })), updateRecord(record({ stage: 1 }))]);
    expect((await readRecord('demo'))?.stage).toBe(1);
    await saveLastFailed('demo', ['setup/1']);
    expect(readdirSync(dir).sort()).toEqual(['.results', 'demo.json']);
    expect(readdirSync(join(dir, '.results'))).toEqual(['demo.json']);
  });
});

describe('temp files of killed runs', () => {
  it('are stale when their pid is gone or they are over a minute old; a live writer\'s fresh one is not', () => {
    mkdirSync(join(dir, '.results'));
    const dead = join(dir, `a.json.tmp-${DEAD_PID}`);
    const deadResults = join(dir, '.results', `lab.json.tmp-${DEAD_PID}`);
    const live = join(dir, `b.json.tmp-${process.pid}`);
    const old = join(dir, `c.json.tmp-${process.pid}`);
    for (const f of [dead, deadResults, live, old, join(dir, 'd.json'), join(dir, 'tmp-1')]) writeFileSync(f, '{');
    const twoMinutesAgo = (Date.now() - 120_000) / 1000;
    utimesSync(old, twoMinutesAgo, twoMinutesAgo);
    expect(staleTempFiles()).toEqual([deadResults, dead, old].sort());
    expect(removeStaleTempFiles()).toEqual([deadResults, dead, old].sort());
    expect(readdirSync(dir).sort()).toEqual(['.results', `b.json.tmp-${process.pid}`, 'd.json', 'tmp-1']);
    expect(existsSync(deadResults)).toBe(false);
    expect(staleTempFiles()).toEqual([]);
  });

  it('a netlab killed between writing and renaming leaves one that is found', async () => {
    // What a SIGKILL between the two steps leaves: the whole next version, under the killed process's temp name.
    await createRecord(record());
    writeFileSync(join(dir, `demo.json.tmp-${DEAD_PID}`), JSON.stringify(record({ stage: 0 })));
    expect(staleTempFiles()).toEqual([join(dir, `demo.json.tmp-${DEAD_PID}`)]);
    // The record itself is intact, and found by readRecords (the temp file is not a record).
    expect((await readRecord('demo'))?.stage).toBe(-1);
  });
});
