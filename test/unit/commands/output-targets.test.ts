// --output targets are checked before anything is built (exit 2), without leaving anything behind; a report whose
// file fails at the end is written to stdout (or stderr) instead of being lost.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { checkWritable, emitReport, reportTargets } from '../../../src/commands/common.js';
import { UsageError } from '../../../src/errors.js';
import { fixtureReport } from '../report/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function refusal(file: string): string {
  try {
    checkWritable(file);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).message;
  }
  throw new Error(`${file} was accepted`);
}

describe('checkWritable', () => {
  it('accepts a new file in an existing directory and leaves nothing behind', () => {
    const file = join(dir, 'new.xml');
    checkWritable(file);
    expect(existsSync(file)).toBe(false);
  });

  it('accepts an existing file without truncating it, and devices as they are', () => {
    const file = join(dir, 'old.json');
    writeFileSync(file, 'keep me');
    checkWritable(file);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    checkWritable('/dev/null');
  });

  it('refuses a missing directory, a directory, a file under a file, and a place no file can be created', () => {
    expect(refusal(join(dir, 'missing-dir', 'r.xml'))).toBe(`cannot write the report to ${join(dir, 'missing-dir', 'r.xml')}: directory ${join(dir, 'missing-dir')} does not exist`);
    expect(existsSync(join(dir, 'missing-dir'))).toBe(false);
    expect(refusal(dir)).toBe(`cannot write the report to ${dir}: it is a directory`);
    writeFileSync(join(dir, 'plain'), '');
    expect(refusal(join(dir, 'plain', 'r.xml'))).toMatch(/plain is not a directory$/);
    expect(refusal('/proc/netlab-report.xml')).toMatch(/^cannot write the report to \/proc\/netlab-report.xml: /);
  });

  it('refuses a read-only directory when not root (root may write anywhere)', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    if (process.getuid?.() === 0) checkWritable(join(ro, 'r.xml'));
    else expect(refusal(join(ro, 'r.xml'))).toMatch(/EACCES/);
    expect(readdirSync(ro)).toEqual([]);
  });

  it('is part of reportTargets, so the usage error comes before anything runs', () => {
    expect(() => reportTargets({ format: ['junit'], output: [join(dir, 'nope', 'r.xml')] })).toThrow(UsageError);
  });
});

describe('emitReport when a file cannot be written at the end', () => {
  it('says why on stderr and writes the report to stdout when stdout is free; returns false', async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const ok = await emitReport(fixtureReport(), [{ format: 'json', output: '/dev/full' }]);
    vi.restoreAllMocks();
    expect(ok).toBe(false);
    expect(err.join('')).toMatch(/could not write the json report to \/dev\/full: ENOSPC.*; it follows on stdout/);
    expect(JSON.parse(out.join(''))).toEqual(JSON.parse(JSON.stringify(fixtureReport())));
  });

  it('uses stderr when another report already goes to stdout, and still writes the files that work', async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const good = join(dir, 'good.csv');
    const ok = await emitReport(fixtureReport(), [{ format: 'tap' }, { format: 'json', output: '/dev/full' }, { format: 'csv', output: good }]);
    vi.restoreAllMocks();
    expect(ok).toBe(false);
    expect(out.join('')).toMatch(/^TAP version 14/);
    expect(err.join('')).toContain('it follows on stderr');
    expect(err.join('')).toContain('"schemaVersion": 1');
    expect(readFileSync(good, 'utf8').length).toBeGreaterThan(0);
  });
});
