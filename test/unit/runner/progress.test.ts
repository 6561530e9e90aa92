// runTasks: with --quiet (no listr2) and with listr2's renderers, the same order and failure handling: a run of
// tasks stops at its first failure, after it only the `always` tasks run, and the first failure is rethrown as thrown.
import { describe, expect, it } from 'vitest';
import { runTasks, type ProgressTask } from '../../../src/runner/progress.js';

function tasks(log: string[], failAt: string[]): ProgressTask[] {
  const task = (title: string, always = false): ProgressTask => ({
    title,
    always,
    run: async () => {
      log.push(title);
      if (failAt.includes(title)) throw new Error(`${title} failed`);
    },
  });
  return [task('build'), task('check'), task('grade'), task('teardown', true), task('report', true)];
}

describe.each([true, false])('runTasks (quiet: %s)', (quiet) => {
  it('runs every task in order when none fails', async () => {
    const log: string[] = [];
    await runTasks(tasks(log, []), { quiet });
    expect(log).toEqual(['build', 'check', 'grade', 'teardown', 'report']);
  });

  it('after a failure runs only the always tasks, then rethrows the first failure itself', async () => {
    const log: string[] = [];
    const err = await runTasks(tasks(log, ['check']), { quiet }).catch((e: unknown) => e);
    expect(log).toEqual(['build', 'check', 'teardown', 'report']);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('check failed');
  });

  it('a failing always task ends its own run of always tasks; the first failure is still the one rethrown', async () => {
    const log: string[] = [];
    const err = await runTasks(tasks(log, ['check', 'teardown']), { quiet }).catch((e: unknown) => e);
    expect(log).toEqual(['build', 'check', 'teardown']);
    expect((err as Error).message).toBe('check failed');
  });
});
