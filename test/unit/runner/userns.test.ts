// The user-namespace verdict of `doctor`: which settings block them (from fake file contents, every combination),
// the uid the kernel's map shows, and how probe failures are told apart from the kernel's no.
import { describe, expect, it } from 'vitest';
import { mappedRootUid, USERNS_SETTINGS, usernsBlockers, usernsProbeArgv, usernsResult, type UsernsBlocker } from '../../../src/runner/features.js';

const CLONE = '/proc/sys/kernel/unprivileged_userns_clone';
const APPARMOR = '/proc/sys/kernel/apparmor_restrict_unprivileged_userns';
const MAX = '/proc/sys/user/max_user_namespaces';
/** A fake /proc/sys: absent files read as undefined, like unreadable ones. */
const files = (f: Record<string, string>) => (file: string) => f[file];

describe('usernsBlockers: the settings that forbid them', () => {
  it('none: every switch open, or absent (a kernel without it), or unreadable', () => {
    expect(usernsBlockers(files({ [CLONE]: '1\n', [APPARMOR]: '0\n', [MAX]: '96362\n' }))).toEqual([]);
    expect(usernsBlockers(files({}))).toEqual([]);
    expect(usernsBlockers(files({ [MAX]: '15000\n' }))).toEqual([]);
    // Not a value the kernel writes: not taken for a block.
    expect(usernsBlockers(files({ [CLONE]: '', [APPARMOR]: 'x' }))).toEqual([]);
  });

  it('kernel.unprivileged_userns_clone = 0 alone: the sysctl and the sysctl.d file', () => {
    expect(usernsBlockers(files({ [CLONE]: '0\n', [APPARMOR]: '0\n', [MAX]: '96362\n' }))).toEqual([
      { setting: 'kernel.unprivileged_userns_clone', value: '0', fix: ['sysctl -w kernel.unprivileged_userns_clone=1', "echo 'kernel.unprivileged_userns_clone = 1' > /etc/sysctl.d/60-netlab-userns.conf  # keeps it after a reboot"] },
    ]);
  });

  it('kernel.apparmor_restrict_unprivileged_userns = 1 alone: a profile for the unshare netlab runs, or the sysctl', () => {
    const [b, ...rest] = usernsBlockers(files({ [APPARMOR]: '1\n', [MAX]: '96362\n' }), '/usr/local/bin/unshare');
    expect(rest).toEqual([]);
    expect(b?.setting).toBe('kernel.apparmor_restrict_unprivileged_userns');
    expect(b?.value).toBe('1');
    expect(b?.fix).toEqual([
      "cat > /etc/apparmor.d/netlab-unshare <<'EOF'",
      'abi <abi/4.0>,',
      'include <tunables/global>',
      'profile netlab-unshare /usr/local/bin/unshare flags=(unconfined) {',
      '  userns,',
      '}',
      'EOF',
      'apparmor_parser -r /etc/apparmor.d/netlab-unshare',
      '# that lets /usr/local/bin/unshare create them (for every user); or, for every program:',
      'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
    ]);
    expect(usernsBlockers(files({ [APPARMOR]: '1' }))[0]?.fix[3]).toBe('profile netlab-unshare /usr/bin/unshare flags=(unconfined) {');
  });

  it('user.max_user_namespaces = 0 alone', () => {
    expect(usernsBlockers(files({ [CLONE]: '1', [MAX]: '0\n' }))).toEqual([
      { setting: 'user.max_user_namespaces', value: '0', fix: ['sysctl -w user.max_user_namespaces=16384', "echo 'user.max_user_namespaces = 16384' > /etc/sysctl.d/60-netlab-userns.conf  # keeps it after a reboot"] },
    ]);
  });

  it('every combination: exactly the blocking ones, in the table\'s order; an unreadable file never blocks', () => {
    const states = ['open', 'blocks', 'unreadable'] as const;
    const value: Record<string, { open: string; blocks: string }> = { [CLONE]: { open: '1', blocks: '0' }, [APPARMOR]: { open: '0', blocks: '1' }, [MAX]: { open: '100', blocks: '0' } };
    let seen = 0;
    for (const c of states) for (const a of states) for (const m of states) {
      const pick: Record<string, (typeof states)[number]> = { [CLONE]: c, [APPARMOR]: a, [MAX]: m };
      const f = Object.fromEntries(Object.entries(pick).flatMap(([file, st]) => (st === 'unreadable' ? [] : [[file, `${value[file]?.[st]}\n`]])));
      const want = USERNS_SETTINGS.filter((s) => pick[s.file] === 'blocks').map((s) => s.setting);
      expect(usernsBlockers(files(f)).map((b) => b.setting), JSON.stringify(pick)).toEqual(want);
      seen++;
    }
    expect(seen).toBe(27);
  });
});

