import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSubmissions, parseShard, readScripts, shardOf, shellOf, submissionAt, SUBMISSION_LIMITS } from '../../../src/grade/submissions.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-subs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('submissions', () => {
  it('a directory is node scripts, a .yaml file a lab; ids from their names; sorted', () => {
    mkdirSync(join(dir, 'bob'));
    mkdirSync(join(dir, 'amy'));
    writeFileSync(join(dir, 'carl.yaml'), 'name: x\n');
    const subs = findSubmissions([join(dir, 'bob'), join(dir, 'carl.yaml'), join(dir, 'amy')]);
    expect(subs.map((s) => [s.id, s.kind])).toEqual([['amy', 'scripts'], ['bob', 'scripts'], ['carl', 'lab']]);
  });

  it('usage errors: nothing given, a missing path, another kind of file, a clash of ids, an id unfit for a folder name', () => {
    expect(() => findSubmissions([])).toThrow(/no submissions/);
    expect(() => submissionAt(join(dir, 'nobody'))).toThrow(/no such file/);
    writeFileSync(join(dir, 'notes.txt'), '');
    expect(() => submissionAt(join(dir, 'notes.txt'))).toThrow(/neither a directory/);
    mkdirSync(join(dir, 'x'));
    mkdirSync(join(dir, 'x', 'bob'));
    expect(() => findSubmissions([join(dir, 'bob'), join(dir, 'x', 'bob')])).toThrow(/two submissions have the id "bob"/);
    mkdirSync(join(dir, '-rf'));
    expect(() => submissionAt(join(dir, '-rf'))).toThrow(/not usable as a name/);
  });

  it('shards: every N-th from the I-th, the shards together the class once', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    expect(shardOf(ids, parseShard('1/2'))).toEqual(['a', 'c', 'e']);
    expect(shardOf(ids, parseShard('2/2'))).toEqual(['b', 'd']);
    expect(shardOf(ids, undefined)).toEqual(ids);
    for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '-1/2']) expect(() => parseShard(bad), bad).toThrow(/--shard takes I\/N/);
  });

  it('scripts: <node>.sh of known nodes, in node order; what is wrong is the student\'s feedback', () => {
    const s = join(dir, 'scr');
    mkdirSync(s);
    writeFileSync(join(s, 'vm2.sh'), 'echo 2\n');
    writeFileSync(join(s, 'host.sh'), 'echo h\n');
    writeFileSync(join(s, 'README.md'), 'left alone');
    const sub = submissionAt(s);
    expect(readScripts(sub, ['host', 'vm1', 'vm2']).map((x) => x.node)).toEqual(['host', 'vm2']);
    writeFileSync(join(s, 'vm9.sh'), '');
    expect(() => readScripts(sub, ['host', 'vm1', 'vm2'])).toThrow(/vm9\.sh: the lab has no node "vm9"/);
    rmSync(join(s, 'vm9.sh'));
    symlinkSync('/etc/shadow', join(s, 'vm1.sh'));
    expect(() => readScripts(sub, ['host', 'vm1', 'vm2'])).toThrow(/vm1\.sh: /);
    rmSync(join(s, 'vm1.sh'));
    writeFileSync(join(s, 'vm1.sh'), 'x'.repeat(SUBMISSION_LIMITS.scriptBytes + 1));
    expect(() => readScripts(sub, ['host', 'vm1', 'vm2'])).toThrow(/more than the/);
  });

  it('a script runs under bash when its #! line says so, else sh', () => {
    expect(shellOf('#!/bin/bash\necho')).toBe('bash');
    expect(shellOf('#!/usr/bin/env bash\n')).toBe('bash');
    expect(shellOf('#!/bin/sh\n')).toBe('sh');
    expect(shellOf('ip route\n# bash\n')).toBe('sh');
  });
});
