// doctor's privileges line and the refusal to build: root without CAP_NET_ADMIN / CAP_SYS_ADMIN (a container started
// without --privileged) is told it is root without them, with both ways out — not "needs root", which it is.
import { describe, expect, it } from 'vitest';
import { CANNOT_PROBE_AS_ROOT, privilegesLine, privilegesMissing } from '../../../src/commands/doctor.js';
import { lackedCaps, ROOT_WITHOUT_CAPS_HINT, rootWithoutCaps, type Caps } from '../../../src/runner/preflight.js';

const caps = (c: Partial<Caps>): Caps => ({ root: false, netAdmin: false, sysAdmin: false, setuid: false, ...c });
const ROOT = caps({ root: true, netAdmin: true, sysAdmin: true, setuid: true });
const CAPLESS_ROOT = caps({ root: true });
const USER = caps({});

describe('root without the capabilities', () => {
  it('rootWithoutCaps: uid 0 lacking either capability; never a user, never full root', () => {
    expect(rootWithoutCaps(CAPLESS_ROOT)).toBe(true);
    expect(rootWithoutCaps(caps({ root: true, netAdmin: true }))).toBe(true);
    expect(rootWithoutCaps(caps({ root: true, sysAdmin: true }))).toBe(true);
    expect(rootWithoutCaps(ROOT)).toBe(false);
    expect(rootWithoutCaps(USER)).toBe(false);
    expect(rootWithoutCaps(caps({ netAdmin: true, sysAdmin: true }))).toBe(false);
  });

  it('lackedCaps names only the missing ones', () => {
    expect(lackedCaps(CAPLESS_ROOT)).toBe('CAP_NET_ADMIN and CAP_SYS_ADMIN');
    expect(lackedCaps(caps({ root: true, netAdmin: true }))).toBe('CAP_SYS_ADMIN');
    expect(lackedCaps(caps({ root: true, sysAdmin: true }))).toBe('CAP_NET_ADMIN');
  });

  it('privilegesLine: says root without them, and both ways out (privileged, or a user other than root)', () => {
    const line = privilegesLine(CAPLESS_ROOT, false);
    expect(line).toMatch(/^root, but without CAP_NET_ADMIN and CAP_SYS_ADMIN \(a container started without --privileged\?\)/);
    expect(line).not.toMatch(/needs root/);
    expect(line).toContain('docker run --privileged');
    expect(line).toContain('docker run --user 1000:1000');
    expect(line).toContain(ROOT_WITHOUT_CAPS_HINT);
    // Whatever the user-namespace probe said: as root they are no way out.
    expect(privilegesLine(CAPLESS_ROOT, true)).toBe(line);
  });

  it('privilegesLine: the other cases are as before', () => {
    expect(privilegesLine(ROOT, false)).toBe('root');
    expect(privilegesLine(caps({ netAdmin: true, sysAdmin: true }), false)).toBe('CAP_NET_ADMIN and CAP_SYS_ADMIN');
    expect(privilegesLine(USER, true)).toBe('not root: every lab runs boxed, in user namespaces of your own');
    expect(privilegesLine(USER, false)).toBe('needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN), or unprivileged user namespaces, to build labs');
  });

  it('what a built-in lab lacks when nothing can be built', () => {
    expect(privilegesMissing(CAPLESS_ROOT)).toBe('CAP_NET_ADMIN and CAP_SYS_ADMIN (or a user other than root)');
    expect(privilegesMissing(USER)).toBe('root, or unprivileged user namespaces');
  });

  it('the user-namespace probe as root without CAP_SETUID says why it was not tried and how to find out', () => {
    expect(CANNOT_PROBE_AS_ROOT).toMatch(/^not probed: root without CAP_SETUID/);
    expect(CANNOT_PROBE_AS_ROOT).toContain('as a user other than root');
  });
});