describe('the probe', () => {
  it('as root it drops to uid 65534 without groups or capabilities; otherwise it runs as itself', () => {
    expect(usernsProbeArgv(true, ['true'])).toEqual(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--', 'unshare', '--user', '--map-root-user', '--net', '--mount', '--', 'true']);
    expect(usernsProbeArgv(false, ['true'])).toEqual(['unshare', '--user', '--map-root-user', '--net', '--mount', '--', 'true']);
  });

  it('mappedRootUid: the outside uid of root inside, from /proc/self/uid_map', () => {
    expect(mappedRootUid('         0      65534          1\n')).toBe(65534);
    expect(mappedRootUid('0 1000 1')).toBe(1000);
    expect(mappedRootUid('         0          0 4294967295\n')).toBe(0);
    expect(mappedRootUid('')).toBeUndefined();
    expect(mappedRootUid('1 2 3\n')).toBeUndefined();
  });

  const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
  const fail = (stderr: string, exitCode = 1) => ({ exitCode, stdout: '', stderr });
  const MAP = '         0      65534          1\n';
  const blockers = (b: UsernsBlocker[] = []) => () => b;
  const MAX0: UsernsBlocker = { setting: 'user.max_user_namespaces', value: '0', fix: ['sysctl -w user.max_user_namespaces=16384'] };

  it('allowed: the map and the veth both worked; probedAs is what the kernel mapped', () => {
    expect(usernsResult(0, ok(MAP), ok(), blockers([MAX0]))).toMatchObject({ status: 'allowed', probedAs: 65534, blockedBy: [] });
    expect(usernsResult(1000, ok('0 1000 1\n'), ok(), blockers())).toMatchObject({ status: 'allowed', probedAs: 1000 });
    expect(usernsResult(0, ok(MAP), ok(), blockers()).probe).toMatch(/^setpriv --reuid=65534 .* -- unshare --user --map-root-user --net --mount -- cat \/proc\/self\/uid_map; then ip link add name nlu0 type veth peer name nlu1 inside$/);
  });

  it('blocked: the kernel said no (unshare itself, the uid map, or netlink inside), with the settings read then', () => {
    expect(usernsResult(0, fail('unshare: unshare failed: Operation not permitted\n'), undefined, blockers([MAX0]))).toEqual({
      status: 'blocked', probedAs: 65534, probe: expect.any(String), reason: 'unshare: unshare failed: Operation not permitted', blockedBy: [MAX0],
    });
    expect(usernsResult(1000, fail('unshare: write failed /proc/self/uid_map: Operation not permitted\n'), undefined, blockers())).toMatchObject({ status: 'blocked', probedAs: 1000, blockedBy: [] });
    // AppArmor's unprivileged_userns profile: the namespace exists, but root in it has no capabilities.
    expect(usernsResult(0, ok(MAP), fail('RTNETLINK answers: Operation not permitted\n', 2), blockers())).toMatchObject({ status: 'blocked', probedAs: 65534, reason: 'RTNETLINK answers: Operation not permitted' });
  });

  it('unknown: the probe could not run (setpriv, a missing tool), or printed no map; no settings are blamed', () => {
    let read = 0;
    const counting = () => { read++; return [MAX0]; };
    expect(usernsResult(0, fail('setpriv: setresuid failed: Invalid argument\n'), undefined, counting)).toMatchObject({ status: 'unknown', probedAs: null, reason: 'could not probe: setpriv: setresuid failed: Invalid argument', blockedBy: [] });
    expect(usernsResult(0, { ...fail(''), exitCode: undefined, spawnError: 'spawn setpriv ENOENT' }, undefined, counting)).toMatchObject({ status: 'unknown', reason: 'could not probe: spawn setpriv ENOENT' });
    expect(usernsResult(0, ok(MAP), fail('unshare: failed to execute ip: No such file or directory\n'), counting)).toMatchObject({ status: 'unknown', reason: 'could not probe: unshare: failed to execute ip: No such file or directory' });
    expect(usernsResult(0, ok('garbage'), ok(), counting)).toMatchObject({ status: 'unknown', probedAs: null });
    expect(read).toBe(0);
  });
});
