// The result of one check: what was expected, what happened, why, and the evidence. A failure is data, not an exception.
import type { MatrixCell } from '../lab/types.js';
import type { PlannedCheck } from '../plan/planner.js';

export interface Evidence {
  argv: string[];
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export interface CheckResult {
  id: string;
  stage: string;
  name: string;
  kind: string;
  from: string;
  to: string;
  /** The address actually targeted. */
  target: string;
  expected: 'pass' | 'fail';
  /** What happened: pass (reachable), fail (not), or error (the check could not run). */
  got: 'pass' | 'fail' | 'error';
  /** True when the result matches the expectation (and any TTL/reason assertion). */
  ok: boolean;
  /** Short description of the outcome, e.g. "reply, TTL 63" or "no route (Network is unreachable)". */
  detail: string;
  durationMs: number;
  hint?: string;
  /** How many times the check ran, when `retries`/`within` made it run more than once. */
  attempts?: number;
  /** What the lab's state says about a check that did not hold, e.g. "ns2 has no route to 10.10.10.2". */
  findings?: string[];
  /** Set when the check is one pair of a reachability matrix: the matrix and its cell. */
  matrix?: MatrixCell;
  evidence: Evidence;
}

/** Builds a result from a finished command: `got` is what happened; ok unless `ok` says otherwise. */
export function makeResult(
  c: PlannedCheck,
  r: { argv: string[]; exitCode: number | undefined; stdout: string; stderr: string; durationMs: number },
  got: CheckResult['got'],
  detail: string,
  ok: boolean = got === c.expect,
): CheckResult {
  return {
    id: c.id,
    stage: c.stage,
    name: c.name,
    kind: c.kind,
    from: c.from,
    to: 'toText' in c ? c.toText : c.from,
    target: c.target,
    expected: c.expect,
    got,
    ok,
    detail,
    durationMs: r.durationMs,
    ...(c.hint !== undefined ? { hint: c.hint } : {}),
    ...(c.matrix !== undefined ? { matrix: { ...c.matrix } } : {}),
    evidence: { argv: r.argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr },
  };
}

/** Seconds for a tool's timeout flag: at least 0.05. */
export function seconds(ms: number): string {
  return Math.max(ms / 1000, 0.05).toFixed(2);
}

/** An address as a URL or socat host: IPv6 in brackets. */
export function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
