// The bundle's code cache (scripts/bundle-loader.cjs, installed as dist/bundle/load.cjs): written when missing or not
// this build's, used as is otherwise, and laid out so that V8 reads the compiled code in place (it starts at a multiple
// of 16 bytes). Runs a copy of dist/bundle in a temporary directory, so the checkout's own cache is never touched.
// Needs no root and builds nothing; assumes `npm run build` ran (the `test` script does it).
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

const LAB = join(ROOT, 'labs/veth-routing.yaml');

const TMP = tempDir('netlab-code-cache-');
let copies = 0;

/** A copy of dist/bundle (loader and bundle, no cache) in a fresh directory; where its cache goes. */
function bundleCopy(): { loader: string; cache: string } {
  const dir = join(TMP, `copy-${++copies}`, 'bundle');
  mkdirSync(dir, { recursive: true });
  for (const f of ['load.cjs', 'netlab.cjs']) copyFileSync(join(ROOT, 'dist/bundle', f), join(dir, f));
  return { loader: join(dir, 'load.cjs'), cache: join(dir, 'netlab.cjs.cache') };
}

async function validate(loader: string): Promise<void> {
  const r = await execa('node', [loader, 'validate', LAB], { reject: false, env: { NO_COLOR: '1' } });
  // validate reports on stderr.
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^ok {2}.*veth-routing\.yaml {2}\(3 nodes, 2 links, 3 steps, 6 checks\)$/);
  expect(r.exitCode).toBe(0);
}

/** The cache's first line (the tag) and where the compiled code starts. */
function head(cache: string): { tag: string; dataAt: number } {
  const data = readFileSync(cache);
  const nl = data.indexOf(10);
  return { tag: data.toString('latin1', 0, nl).trimEnd(), dataAt: nl + 1 };
}

describe('the code cache of the bundle', () => {
  it('is written on the first run, names this build, Node and architecture, and holds code at a 16-byte boundary', async () => {
    const { loader, cache } = bundleCopy();
    await validate(loader);
    const build = readFileSync(join(ROOT, 'dist/bundle/netlab.cjs'), 'latin1').split('\n', 1)[0];
    const { tag, dataAt } = head(cache);
    expect(tag).toBe(`${build} ${process.version} ${process.arch}`);
    expect(dataAt % 16).toBe(0);
    expect(statSync(cache).size).toBeGreaterThan(dataAt + 100_000);
  });

  it('is used as it is by the next run (not written again)', async () => {
    const { loader, cache } = bundleCopy();
    await validate(loader);
    const first = statSync(cache);
    await validate(loader);
    const second = statSync(cache);
    // Written anew means renamed over: another inode.
    expect(second.ino).toBe(first.ino);
    expect(second.size).toBe(first.size);
  });

  for (const [what, spoil] of [
    ['an unaligned one (the earlier layout)', (tag: string, code: Buffer) => Buffer.concat([Buffer.from(`${tag}\n`), code])],
    ['one whose code V8 rejects', (tag: string, code: Buffer) => Buffer.concat([Buffer.from(`${tag}`.padEnd(127) + '\n'), Buffer.alloc(code.length, 7)])],
    ['one of another build', (tag: string, code: Buffer) => Buffer.concat([Buffer.from(`${tag.replace(/build [0-9a-f]{8}/, 'build 00000000')}`.padEnd(127) + '\n'), code])],
  ] as const) {
    it(`replaces ${what}, and the command runs all the same`, async () => {
      const { loader, cache } = bundleCopy();
      await validate(loader);
      const good = readFileSync(cache);
      const { tag, dataAt } = head(cache);
      writeFileSync(cache, spoil(tag, good.subarray(dataAt)));
      const spoilt = statSync(cache).ino;
      await validate(loader);
      const rewritten = statSync(cache).ino;
      expect(rewritten).not.toBe(spoilt);
      expect(head(cache)).toEqual({ tag, dataAt });
      // The new one is good: the next run keeps it.
      await validate(loader);
      expect(statSync(cache).ino).toBe(rewritten);
    });
  }
});
