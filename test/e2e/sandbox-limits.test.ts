// --sandbox limits (runner/limits.ts): a boxed lab lives in a `netlab-<instance>` cgroup with a cap on its processes
// and memory, so a fork bomb or a memory hog in it stops at the cap; `run --sandbox` has a time limit. After the
// lab, its cgroups are gone and nothing of it is left.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeLab, isRoot, itRootOnly, netlab, tempDir, waitFor, processesWith, results, STATE } from './helpers.js';

interface Rec {
  sandbox?: { supervisor: { pid: number }; limits?: { kind: string; dirs: string[]; maxPids: number; maxMemory: number } };
}
const record = (id: string) => JSON.parse(readFileSync(`${STATE}/${id}.json`, 'utf8')) as Rec;


/** "key value" lines of a cgroup file (pids.events, memory.events, memory.stat). */
function counters(file: string): Record<string, number> {
  return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => { const [k, v] = l.split(' '); return [k, Number(v)]; }));
}


describeLab('--sandbox limits (real cgroups)', () => {
  const dir = tempDir('netlab-limits-');

  itRootOnly('cgroups: this machine mounts v1 as root, not writable by a user (who gets rlimits)')('a fork bomb in a boxed lab stops at --max-pids; every process of the lab is in the cgroup; down removes it', async () => {
    const id = 'e2e-lim-fork';
    const marker = `1000.${process.pid}1`;
    const lab = join(dir, 'fork.yaml');
    writeFileSync(
      lab,
      'name: fork\nnodes:\n  a: {}\nchecks:\n' +
        `  - { kind: cmd, name: bomb, node: a, shell: 'i=0; while [ $i -lt 300 ]; do sleep ${marker} </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo survived' }\n`,
    );
    const up = await netlab(['up', lab, '-i', id, '--sandbox', '--max-pids', '64', '--check', '-f', 'json', '-q']);
    try {
      // The bomb could not start its 300 sleeps: the shell's fork failed.
      expect(up.exitCode, up.stderr).toBe(1);
      expect(results(up.stdout).map((r) => r.got)).toEqual(['fail']);
      const limits = record(id).sandbox?.limits;
      expect(limits?.kind).toMatch(/^cgroup-v[12]$/);
      const pidsDir = limits!.dirs.find((d) => existsSync(join(d, 'pids.max')))!;
      expect(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim()).toBe('64');
      // The kernel refused forks at the cap, and the count never went past it.
      expect(counters(join(pidsDir, 'pids.events')).max).toBeGreaterThan(0);
      expect(Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8'))).toBeLessThanOrEqual(64);
      // Every sleep the bomb did start is in the instance's cgroup, as is the supervisor.
      const inside = new Set(readFileSync(join(pidsDir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number));
      const sleeps = processesWith(marker);
      expect(sleeps.length).toBeGreaterThan(0);
      expect(sleeps.filter((p) => !inside.has(p))).toEqual([]);
      expect(inside.has(record(id).sandbox!.supervisor.pid)).toBe(true);
      // The machine is fine: netlab itself still starts and answers.
      expect((await netlab(['status'])).exitCode).toBe(0);
    } finally {
      const down = await netlab(['down', id]);
      expect(down.exitCode, down.stderr).toBe(0);
    }
    await waitFor(() => processesWith(marker).length === 0, { timeoutMs: 5000 });
    expect(processesWith(marker)).toEqual([]);
    expect(existsSync(`${STATE}/${id}.json`)).toBe(false);
  });

  itRootOnly('cgroups: this machine mounts v1 as root, not writable by a user (who gets rlimits)')('a memory hog in a boxed lab is held to --max-memory (the kernel kills it in the cgroup)', async () => {
    const id = 'e2e-lim-mem';
    const lab = join(dir, 'mem.yaml');
    // tail keeps the whole "last line" (300 MiB without a newline) in memory.
    writeFileSync(lab, "name: mem\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, name: hog, node: a, shell: 'head -c 300M /dev/zero | tail -n 1 | wc -c', stdout: '^314572800' }\n  - { kind: cmd, name: small, node: a, shell: 'head -c 1M /dev/zero | tail -n 1 | wc -c', stdout: '^1048576' }\n");
    const up = await netlab(['up', lab, '-i', id, '--sandbox', '--max-memory', '64M', '--check', '-f', 'json', '-q']);
    let dirs: string[] = [];
    try {
      expect(up.exitCode, up.stderr).toBe(1);
      expect(results(up.stdout).map((r) => [r.name, r.got])).toEqual([['hog', 'fail'], ['small', 'pass']]);
      const limits = record(id).sandbox!.limits!;
      dirs = limits.dirs;
      expect(limits.maxMemory).toBe(64 * 1024 ** 2);
      const memDir = dirs.find((d) => existsSync(join(d, 'memory.limit_in_bytes')) || existsSync(join(d, 'memory.max')))!;
      if (limits.kind === 'cgroup-v2') {
        expect(counters(join(memDir, 'memory.events')).oom_kill).toBeGreaterThan(0);
      } else {
        expect(Number(readFileSync(join(memDir, 'memory.limit_in_bytes'), 'utf8'))).toBe(64 * 1024 ** 2);
        expect(counters(join(memDir, 'memory.oom_control')).oom_kill).toBeGreaterThan(0);
        expect(Number(readFileSync(join(memDir, 'memory.max_usage_in_bytes'), 'utf8'))).toBeLessThanOrEqual(64 * 1024 ** 2);
      }
    } finally {
      const down = await netlab(['down', id]);
      expect(down.exitCode, down.stderr).toBe(0);
    }
    expect(dirs.length).toBeGreaterThan(0);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  });

  it('run --sandbox --time-limit: past it the sandbox is killed, exit 3, nothing is left', async () => {
    const id = 'e2e-lim-time';
    const marker = `1000.${process.pid}2`;
    const lab = join(dir, 'slow.yaml');
    writeFileSync(lab, `name: slow\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, name: slow, node: a, argv: [sleep, "${marker}"], timeout: 10m }\n`);
    const r = await netlab(['run', lab, '-i', id, '--sandbox', '--time-limit', '2s', '-q']);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/time limit/);
    expect(processesWith(marker)).toEqual([]);
    expect(existsSync(`${STATE}/${id}.json`)).toBe(false);
    // No cgroup of the instance anywhere netlab makes them.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    const { strayCgroups } = await import('../../src/runner/limits.js');
    expect(strayCgroups((i) => i === id, mounts)).toEqual([]);
  });

  itRootOnly('it makes cgroups in the root-owned v1 hierarchies')('cleanup INSTANCE removes the empty cgroups of a sandbox whose record is gone, and only those', async () => {
    const { plannedLimits, DEFAULT_LIMITS } = await import('../../src/runner/limits.js');
    const stray = plannedLimits('e2e-lim-stray', DEFAULT_LIMITS).dirs;
    const other = plannedLimits('e2e-lim-other', DEFAULT_LIMITS).dirs;
    for (const d of [...stray, ...other]) mkdirSync(d);
    try {
      const r = await netlab(['cleanup', 'e2e-lim-stray']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/cgroups of gone sandboxes/);
      expect(stray.filter((d) => existsSync(d))).toEqual([]);
      expect(other.filter((d) => existsSync(d))).toEqual(other);
    } finally {
      for (const d of [...stray, ...other]) if (existsSync(d)) rmdirSync(d);
    }
  });

  it('--max-pids without --sandbox is a usage error (exit 2), nothing created', async () => {
    // Without root every run is boxed: --sandbox is implied, so only root can leave it out.
    if (isRoot) {
      const r = await netlab(['run', 'veth-routing', '-i', 'e2e-lim-usage', '--max-pids', '64'], { plain: true });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/needs --sandbox/);
    }
    const bad = await netlab(['run', 'veth-routing', '-i', 'e2e-lim-usage', '--sandbox', '--max-memory', 'lots']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--max-memory takes a size/);
    expect(existsSync(`${STATE}/e2e-lim-usage.json`)).toBe(false);
  });
});
