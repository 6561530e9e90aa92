// Files netlab opens on the host where a (boxed) lab can write too (runner/lab-files.ts): a symlink, a FIFO or a device
// the lab put under the name netlab uses is never followed or opened; reads are bounded.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyLabFile, openLabLog, readLabTail, writeNewLabFile } from '../../../src/runner/lab-files.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-lab-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A file outside the "run directory" that a planted symlink points at: it must never be created or read. */
const victim = join(dir, 'victim');
const run = join(dir, 'run');
mkdirSync(run);
const fifo = (name: string) => {
  const p = join(run, name);
  execFileSync('mkfifo', [p]);
  return p;
};

describe('lab files', () => {
  it('openLabLog creates and appends to a regular file', () => {
    const p = join(run, 'a.log');
    for (const t of ['one\n', 'two\n']) {
      const fd = openLabLog(p);
      writeSync(fd, t);
      closeSync(fd);
    }
    expect(readFileSync(p, 'utf8')).toBe('one\ntwo\n');
  });

  it('openLabLog refuses a planted symlink (dangling or not), a FIFO with no reader and a device', () => {
    symlinkSync(victim, join(run, 'dangling.log'));
    expect(() => openLabLog(join(run, 'dangling.log'))).toThrow(/is a symlink/);
    expect(existsSync(victim)).toBe(false);
    writeFileSync(join(dir, 'existing'), 'host\n');
    symlinkSync(join(dir, 'existing'), join(run, 'existing.log'));
    expect(() => openLabLog(join(run, 'existing.log'))).toThrow(/is a symlink/);
    expect(readFileSync(join(dir, 'existing'), 'utf8')).toBe('host\n');
    // Returns at once (O_NONBLOCK): no reader would otherwise block the open for ever.
    expect(() => openLabLog(fifo('fifo.log'))).toThrow(/not a regular file/);
    symlinkSync('/dev/null', join(run, 'dev.log'));
    expect(() => openLabLog(join(run, 'dev.log'))).toThrow(/is a symlink/);
  });

  it('readLabTail reads a bounded tail and nothing through a symlink, FIFO or device', () => {
    writeFileSync(join(run, 'big.log'), 'x'.repeat(100_000) + 'END\n');
    const tail = readLabTail(join(run, 'big.log'), 1000);
    expect(tail.length).toBe(1000);
    expect(tail.endsWith('END\n')).toBe(true);
    writeFileSync(join(dir, 'secret'), 'host secret\n');
    symlinkSync(join(dir, 'secret'), join(run, 'secret.log'));
    expect(readLabTail(join(run, 'secret.log'))).toBe('');
    symlinkSync('/dev/zero', join(run, 'zero.log'));
    expect(readLabTail(join(run, 'zero.log'))).toBe('');
    expect(readLabTail(fifo('fifo2.log'))).toBe('');
    expect(readLabTail(join(run, 'missing.log'))).toBe('');
  });

  it('writeNewLabFile never writes through a name the lab already made', () => {
    writeNewLabFile(join(run, 'ns.ip'), 'link add x\n');
    expect(readFileSync(join(run, 'ns.ip'), 'utf8')).toBe('link add x\n');
    symlinkSync(victim, join(run, 'planted.ip'));
    expect(() => writeNewLabFile(join(run, 'planted.ip'), 'x')).toThrow();
    expect(existsSync(victim)).toBe(false);
  });

  it('copyLabFile copies a regular file, refuses a symlink and one over the bound', () => {
    writeFileSync(join(run, 'capture.pcap'), 'pcap');
    copyLabFile(join(run, 'capture.pcap'), join(dir, 'copy.pcap'), 100);
    expect(readFileSync(join(dir, 'copy.pcap'), 'utf8')).toBe('pcap');
    writeFileSync(join(dir, 'hostfile'), 'host file\n');
    symlinkSync(join(dir, 'hostfile'), join(run, 'evil.pcap'));
    expect(() => copyLabFile(join(run, 'evil.pcap'), join(dir, 'copy2.pcap'), 100)).toThrow(/is a symlink/);
    expect(existsSync(join(dir, 'copy2.pcap'))).toBe(false);
    writeFileSync(join(run, 'huge.pcap'), 'y'.repeat(1000));
    expect(() => copyLabFile(join(run, 'huge.pcap'), join(dir, 'copy3.pcap'), 100)).toThrow(/over the 100 bytes/);
    expect(existsSync(join(dir, 'copy3.pcap'))).toBe(false);
  });
});
