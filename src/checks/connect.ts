// tcp and udp checks: connect to a TCP port; send a datagram and expect it back (an echo service), with socat. Also how
// a connection failed (refused, no route, ICMP unreachable, timeout, reset), from socat's or curl's words, for http too.
import type { ConnectReason } from '../lab/types.js';
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { parseRouteGet } from './evidence.js';
import { failResult, hostOf, makeResult, seconds, stopped, type CheckResult } from './result.js';

type Planned<K extends PlannedCheck['kind']> = Extract<PlannedCheck, { kind: K }>;

/**
 * How a connection failed, as the tool said it. `unreachable` is "Network is unreachable" / "No route to host" /
 * "Permission denied": the source's own missing route, or an ICMP unreachable from the network (the caller tells which).
 */
export interface ConnectFailure {
  how?: 'refused' | 'unreachable' | 'timeout' | 'reset';
  /** The error text, e.g. "Connection refused". */
  message: string;
}

/** The reason of a failure that is not `unreachable` (which needs the source's routes to tell). */
export type FailureReason = ConnectReason | 'reset';

const UNREACHABLE = /Network is unreachable|No route to host|Permission denied/;

/**
 * Reads how a connection failed from socat's or curl's stderr (curl with -v: "connect to … failed: Connection
 * refused"). A tool netlab had to stop failed in no known way: that is no timeout a must-fail check could hold on.
 */
export function connectFailure(stderr: string, stoppedByNetlab: boolean): ConnectFailure {
  // The tool's own timeout ends it; stopped by netlab (a stalled, overloaded machine), nothing says what happened.
  if (stoppedByNetlab) return { message: 'did not finish in time (stopped by netlab)' };
  if (/Connection refused/i.test(stderr)) return { how: 'refused', message: 'connection refused' };
  if (/Connection reset/i.test(stderr)) return { how: 'reset', message: 'connection reset by peer' };
  const unreachable = UNREACHABLE.exec(stderr);
  if (unreachable) return { how: 'unreachable', message: unreachable[0] };
  if (/timed out|Timeout/i.test(stderr)) return { how: 'timeout', message: 'no answer in time' };
  return { message: stderr.trim().split('\n').slice(-1)[0] || 'failed' };
}

/** A failure's reason and words, once `unreachable` is told apart: no route in the source, or an ICMP answer. */
export function failureReason(f: ConnectFailure, sourceHasRoute: boolean): { how?: FailureReason; message: string } {
  if (f.how !== 'unreachable') return f.how === undefined ? { message: f.message } : { how: f.how, message: f.message };
  return sourceHasRoute
    ? { how: 'icmp-unreachable', message: `ICMP unreachable from the network (${f.message})` }
    : { how: 'no-route', message: `no route (${f.message})` };
}

/** Whether the source namespace has a route to the check's target (`ip route get`), asked only to tell no-route from ICMP. */
async function sourceHasRoute(c: PlannedCheck, signal?: AbortSignal): Promise<boolean> {
  const r = await run(inNamespace(c.fromNs, ['ip', 'route', 'get', c.target]), { timeoutMs: 5000, ...(signal ? { signal } : {}) });
  return !parseRouteGet(r.stdout + r.stderr).unreachable;
}

/** How a TCP connection (socat's or curl's) failed, with the source's routes asked when the network was unreachable. */
export async function tcpFailure(c: PlannedCheck, stderr: string, stoppedByNetlab: boolean, signal?: AbortSignal): Promise<{ how?: FailureReason; message: string }> {
  const f = connectFailure(stderr, stoppedByNetlab);
  return failureReason(f, f.how === 'unreachable' ? await sourceHasRoute(c, signal) : true);
}

/** TCP connect check: passes when the three-way handshake completes. */
export async function runTcp(c: Planned<'tcp'>, signal?: AbortSignal): Promise<CheckResult> {
  const argv = inNamespace(c.fromNs, ['socat', '-u', '/dev/null', `TCP:${hostOf(c.target)}:${c.port},connect-timeout=${seconds(c.timeoutMs)}`]);
  const r = await run(argv, { timeoutMs: c.timeoutMs + 2000, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (r.exitCode === 0) return makeResult(c, r, 'pass', `connected to port ${c.port}`);
  const f = await tcpFailure(c, r.stderr, stopped(r), signal);
  return failResult(c, r, f.how, f.message);
}

/**
 * How a UDP exchange failed, from socat's stderr: a connect() error is the source's own (connecting a UDP socket sends
 * nothing); an error on read or write came back as ICMP (ip-recverr makes socat see host and net unreachable too).
 * Silence after sending is a timeout: a drop and a server that does not answer look the same.
 */
export function udpFailure(stderr: string, stoppedByNetlab: boolean): { how?: FailureReason; message: string } {
  // socat ends by itself once the wait after sending is over: stopped by netlab, it may never have sent anything.
  if (stoppedByNetlab) return { message: 'socat did not finish in time (was anything sent?)' };
  if (!stderr.trim()) return { how: 'timeout', message: 'nothing came back in time' };
  const f = connectFailure(stderr, false);
  return failureReason(f, !/ E connect\(/.test(stderr));
}

/** UDP echo check: passes when what was sent comes back. */
export async function runUdp(c: Planned<'udp'>, signal?: AbortSignal): Promise<CheckResult> {
  // -t: once what was sent is sent (stdin ends), wait up to the timeout for the echo; netlab stops socat as soon as the
  // echo is there. No -T: an inactivity timeout also ran while the datagram was not sent yet (stdin comes late on a
  // busy machine), and silence then looked like a timeout although nothing had been sent.
  const recverr = c.target.includes(':') ? 'ipv6-recverr=1' : 'ip-recverr=1';
  const argv = inNamespace(c.fromNs, ['socat', `-t${seconds(c.timeoutMs)}`, '-', `UDP:${hostOf(c.target)}:${c.port},${recverr}`]);
  const r = await run(argv, { input: `${c.send}\n`, timeoutMs: c.timeoutMs + 2000, stopOnStdout: c.send, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (r.stdout.includes(c.send)) return makeResult(c, r, 'pass', `"${c.send}" came back`);
  const f = udpFailure(r.stderr, stopped(r));
  return failResult(c, r, f.how, f.message);
}
