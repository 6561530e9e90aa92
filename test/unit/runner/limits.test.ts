// The pure parts of runner/limits.ts: finding the cgroup controllers, where an instance's cgroups go, the wrapper
// argv, and the sizes and durations of --max-memory and --time-limit.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { limitArgv, parseDuration, parseMountinfo, parseProcCgroup, parseSize, plannedLimits } from '../../../src/runner/limits.js';

// This machine's shape: cgroup v1 controllers as root, a hybrid unified mount with no controllers in it.
const HYBRID = [
  '22 1 0:20 / /sys rw,nosuid - sysfs sysfs rw',
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_SELF = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n';

describe('parseMountinfo', () => {
  it('finds the pids and memory v1 hierarchies and the v2 mount', () => {
    expect(parseMountinfo(HYBRID)).toEqual({
      v1: { pids: { mount: '/sys/fs/cgroup/pids', root: '/' }, memory: { mount: '/sys/fs/cgroup/memory', root: '/' } },
      v2: { mount: '/sys/fs/cgroup/unified', root: '/' },
    });
  });
  it('finds controllers mounted together, and unescapes mount points', () => {
    const m = parseMountinfo('50 1 0:40 /x /mnt/my\\040cg rw - cgroup cg rw,memory,pids\n');
    expect(m.v1).toEqual({ memory: { mount: '/mnt/my cg', root: '/x' }, pids: { mount: '/mnt/my cg', root: '/x' } });
    expect(m.v2).toBeUndefined();
  });
  it('a pure v2 machine has no v1 controllers', () => {
    expect(parseMountinfo('35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n')).toEqual({ v1: {}, v2: { mount: '/sys/fs/cgroup', root: '/' } });
  });
});

describe('parseProcCgroup', () => {
  it('maps each controller (and "" for v2) to its path', () => {
    const m = parseProcCgroup('5:cpu,cpuacct:/a\n4:memory:/process_api/abc\n0::/user.slice\n');
    expect([...m]).toEqual([['cpu', '/a'], ['cpuacct', '/a'], ['memory', '/process_api/abc'], ['', '/user.slice']]);
  });
});

describe('plannedLimits', () => {
  const s = { maxPids: 64, maxMemory: 1 << 26 };
  it('v1: one netlab-<instance> cgroup per controller, under netlab\'s own cgroup there', () => {
    expect(plannedLimits('lab1', s, HYBRID, HYBRID_SELF, () => true)).toEqual({
      kind: 'cgroup-v1',
      dirs: ['/sys/fs/cgroup/pids/netlab-lab1', '/sys/fs/cgroup/memory/process_api/abc/netlab-lab1'],
      ...s,
    });
  });
  it('rlimits where the cgroups are there but not this user\'s to write (netlab without root, v1 or v2 not delegated)', () => {
    const seen: string[] = [];
    const no = (dir: string) => (seen.push(dir), false);
    expect(plannedLimits('lab1', s, HYBRID, HYBRID_SELF, no)).toEqual({ kind: 'rlimit', dirs: [], ...s });
    expect(seen).toEqual(['/sys/fs/cgroup/pids/']);
  });
  it('rlimits where neither v1 controllers nor a delegated v2 are there', () => {
    expect(plannedLimits('lab1', s, '1 0 0:1 / / rw - ext4 /dev/sda rw\n', '0::/\n')).toEqual({ kind: 'rlimit', dirs: [], ...s });
  });
  it('refuses an instance id that is not one (no path tricks)', () => {
    expect(() => plannedLimits('../x', s, HYBRID, HYBRID_SELF)).toThrow(UsageError);
  });
});

describe('limitArgv', () => {
  it('cgroups: fixed shell text, the cgroup.procs paths as arguments, then -- and the command', () => {
    const argv = limitArgv({ kind: 'cgroup-v1', dirs: ['/c/pids/netlab-a', '/c/memory/netlab-a'], maxPids: 8, maxMemory: 1 });
    expect(argv).toEqual(['sh', '-c', expect.stringContaining('exec "$@"'), 'netlab-limits', '/c/pids/netlab-a/cgroup.procs', '/c/memory/netlab-a/cgroup.procs', '--']);
  });
  it('rlimits: prlimit, and nothing without limits', () => {
    expect(limitArgv({ kind: 'rlimit', dirs: [], maxPids: 64, maxMemory: 1024 })).toEqual(['prlimit', '--nproc=64', '--as=1024', '--']);
    expect(limitArgv(undefined)).toEqual([]);
    // The sandbox's launcher: no address-space cap on Node itself (it puts it on what it starts).
    expect(limitArgv({ kind: 'rlimit', dirs: [], maxPids: 64, maxMemory: 1024 }, true)).toEqual(['prlimit', '--nproc=64', '--']);
  });
});

describe('parseSize / parseDuration', () => {
  it('sizes in binary units', () => {
    expect(parseSize('1G')).toBe(1024 ** 3);
    expect(parseSize('512m')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('67108864')).toBe(1 << 26);
  });
  it('refuses nonsense and sizes too small to start a shell', () => {
    for (const bad of ['lots', '', '-1G', '1X', '1K', '1e9']) expect(() => parseSize(bad), bad).toThrow(UsageError);
  });
  it('durations', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('45')).toBe(45_000);
    for (const bad of ['0s', '', 'soon', '1d', '10 m', '600h']) expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });
});

describe('limitHits', () => {
  it('counts refused forks and OOM kills from the cgroup files (v1 and v2), none with rlimits', async () => {
    const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { limitHits } = await import('../../../src/runner/limits.js');
    const d = mkdtempSync(join(tmpdir(), 'netlab-hits-'));
    try {
      const [pids, mem, v2] = ['pids', 'memory', 'v2'].map((n) => join(d, n)) as [string, string, string];
      for (const x of [pids, mem, v2]) mkdirSync(x);
      writeFileSync(join(pids, 'pids.events'), 'max 17\n');
      writeFileSync(join(mem, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
      expect(limitHits({ kind: 'cgroup-v1', dirs: [pids, mem] })).toEqual({ pids: 17, oom: 2 });
      writeFileSync(join(v2, 'pids.events'), 'max 0\n');
      writeFileSync(join(v2, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
      expect(limitHits({ kind: 'cgroup-v2', dirs: [v2] })).toEqual({ pids: 0, oom: 1 });
      expect(limitHits({ kind: 'rlimit', dirs: [] })).toEqual({ pids: 0, oom: 0 });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
