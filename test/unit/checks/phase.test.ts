// The pure parts of the check phase: which paths to warm up, and when a check could not run.
import { describe, expect, it } from 'vitest';
import { cannotRun } from '../../../src/checks/index.js';
import { warmupPairs } from '../../../src/checks/phase.js';
import type { PlannedCheck } from '../../../src/plan/planner.js';

describe('warm-up', () => {
  const check = (over: Partial<PlannedCheck>): PlannedCheck =>
    ({ kind: 'ping', expect: 'pass', fromNs: 'netlab-x-a', target: '10.0.0.2', ...over }) as PlannedCheck;

  it('pings each source/target pair of a must-pass check once', () => {
    const pairs = warmupPairs([
      check({}),
      check({ kind: 'tcp' }),
      check({ kind: 'http', target: '10.0.0.3' }),
      check({ expect: 'fail', target: '10.0.0.9' }),
      check({ kind: 'state', target: '' }),
      check({ kind: 'cmd', target: '' }),
      check({ target: 'lease:vm:eth0' }),
    ]);
    expect(pairs).toEqual([
      { ns: 'netlab-x-a', target: '10.0.0.2' },
      { ns: 'netlab-x-a', target: '10.0.0.3' },
    ]);
  });
});

describe('checks that cannot run', () => {
  it('names the namespace that is gone, or the missing tool and its package', () => {
    expect(cannotRun('nsenter: cannot open /run/netns/netlab-x-ns1: No such file or directory\n')).toBe(
      'namespace netlab-x-ns1 is gone (nsenter: cannot open /run/netns/netlab-x-ns1: No such file or directory)',
    );
    expect(cannotRun('nsenter: failed to execute tcpdump: No such file or directory')).toBe('tcpdump is missing (package tcpdump; netlab doctor)');
    expect(cannotRun('nsenter: failed to execute frob: No such file or directory')).toBe('nsenter: failed to execute frob: No such file or directory (is it installed? netlab doctor)');
    expect(cannotRun('ping: connect: Network is unreachable')).toBeUndefined();
  });
});
