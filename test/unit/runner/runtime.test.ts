// The runtime seam: plain changes nothing; the sandbox enters the supervisor before every argv, never a dead one.
import { describe, expect, it } from 'vitest';
import { cannotRun } from '../../../src/checks/index.js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BOX_PKG, boxPath, currentRuntime, PLAIN, procStart, runtimeOf, sandboxRuntime, withRuntime } from '../../../src/runner/runtime.js';

const ROOT = resolve(import.meta.dirname, '../../..');

const me = { supervisor: { pid: process.pid, start: procStart(process.pid) ?? '' } };

describe('runtime', () => {
  it('plain: argv and paths as they are', () => {
    const argv = ['nsenter', '--net=/run/netns/netlab-x-a', '--', 'ip', 'route'];
    expect(PLAIN.argv(argv, { ownSys: true, parentDeath: 'INT' })).toEqual(argv);
    expect(PLAIN.hostPath('/run/netns/x')).toBe('/run/netns/x');
    expect(PLAIN.labPid(42)).toBe(42);
    expect(runtimeOf({})).toBe(PLAIN);
  });

  it('sandbox: every argv enters the supervisor, its child dies with nsenter, a node command gets its own /sys', () => {
    const rt = sandboxRuntime(me);
    const pid = String(process.pid);
    expect(rt.argv(['ip', '-batch', '-'])).toEqual(['nsenter', '-t', pid, '--user', '--mount', '--pid', '--net', '--ipc', '--uts', `--wdns=${process.cwd()}`, '--', 'setpriv', '--pdeathsig=KILL', '--', 'ip', '-batch', '-']);
    expect(rt.argv(['tcpdump'], { parentDeath: 'INT' })).toContain('--pdeathsig=INT');
    const inNode = ['nsenter', '--net=/run/netns/netlab-x-a', '--', 'ls', '/sys/class/net'];
    // The node's namespace is opened inside the sandbox, never through /proc/PID/root on the host (a symlink the
    // lab puts in its /run/netns would resolve to the host's namespace there).
    expect(rt.argv(inNode).slice(-5)).toEqual(inNode);
    expect(rt.argv(inNode).some((a) => a.includes('/root/'))).toBe(false);
    expect(rt.argv(inNode, { ownSys: true }).slice(14)).toEqual(['ip', 'netns', 'exec', 'netlab-x-a', 'ls', '/sys/class/net']);
    expect(rt.hostPath('/run/netns/netlab-x-a')).toBe(`/proc/${pid}/root/run/netns/netlab-x-a`);
    expect(runtimeOf({ sandbox: me }).kind).toBe('sandbox');
  });

  it("sandbox: processes start in the work directory, see netlab's files where the box has them, enter in two steps unprivileged", () => {
    const pid = String(process.pid);
    const rt = sandboxRuntime({ ...me, work: '/run/netlab/x' });
    const server = join(ROOT, 'dist/services/server.js');
    const argv = rt.argv(['node', server, '--node', 'a']);
    expect(argv).toContain('--wdns=/run/netlab/x');
    expect(argv.slice(-4)).toEqual(['node', `${BOX_PKG}/dist/services/server.js`, '--node', 'a']);
    // An unprivileged user's box: the pid namespace belongs to stage 1's user namespace (the supervisor's fd 3).
    const user = sandboxRuntime({ ...me, work: '/w', unprivileged: true }).argv(['true']);
    expect(user).toEqual(['nsenter', '--preserve-credentials', `--user=/proc/${pid}/fd/3`, `--pid=/proc/${pid}/ns/pid`, '--', 'nsenter', '--preserve-credentials', '-t', pid, '--user', '--mount', '--net', '--ipc', '--uts', '--wdns=/w', '--', 'setpriv', '--pdeathsig=KILL', '--', 'true']);
  });

  it('sandbox: a supervisor that ended (or whose pid is another process now) is never entered', async () => {
    const gone = sandboxRuntime({ supervisor: { pid: process.pid, start: 'not-its-start' } });
    expect(() => gone.argv(['true'])).toThrow(/sandbox is gone/);
    expect(await gone.listNamespaces()).toEqual([]);
  });

  it('withRuntime scopes the runtime across awaits; outside it is plain', async () => {
    const rt = sandboxRuntime(me);
    const seen = await withRuntime(rt, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentRuntime();
    });
    expect(seen).toBe(rt);
    expect(currentRuntime()).toBe(PLAIN);
  });

  it("the sandbox's wrappers' complaints mean the check could not run, as nsenter's do", () => {
    expect(cannotRun('setpriv: failed to execute tcpdump: No such file or directory')).toBe('tcpdump is missing (package tcpdump; netlab doctor)');
    expect(cannotRun('exec of "dig" failed: No such file or directory')).toBe('dig is missing (package bind9-dnsutils; netlab doctor)');
    expect(cannotRun('Cannot open network namespace "netlab-x-a": No such file or directory')).toMatch(/^namespace netlab-x-a is gone/);
  });
});

describe('boxPath', () => {
  it("keeps what the box sees and may search, then the system's directories", () => {
    // /tmp and /run are the box's own; /root is not searchable by the box's uid as root (mode 0700 on Debian).
    expect(boxPath('/tmp/x/bin:/usr/bin:/run/user/1/bin:relative', true)).toBe('/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin');
    // A directory only its owner may enter (as /root is), in a folder everyone may enter and the box sees (/var/tmp,
    // not /tmp): left out for the box's uid, kept for a user's own box (whose root is that user).
    const closed = mkdtempSync('/var/tmp/netlab-boxpath-');
    try {
      chmodSync(closed, 0o700);
      expect(boxPath(`/usr/local/bin:${closed}/bin`, false)).not.toContain(closed);
      expect(boxPath(`/usr/local/bin:${closed}/bin`, true).split(':').slice(0, 2)).toEqual(['/usr/local/bin', `${closed}/bin`]);
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});

describe('startSandbox: hidden paths', () => {
  it('refuses to hide what holds the work directory, netlab or node, before starting anything', async () => {
    const { startSandbox } = await import('../../../src/runner/runtime.js');
    const work = join(mkdtempSync(join(ROOT, '.tmp-hide-')), 'work');
    try {
      for (const bad of ['/', work, resolve(work, '..'), ROOT, resolve(process.execPath, '..'), `${ROOT}/x\ny`]) {
        await expect(startSandbox('run', work, 1000, undefined, [bad]), bad).rejects.toThrow(/cannot hide|bad/);
      }
    } finally {
      rmSync(resolve(work, '..'), { recursive: true, force: true });
    }
  });
});
