// Ping check: one `ping` inside the source namespace; parses replies, TTL, and how it failed.
import { inNamespace } from '../plan/argv.js';
import { nsPath } from '../plan/naming.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { currentProber, type ProbeAnswer } from '../runner/prober.js';
import { makeResult, stopped, type CheckResult } from './result.js';

type PingPlanned = Extract<PlannedCheck, { kind: 'ping' }>;

/** What a ping run showed. */
export interface PingOutcome {
  outcome: 'reply' | 'no-route' | 'icmp-unreachable' | 'no-reply' | 'error';
  received: number;
  ttls: number[];
  message: string;
}

const INTERVAL_S = 0.05;

/**
 * Time for nsenter and ping to start and exit, beyond ping's own wait (-W) and interval. Only a hung ping reaches it,
 * or a machine so loaded that ping did not get to run: starting one took over 2 s with both cores busy.
 */
const START_SLACK_MS = 10_000;

/** Parses iputils ping output (LANG=C). */
export function parsePing(exitCode: number | undefined, stdout: string, stderr: string): PingOutcome {
  const ttls = [...stdout.matchAll(/ bytes from .*?ttl=(\d+)/g)].map((m) => Number(m[1]));
  const received = Number(/(\d+) (?:packets )?received/.exec(stdout)?.[1] ?? ttls.length);
  if (received > 0) return { outcome: 'reply', received, ttls, message: `reply, TTL ${ttls[0] ?? '?'}` };
  const local = /connect: (Network is unreachable|No route to host)/.exec(stderr);
  if (local) return { outcome: 'no-route', received, ttls, message: `no route (${local[1]})` };
  const icmp = /From (\S+) icmp_seq=\d+ (Destination [A-Za-z ]+Unreachable|[A-Za-z ]*[Uu]nreachable[A-Za-z ]*)/.exec(stdout);
  if (icmp) return { outcome: 'icmp-unreachable', received, ttls, message: `${icmp[2]?.trim()} (from ${icmp[1]})` };
  if (exitCode === 1) return { outcome: 'no-reply', received, ttls, message: 'no reply in time' };
  const err = (stderr.trim().split('\n')[0] ?? '') || `ping exited ${exitCode}`;
  return { outcome: 'error', received, ttls, message: err };
}

/** argv of the ping a check runs. */
export function pingArgv(c: PingPlanned): string[] {
  const wait = Math.max(c.timeoutMs / 1000, 0.05).toFixed(2);
  return inNamespace(c.fromNs, ['ping', '-n', '-c', String(c.count), '-i', String(INTERVAL_S), '-W', wait, c.target]);
}

/**
 * A single echo not answered after this long is sent once more (the first packet to a new neighbour can wait on
 * ARP/ND): that is the warm-up, inside the check's own wait, instead of a ping before every check.
 */
export const RESEND_MS = 250;

/** What a check asks the prober: ping's -c, -i and -W, and the resend. */
export function probeRequest(c: PingPlanned): { netns: string; target: string; count: number; interval: number; wait: number; resend: number } {
  const wait = Math.max(c.timeoutMs / 1000, 0.05);
  return { netns: nsPath(c.fromNs), target: c.target, count: c.count, interval: INTERVAL_S, wait, resend: c.count === 1 && c.timeoutMs > 2 * RESEND_MS ? RESEND_MS / 1000 : 0 };
}

/** The evidence of a probe: what was asked (as the argv of netlab's prober), and ping's kind of output and exit code. */
export function probeEvidence(c: PingPlanned, a: ProbeAnswer, durationMs: number): { argv: string[]; exitCode: number; stdout: string; stderr: string; durationMs: number } {
  const q = probeRequest(c);
  const argv = ['netlab-probe', `--netns=${q.netns}`, 'ping', '-c', String(q.count), '-i', String(q.interval), '-W', q.wait.toFixed(2), ...(q.resend ? ['--resend', String(q.resend)] : []), c.target];
  const stats = a.outcome === 'error' || a.outcome === 'no-route' ? '' : `\n--- ${c.target} ping statistics ---\n${a.sent} packets transmitted, ${a.received} received\n`;
  const stdout = a.lines.length || stats ? `${a.lines.join('\n')}${a.lines.length ? '\n' : ''}${stats}` : '';
  const stderr = a.outcome === 'error' || a.outcome === 'no-route' ? `${a.message}\n` : '';
  // As ping's: 0 a reply, 2 it could not send (no route) or failed, 1 nothing came back.
  return { argv, exitCode: a.outcome === 'reply' ? 0 : a.outcome === 'error' || a.outcome === 'no-route' ? 2 : 1, stdout, stderr, durationMs };
}

/** Judges what a ping showed against the check: TTL and reason assertions included. */
function judge(c: PingPlanned, p: PingOutcome, r: { argv: string[]; exitCode: number | undefined; stdout: string; stderr: string; durationMs: number }): CheckResult {
  const got = p.outcome === 'reply' ? 'pass' : p.outcome === 'error' ? 'error' : 'fail';
  let ok = got === c.expect;
  let detail = p.message;
  if (ok && c.expect === 'pass' && c.ttl !== undefined && p.ttls.some((t) => t !== c.ttl)) {
    ok = false;
    detail = `${p.message}, expected TTL ${c.ttl}`;
  }
  if (ok && c.expect === 'fail' && c.reason !== undefined && p.outcome !== c.reason) {
    ok = false;
    detail = `${p.message}, expected ${c.reason}`;
  }
  return makeResult(c, r, got, detail, ok, p.outcome);
}

/** Runs one ping check: through netlab's prober (no process), or where it cannot run, with `ping`. */
export async function runPing(c: PingPlanned, signal?: AbortSignal): Promise<CheckResult> {
  const prober = await currentProber();
  if (prober) {
    const started = performance.now();
    const a = await prober.ping(probeRequest(c), signal);
    signal?.throwIfAborted();
    // The source's namespace file is gone: said as for a check run with nsenter (index.ts cannotRun).
    const gone = a.outcome === 'error' && /^\/run\/netns\/(\S+): No such file or directory$/.exec(a.message);
    const said = gone ? { ...a, message: `namespace ${gone[1]} is gone (cannot open /run/netns/${gone[1]}: No such file or directory)` } : a;
    return judge(c, said, probeEvidence(c, a, performance.now() - started));
  }
  return runPingProcess(c, signal);
}

/** Runs one ping check with iputils `ping` in the source namespace. */
export async function runPingProcess(c: PingPlanned, signal?: AbortSignal): Promise<CheckResult> {
  const argv = pingArgv(c);
  const budget = c.timeoutMs + c.count * INTERVAL_S * 1000 + START_SLACK_MS;
  const r = await run(argv, { timeoutMs: budget, ...(signal ? { signal } : {}) });
  // A ping netlab had to kill did not finish its own wait: whether a reply would have come is unknown, so it is an
  // error — never the silence a must-fail check expects.
  const p: PingOutcome = r.spawnError
    ? { outcome: 'error', received: 0, ttls: [], message: r.spawnError }
    : stopped(r)
      ? { outcome: 'error', received: 0, ttls: [], message: `ping did not finish in ${(budget / 1000).toFixed(1)} s and was killed: no result` }
      : parsePing(r.exitCode, r.stdout, r.stderr);
  return judge(c, p, { ...r, argv });
}
