// Start-up guard (issue 12): what a command loads, not how long it takes. `netlab --version` loads none of
// netlab's dependencies, nor the bundle; the verbs that only read lab files (validate, plan, show, list, graph, schema)
// load zod and yaml but not execa (started processes only), listr2 (run's progress) or junit-report-builder (test's
// report); the help loads yargs and nothing of a verb. The modules are recorded by a preload
// (test/fixtures/load-recorder): files Node loads, and the modules of the bundle (scripts/bundle.mjs) as its lazy
// initialisers run them. Needs no root and builds nothing; assumes `npm run build` ran (the `test` script does it).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers.js';

const RECORDER = join(ROOT, 'test/fixtures/load-recorder/record.cjs');
const dir = mkdtempSync(join(tmpdir(), 'netlab-startup-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Runs node with the recorder preloaded; its result, what it loaded (one a line), and the packages among them. */
async function loads(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; text: string; packages: Set<string> }> {
  const log = join(dir, `loads-${++runs}.txt`);
  const r = await execa('node', ['--require', RECORDER, ...args], { reject: false, cwd: ROOT, env: { NO_COLOR: '1', NETLAB_LOAD_LOG: log } });
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    /* nothing was loaded through a hook */
  }
  const packages = new Set([...text.matchAll(/(?:^|\/|bundle:)node_modules\/((?:@[^/\n]+\/)?[^/\n]+)\//gm)].map((m) => m[1] as string));
  return { exitCode: r.exitCode, stdout: r.stdout, text, packages };
}

/** esbuild's metafile of the bundle: its sources (paths relative to the checkout). */
const BUNDLE = JSON.parse(readFileSync(join(ROOT, 'dist/bundle/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };

const HEAVY = ['yargs', 'execa', 'zod', 'yaml', 'listr2', 'junit-report-builder'];

describe('start-up: what each command loads', () => {
  it('the recorder sees an ES module imported, a CommonJS module and an ES module required (else the checks below prove nothing)', async () => {
    const imported = await loads(['--input-type=module', '-e', "await import('zod')"]);
    expect([...imported.packages]).toContain('zod');
    const required = await loads(['-e', "require('yaml'); require('execa')"]);
    expect([...required.packages]).toEqual(expect.arrayContaining(['yaml', 'execa']));
  });

  it('netlab --version prints the version and loads no dependency, nor the bundle', async () => {
    const r = await loads([CLI, '--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(pkg.version);
    expect([...r.packages]).toEqual([]);
    expect(r.text).not.toMatch(/dist\/bundle\//);
  });

  it('the bundle runs no module before it is needed: all but the entry and what it imports itself are lazy', () => {
    const source = readFileSync(join(ROOT, 'dist/bundle/netlab.cjs'), 'latin1');
    const lazy = new Set([...source.matchAll(/__(?:esm|commonJS)\(\{"([^"]+)"/g)].map((m) => m[1] as string));
    const inputs = Object.keys(BUNDLE.outputs['dist/bundle/netlab.cjs']?.inputs ?? {});
    expect(inputs.length).toBeGreaterThan(100);
    // cli.ts imports errors.js and exit.js (which imports printable.js) itself; everything else waits for its verb.
    expect(inputs.filter((i) => !lazy.has(i)).filter((i) => !['dist/cli.unbundled.js', 'dist/exit.js', 'dist/errors.js', 'dist/printable.js'].includes(i))).toEqual([]);
  });

  it('netlab --help loads yargs, none of a verb\'s packages', async () => {
    const r = await loads([CLI, '--help']);
    expect(r.exitCode).toBe(0);
    expect([...r.packages]).toContain('yargs');
    expect([...r.packages].filter((p) => HEAVY.includes(p))).toEqual(['yargs']);
  });

  // veth-routing has no nftables rules and no captures: validate starts no process for it (nft -c, tcpdump -d).
  for (const args of [['validate', 'veth-routing'], ['plan', 'veth-routing'], ['show', 'host-only'], ['graph', 'host-only'], ['list'], ['schema']]) {
    it(`netlab ${args.join(' ')} loads zod and yaml, not execa, listr2 or junit-report-builder`, async () => {
      const r = await loads([CLI, ...args]);
      expect(r.exitCode).toBe(0);
      expect([...r.packages]).toEqual(expect.arrayContaining(['yargs', 'zod', 'yaml']));
      expect([...r.packages].filter((p) => ['execa', 'listr2', 'junit-report-builder'].includes(p))).toEqual([]);
    });
  }
});
