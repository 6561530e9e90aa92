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
  /** With expected fail: how the lab says it must fail (`reason`), e.g. refused. */
  expectedReason?: string;
  /** What happened: pass (reachable), fail (not), error (the check could not run), or skipped (a gate before it did not hold). */
  got: 'pass' | 'fail' | 'error' | 'skipped';
  /** With got fail: how it failed, in the words `reason` uses (e.g. timeout), when the check kind can tell. */
  gotReason?: string;
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
  /** What the check is worth (`points`); in a scored report every result has it (default 1). */
  points?: number;
  /** In a scored report: the points it earned (points when ok, else 0). */
  score?: number;
  /** `gate: true` in the lab or rubric: when it did not hold, the checks after it in its stage were skipped. */
  gate?: true;
  /** `hidden: true`: left out of the learner's report. */
  hidden?: true;
  evidence: Evidence;
}

/** How a must-fail check says it must fail (`reason`), when its kind takes one. */
export function expectedReason(c: PlannedCheck): string | undefined {
  if (c.expect !== 'fail') return undefined;
  // A must-fail nat-source holds only when the service answers and saw another address.
  if (c.kind === 'nat-source') return 'mismatch';
  return 'reason' in c ? c.reason : undefined;
}

type Ran = { argv: string[]; exitCode: number | undefined; stdout: string; stderr: string; durationMs: number };

/**
 * Builds a result from a finished command: `got` is what happened (with `gotReason`, how it failed); ok unless `ok`
 * says otherwise.
 */
export function makeResult(c: PlannedCheck, r: Ran, got: CheckResult['got'], detail: string, ok: boolean = got === c.expect, gotReason?: string): CheckResult {
  const wanted = expectedReason(c);
  return {
    id: c.id,
    stage: c.stage,
    name: c.name,
    kind: c.kind,
    from: c.from,
    to: 'toText' in c ? c.toText : c.from,
    target: c.target,
    expected: c.expect,
    ...(wanted !== undefined ? { expectedReason: wanted } : {}),
    got,
    ...(got === 'fail' && gotReason !== undefined ? { gotReason } : {}),
    ok,
    detail,
    durationMs: r.durationMs,
    ...(c.hint !== undefined ? { hint: c.hint } : {}),
    ...(c.matrix !== undefined ? { matrix: { ...c.matrix } } : {}),
    ...scoringFields(c),
    evidence: { argv: r.argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr },
  };
}

/** The scoring keys a check carries into its result (absent when the lab and rubric did not write them). */
export function scoringFields(c: Pick<PlannedCheck, 'points' | 'gate' | 'hidden'>): Pick<CheckResult, 'points' | 'gate' | 'hidden'> {
  return {
    ...(c.points !== undefined ? { points: c.points } : {}),
    ...(c.gate ? { gate: true as const } : {}),
    ...(c.hidden ? { hidden: true as const } : {}),
  };
}

/** The result of a check that was not run because `gate` (a check before it in its stage) did not hold: no command, no time, no hint. */
export function skippedResult(c: PlannedCheck, gate: Pick<CheckResult, 'name'>): CheckResult {
  const none = { argv: [], exitCode: undefined, stdout: '', stderr: '', durationMs: 0 };
  const { hint: _hint, ...r } = makeResult(c, none, 'skipped', `not run: the gate "${gate.name}" did not hold`, false);
  return r;
}

/** Seconds for a tool's timeout flag: at least 0.05. */
export function seconds(ms: number): string {
  return Math.max(ms / 1000, 0.05).toFixed(2);
}

/** An address as a URL or socat host: IPv6 in brackets. */
export function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * A failure observed in the way `how` (undefined: none the kind names). With expect: fail and a `reason`, it holds only
 * when it failed that way; otherwise the detail says what was expected.
 */
export function failResult(c: PlannedCheck, r: Ran, how: string | undefined, detail: string): CheckResult {
  const wanted = expectedReason(c);
  const wrongWay = wanted !== undefined && how !== wanted;
  return makeResult(c, r, 'fail', wrongWay ? `${detail}, expected ${wanted}` : detail, c.expect === 'fail' && !wrongWay, how);
}

/**
 * True when netlab stopped the tool at its time limit before it exited by itself. On a busy machine the limit's timer
 * can fire after the process has exited but before its exit was seen: then it has an exit code and its output is whole.
 */
export function stopped(r: { timedOut: boolean; exitCode: number | undefined }): boolean {
  return r.timedOut && r.exitCode === undefined;
}

/** The "expected" text: `pass`, `fail`, or `fail (refused)` when the check says how it must fail. */
export function expectedText(r: Pick<CheckResult, 'expected' | 'expectedReason'>): string {
  return r.expectedReason !== undefined ? `${r.expected} (${r.expectedReason})` : r.expected;
}

/** The "got" text: what happened and its detail, with how it failed when known, e.g. `fail: timeout (no answer in time)`. */
export function gotText(r: Pick<CheckResult, 'got' | 'gotReason' | 'detail'>): string {
  // A detail that already says the reason in words ("no route (Network is unreachable)") is not prefixed again.
  const said = r.gotReason === undefined || r.detail.startsWith(r.gotReason.replace(/-/g, ' '));
  return said ? `${r.got}: ${r.detail}` : `${r.got}: ${r.gotReason} (${r.detail})`;
}
