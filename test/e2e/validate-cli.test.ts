// `netlab validate` on every broken fixture: exit 2, the first problem as file:line:col, and nothing created.
// Needs no root and builds nothing; assumes `npm run build` ran (the `test` script does it).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const INVALID = 'test/fixtures/invalid';

const fixtures = readdirSync(join(ROOT, INVALID))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** netlab's namespaces present now (a missing /run/netns counts as none). */
function netlabNamespaces(): Set<string> {
  try {
    return new Set(readdirSync('/run/netns').filter((n) => n.startsWith('netlab-')));
  } catch {
    return new Set();
  }
}

/** `LINE:COL` of the first expected problem of a fixture. */
function firstPosition(fixture: string): string {
  const first = readFileSync(join(ROOT, INVALID, fixture.replace(/\.yaml$/, '.expected.txt')), 'utf8').split('\n')[0] ?? '';
  const m = /^(\d+:\d+)  /.exec(first);
  if (!m) throw new Error(`${fixture}: first expected line has no LINE:COL: ${JSON.stringify(first)}`);
  return m[1] as string;
}

// State records would land here if validate ever built something; it must stay empty.
const stateDir = mkdtempSync(join(tmpdir(), 'netlab-validate-state-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('netlab validate <invalid fixture>', () => {
  it('has fixtures to run', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  it.each(fixtures)('%s: exit 2, first problem at file:line:col, no namespace created', async (fixture) => {
    const path = `${INVALID}/${fixture}`;
    const before = netlabNamespaces();
    const r = await execa('node', [CLI, 'validate', path], {
      reject: false,
      cwd: ROOT,
      env: { NO_COLOR: '1', NETLAB_STATE_DIR: stateDir },
    });
    const created = [...netlabNamespaces()].filter((n) => !before.has(n));

    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${path}:${firstPosition(fixture)}  `);
    // Other e2e files (as root) build their own labs at the same time; a namespace this validate made would be
    // named after the fixture's lab (fixtures are named like their file), so only those count here. The
    // suite-wide leak check (test/global-setup.ts) and the state directory catch anything else.
    expect(created.filter((n) => n.startsWith(`netlab-${fixture.replace(/\.yaml$/, '')}`))).toEqual([]);
    expect(readdirSync(stateDir)).toEqual([]);
  });
});
