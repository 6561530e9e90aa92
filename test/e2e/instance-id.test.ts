// Every command that takes an instance id refuses a bad one the same way, first: exit 2, one message, nothing
// printed to stdout, nothing created. Needs no root (nothing is built); assumes `npm run build` ran.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netlab } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-id-'));
const marker = join(dir, 'pwned');
const bad = `a;touch ${marker}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const namespaces = () => {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('netlab-a'));
  } catch {
    return [];
  }
};

describe('a bad instance id', () => {
  it.each([
    ['run', ['run', 'veth-routing', '-i', bad]],
    ['up', ['up', 'veth-routing', '-i', bad]],
    ['plan', ['plan', 'veth-routing', '-i', bad]],
    ['plan --teardown', ['plan', 'veth-routing', '--teardown', '-i', bad]],
    ['check', ['check', bad]],
    ['down', ['down', bad]],
    ['exec', ['exec', bad, 'ns1', '--', 'true']],
  ])('is refused by %s with exit 2 before anything else', async (_, args) => {
    const before = namespaces();
    const r = await netlab(args, { env: { NETLAB_STATE_DIR: dir } });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`instance id ${JSON.stringify(bad)} is not valid`);
    expect(existsSync(marker)).toBe(false);
    expect(namespaces()).toEqual(before);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('given twice is refused too', async () => {
    const r = await netlab(['plan', 'veth-routing', '-i', 'a', '-i', 'b']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('give the instance id once');
  });

  it('a path is not looked up as a state record', async () => {
    const r = await netlab(['down', '../../etc/passwd'], { env: { NETLAB_STATE_DIR: dir } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('instance id "../../etc/passwd" is not valid');
  });
});
