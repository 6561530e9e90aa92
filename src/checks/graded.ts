// Which checks grading runs (`netlab check` on an exercise, `netlab grade`, a rubric merged onto a student's lab).

/**
 * The checks of stage `i` that grading runs: all of a step's; of the setup's, when a later stage is graded too, only
 * the must-pass ones (unless `setupAll`): its must-fail checks describe the lab before the steps, which may well
 * change what they test on purpose (host-only's "vm1 cannot reach the internet" is what the exercise undoes).
 */
export function gradedChecks<C extends { expect: 'pass' | 'fail' }>(checks: readonly C[], i: number, later: boolean, setupAll = false): C[] {
  return checks.filter((c) => i > 0 || !later || setupAll || c.expect === 'pass');
}
