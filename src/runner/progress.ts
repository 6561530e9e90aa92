// Progress on stderr via listr2: the animated renderer on a colour terminal, plain lines otherwise, nothing with --quiet.
import { useColor } from '../report/color.js';
import { printable } from '../printable.js';

export interface ProgressTask {
  title: string;
  /** Does the work; may retitle the task (e.g. "3/3 checks as expected"). */
  run: (setTitle: (title: string) => void) => Promise<void>;
  /** Runs even after an earlier task failed (teardown). */
  always?: boolean;
}

/**
 * Runs tasks in order with progress on stderr; rethrows the first task's error after the `always` tasks ran.
 * Titles and the error message listr2 prints are printable (lab titles and tool output may hold escapes); the
 * error rethrown is the task's own.
 */
export async function runTasks(tasks: readonly ProgressTask[], opts: { quiet?: boolean } = {}): Promise<void> {
  const runGroup = opts.quiet ? runQuietly : await listrRunner();
  let failure: { error: unknown } | undefined;
  for (const group of groups(tasks)) {
    if (failure && !group.every((t) => t.always)) continue;
    try {
      await runGroup(group);
    } catch (e) {
      failure ??= { error: e };
    }
  }
  if (failure) throw failure.error;
}

/** Runs one group of tasks, stopping at its first failure, which it rethrows as the task threw it. */
type GroupRunner = (group: readonly ProgressTask[]) => Promise<void>;

/** --quiet: the tasks without listr2 (loading it was ~20 ms of a run's start), as its silent renderer ran them. */
async function runQuietly(group: readonly ProgressTask[]): Promise<void> {
  for (const t of group) await t.run(() => undefined);
}

/** Each group as a listr2 task list: the animated renderer on a colour terminal, plain lines otherwise. */
async function listrRunner(): Promise<GroupRunner> {
  // Loaded here, not when the module is: commands that import the lifecycle but run no task list skip listr2.
  const { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } = await import('listr2');
  const plain = !useColor(process.stderr) || process.env.CI !== undefined;
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr), useIcons: !plain });
  return async (group) => {
    const originals = new Map<unknown, unknown>();
    const list = new Listr(
      group.map((t) => ({
        title: printable(t.title),
        task: async (_ctx: unknown, task: { title: string }) => {
          try {
            await t.run((title) => {
              task.title = printable(title);
            });
          } catch (e) {
            // listr2 prints the message of what the task throws: show it a printable copy, keep the original for the caller.
            const shown = new Error(printable(e instanceof Error ? e.message : String(e)));
            originals.set(shown, e);
            throw shown;
          }
        },
      })),
      { renderer: plain ? 'simple' : 'default', exitOnError: true, registerSignalListeners: false, rendererOptions: { logger, timer: PRESET_TIMER } },
    );
    try {
      await list.run();
    } catch (e) {
      throw originals.has(e) ? originals.get(e) : e;
    }
  };
}

/** Splits tasks where `always` changes, so "always" tasks run in their own list after a failure. */
function groups(tasks: readonly ProgressTask[]): ProgressTask[][] {
  const out: ProgressTask[][] = [];
  for (const t of tasks) {
    const last = out.at(-1);
    if (last && (last[0]?.always ?? false) === (t.always ?? false)) last.push(t);
    else out.push([t]);
  }
  return out;
}
