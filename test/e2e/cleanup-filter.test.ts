// `netlab cleanup INSTANCE…` and `--prefix P` remove only the instances (and stray namespaces) they select.
// Safe beside other tests: every cleanup here is restricted to this file's own instances.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { describeLab, instanceNamespaces, itRootOnly, netlab, STATE } from './helpers.js';

const tag = randomBytes(3).toString('hex');
const prefix = `e2e-cf${tag}-`;
const a = `${prefix}a`;
const b = `${prefix}b`;
const stray = `${prefix}s`;
/** Not selected by the prefix (no dash after the tag), though it starts with the same letters. */
const other = `e2e-cf${tag}x`;
const record = (id: string) => `${STATE}/${id}.json`;
const unrecorded = `${prefix}u`;

/**
 * pids whose command line mentions the instance's run directory (the service server's --log file is in it).
 * `lab`: only the lab's own processes, not the `nsenter -t SUPERVISOR` that waits for one of a boxed lab.
 */
function processesOf(id: string, which: 'all' | 'lab' = 'all'): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return argv.includes(`${STATE}/${id}/`) && (which === 'all' || argv.split('\0')[0] !== 'nsenter');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describeLab('cleanup restricted to some instances (real namespaces)', () => {
  afterAll(async () => {
    await netlab(['cleanup', a, b, stray, other, unrecorded]);
    // Should this file's last test fail, the server it started must not outlive the suite.
    for (const pid of processesOf(unrecorded)) process.kill(pid, 'SIGKILL');
  });

  itRootOnly("a `netlab plan` script builds plain named namespaces in the host's /run/netns")('removes only the instances named, or those with the prefix, and leaves the others', async () => {
    for (const id of [a, b, other]) expect((await netlab(['up', 'veth-routing', '-i', id, '-q'])).exitCode).toBe(0);
    // A stray namespace of the prefix: built by a `netlab plan` script, so no state record owns it.
    const plan = await netlab(['plan', 'veth-routing', '-i', stray]);
    await execa('bash', ['-c', plan.stdout]);
    expect(instanceNamespaces(stray)).toHaveLength(3);

    const dry = await netlab(['cleanup', '--dry-run', a]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stderr).toContain(`instance ${a} `);
    expect(dry.stderr).not.toContain(b);
    expect(dry.stderr).not.toContain(stray);
    expect(instanceNamespaces(a)).toHaveLength(3);

    const one = await netlab(['cleanup', a]);
    expect(one.exitCode).toBe(0);
    expect(one.stderr).toContain('removed 1 instances, 3 namespaces');
    expect(instanceNamespaces(a)).toEqual([]);
    expect(existsSync(record(a))).toBe(false);
    expect(instanceNamespaces(b)).toHaveLength(3);
    expect(existsSync(record(b))).toBe(true);

    const some = await netlab(['cleanup', '--prefix', prefix]);
    expect(some.exitCode).toBe(0);
    expect(some.stderr).toContain(`instance ${b} `);
    expect(some.stderr).toContain(`stray namespaces: netlab-${stray}-`);
    expect(some.stderr).not.toContain(other);
    expect(instanceNamespaces(b)).toEqual([]);
    expect(instanceNamespaces(stray)).toEqual([]);
    expect(instanceNamespaces(other)).toHaveLength(3);
    expect(existsSync(record(other))).toBe(true);

    expect((await netlab(['cleanup', '--prefix', prefix])).stderr).toContain('nothing to remove');
    const last = await netlab(['cleanup', other]);
    expect(last.stderr).toContain(`instance ${other} `);
    expect(instanceNamespaces(other)).toEqual([]);
  }, 180_000); // eight netlab commands, three of them `up`: a minute on a loaded 2-core machine

  it('refuses an instance id or prefix no instance can have, and removes nothing', async () => {
    const badPrefix = await netlab(['cleanup', '--prefix', 'A;rm']);
    expect(badPrefix.exitCode).toBe(2);
    expect(badPrefix.stderr).toContain('--prefix "A;rm" is not the start of a valid instance id');
    const badId = await netlab(['cleanup', '../x']);
    expect(badId.exitCode).toBe(2);
    expect(badId.stderr).toContain('instance id "../x" is not valid');
  });

  it('stops a lab process the state record does not list (netlab killed before it recorded it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-test-'));
    try {
      const lab = join(dir, 'svc.yaml');
      writeFileSync(lab, 'name: svc\nnodes:\n  a:\n    services: [{ kind: http, port: 80 }]\n');
      expect((await netlab(['up', lab, '-i', unrecorded, '-q'])).exitCode).toBe(0);
      expect(processesOf(unrecorded, 'lab')).toHaveLength(1);
      // What a kill -9 between starting the server and writing its pid into the record leaves behind.
      const rec = JSON.parse(readFileSync(record(unrecorded), 'utf8')) as { processes: unknown[] };
      expect(rec.processes).toHaveLength(1);
      writeFileSync(record(unrecorded), JSON.stringify({ ...rec, processes: [] }));
      const r = await netlab(['cleanup', unrecorded]);
      expect(r.exitCode).toBe(0);
      expect(instanceNamespaces(unrecorded)).toEqual([]);
      expect(processesOf(unrecorded)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
