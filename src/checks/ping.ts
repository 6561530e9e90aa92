// Ping check: one `ping` inside the source namespace; parses replies, TTL, and how it failed.
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
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

/** Runs one ping check. */
export async function runPing(c: PingPlanned, signal?: AbortSignal): Promise<CheckResult> {
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
  return makeResult(c, { ...r, argv }, got, detail, ok, p.outcome);
}
