// tcp and udp checks: connect to a TCP port; send a datagram and expect it back (an echo service), with socat.
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { hostOf, makeResult, seconds, type CheckResult } from './result.js';

type Planned<K extends PlannedCheck['kind']> = Extract<PlannedCheck, { kind: K }>;

/** Why a connection failed, from socat's or curl's stderr. */
export function connectFailure(stderr: string, timedOut: boolean): string {
  if (timedOut || /timed out|Timeout/i.test(stderr)) return 'no answer in time';
  if (/refused/i.test(stderr)) return 'connection refused';
  if (/Network is unreachable|No route to host/i.test(stderr)) return 'no route';
  return stderr.trim().split('\n').slice(-1)[0] || 'failed';
}

/** TCP connect check: passes when the three-way handshake completes. */
export async function runTcp(c: Planned<'tcp'>, signal?: AbortSignal): Promise<CheckResult> {
  const argv = inNamespace(c.fromNs, ['socat', '-u', '/dev/null', `TCP:${hostOf(c.target)}:${c.port},connect-timeout=${seconds(c.timeoutMs)}`]);
  const r = await run(argv, { timeoutMs: c.timeoutMs + 2000, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  return r.exitCode === 0
    ? makeResult(c, r, 'pass', `connected to port ${c.port}`)
    : makeResult(c, r, 'fail', connectFailure(r.stderr, r.timedOut));
}

/** UDP echo check: passes when what was sent comes back. */
export async function runUdp(c: Planned<'udp'>, signal?: AbortSignal): Promise<CheckResult> {
  // -t: wait up to the timeout for the echo after sending; netlab stops socat as soon as the echo is there.
  const wait = seconds(c.timeoutMs);
  const argv = inNamespace(c.fromNs, ['socat', `-T${wait}`, `-t${wait}`, '-', `UDP:${hostOf(c.target)}:${c.port}`]);
  const r = await run(argv, { input: `${c.send}\n`, timeoutMs: c.timeoutMs + 2000, stopOnStdout: c.send, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (r.stdout.includes(c.send)) return makeResult(c, r, 'pass', `"${c.send}" came back`);
  return makeResult(c, r, 'fail', r.stderr.trim() ? connectFailure(r.stderr, r.timedOut) : 'nothing came back in time');
}
