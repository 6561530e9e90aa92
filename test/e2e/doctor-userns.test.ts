// `doctor` probes unprivileged user namespaces for real, as a uid without privileges: as root through setpriv (uid
// 65534), as that uid directly, and inside a user namespace whose limit forbids them (the blocked answer, with the
// setting that blocks it and the fix). The exit code never follows this answer.
import { existsSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { CLI, describeRootOnly, instanceNamespaces, netlab, recordFile, ROOT } from './helpers.js';

interface Report {
  ok: boolean;
  userns: { allowed: boolean; status: string; probedAs: number | null; probe: string; reason?: string; blockedBy: { setting: string; value: string; fix: string[] }[] };
}
const DROP = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

/** Whether uid 65534 can have its own user, net and mount namespaces here, tried independently of netlab. */
const independent = (await execa(DROP[0] as string, [...DROP.slice(1), 'unshare', '--user', '--map-root-user', '--net', '--mount', '--', 'true'], { reject: false })).exitCode === 0;

describeRootOnly('doctor as root: it probes through setpriv as uid 65534 and writes a user namespace\'s uid_map')('doctor: unprivileged user namespaces', () => {
  it('as root: probed as uid 65534 (the kernel\'s uid map says so), the same answer as an independent try', async () => {
    const r = await netlab(['doctor', '--json']);
    const out = JSON.parse(r.stdout) as Report;
    expect(r.exitCode).toBe(out.ok ? 0 : 3);
    expect(out.userns.probe).toMatch(/^setpriv --reuid=65534 .* -- unshare --user --map-root-user --net --mount -- cat \/proc\/self\/uid_map; then ip link add name nlu0 type veth/);
    expect(out.userns.status).toBe(independent ? 'allowed' : 'blocked');
    expect(out.userns.allowed).toBe(independent);
    // From the uid map inside the namespace: root there is 65534 outside, not 0.
    expect(out.userns.probedAs).toBe(65534);
    const text = await netlab(['doctor']);
    expect(text.exitCode).toBe(r.exitCode);
    if (independent) expect(text.stdout).toMatch(/^✔ unprivileged user namespaces: allowed \(probed as uid 65534\) — needed for running without root \(every lab boxed in a user namespace of its own\)$/m);
  });

  it('as uid 65534: probed directly as itself', async () => {
    const r = await execa(DROP[0] as string, [...DROP.slice(1), process.execPath, CLI, 'doctor', '--json'], { reject: false, cwd: '/', env: { NO_COLOR: '1' } });
    const out = JSON.parse(r.stdout) as Report;
    expect(out.userns.probe).toMatch(/^unshare --user /);
    expect(out.userns.status).toBe(independent ? 'allowed' : 'blocked');
    expect(out.userns.probedAs).toBe(65534);
  });

  it.skipIf(!independent)('where user.max_user_namespaces is 0: blocked, naming that setting and the fix; the exit code is unchanged', async () => {
    const root = JSON.parse((await netlab(['doctor', '--json'])).stdout) as Report;
    // A user namespace of its own (uids 0-65535 mapped to themselves) whose limit is 0: only it and what runs in it
    // see that limit; the machine's own setting is never written.
    // The first sh waits for the map; the second, started as uid 0 of that namespace, has its capabilities there.
    const inner = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$1" doctor --json';
    const child = execa('unshare', ['--user', '--', 'sh', '-c', 'echo ready; read go && exec "$0" "$@"', 'sh', '-c', inner, process.execPath, CLI], {
      reject: false, cwd: ROOT, env: { NO_COLOR: '1' }, stdin: 'pipe',
    });
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    for (const f of ['uid_map', 'gid_map']) writeFileSync(`/proc/${child.pid}/${f}`, '0 0 65536\n');
    child.stdin?.end('go\n');
    const r = await child;
    expect(r.stderr).toBe('');
    const out = JSON.parse(String(r.stdout).replace(/^ready\n/, '')) as Report;
    expect(out.userns).toMatchObject({ allowed: false, status: 'blocked', probedAs: 65534 });
    expect(out.userns.reason).toMatch(/^unshare: unshare failed: No space left on device/);
    expect(out.userns.blockedBy).toEqual([{ setting: 'user.max_user_namespaces', value: '0', fix: [expect.stringMatching(/^sysctl -w user\.max_user_namespaces=\d+$/), expect.stringContaining('/etc/sysctl.d/')] }]);
    expect(r.exitCode).toBe(out.ok ? 0 : 3);
    expect(out.ok).toBe(root.ok);
  });
});

// Root with every capability dropped: what a container started without --privileged gives (Docker's default set
// has neither CAP_NET_ADMIN nor CAP_SYS_ADMIN). doctor must say it is root without them, not "needs root"; the
// user-namespace probe is not tried (root without CAP_SETUID cannot drop to uid 65534); run stops before anything.
const CAPLESS = ['setpriv', '--bounding-set=-all', '--inh-caps=-all', '--'];
describeRootOnly('only root can be root without capabilities')('root without capabilities (a container without --privileged)', () => {
  it('doctor says root lacks CAP_NET_ADMIN and CAP_SYS_ADMIN, names both ways out, exits 3', async () => {
    const json = await execa(CAPLESS[0] as string, [...CAPLESS.slice(1), process.execPath, CLI, 'doctor', '--json'], { reject: false, cwd: ROOT, env: { NO_COLOR: '1' } });
    expect(json.exitCode).toBe(3);
    const out = JSON.parse(json.stdout) as Report & { root: boolean; privileged: boolean; labs: { lab: string; ok: boolean; missing: string[] }[]; kernel: { status: string; hint?: string }[] };
    expect(out).toMatchObject({ ok: false, root: true, privileged: false });
    expect(out.userns).toMatchObject({ allowed: false, status: 'unknown', probedAs: null });
    expect(out.userns.reason).toMatch(/^not probed: root without CAP_SETUID/);
    // Nothing was probed, so nothing is said to be missing from the kernel.
    expect(out.kernel.every((k) => k.status === 'unknown' && k.hint === undefined)).toBe(true);
    expect(out.labs.find((l) => l.lab === 'veth-routing')).toEqual({ lab: 'veth-routing', ok: false, missing: ['CAP_NET_ADMIN and CAP_SYS_ADMIN (or a user other than root)'] });
    const text = await execa(CAPLESS[0] as string, [...CAPLESS.slice(1), process.execPath, CLI, 'doctor'], { reject: false, cwd: ROOT, env: { NO_COLOR: '1' } });
    expect(text.exitCode).toBe(3);
    expect(text.stdout).toMatch(/^✘ privileges: root, but without CAP_NET_ADMIN and CAP_SYS_ADMIN \(a container started without --privileged\?\): .*docker run --privileged.*docker run --user 1000:1000/m);
    expect(text.stdout).not.toMatch(/setresuid/);
  });

  it('run stops before building, saying the same, and creates nothing', async () => {
    const instance = `capless-${process.pid}`;
    const r = await execa(CAPLESS[0] as string, [...CAPLESS.slice(1), process.execPath, CLI, 'run', 'veth-routing', '-i', instance, '-q'], { reject: false, cwd: ROOT, env: { NO_COLOR: '1' } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/netlab runs as root but without CAP_NET_ADMIN and CAP_SYS_ADMIN, which building labs as root needs/);
    expect(r.stderr).toMatch(/docker run --user 1000:1000/);
    expect(existsSync(recordFile(instance))).toBe(false);
    expect(instanceNamespaces(instance)).toEqual([]);
  });
});
