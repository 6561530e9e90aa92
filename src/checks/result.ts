// The result of one check: what was expected, what happened, why, and the evidence. A failure is data, not an exception.

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
  evidence: Evidence;
}
