// The learner's loop on a running instance: solve (apply the step held back, or show its reference commands),
// reset (build the start again), step (move on to a later step). `up --exercise` starts it; `check` grades.
import { BuildError, NetlabError, UsageError } from '../errors.js';
import { replacing } from '../plan/ops.js';
import { validInstance } from '../plan/naming.js';
import { planLab } from '../plan/planner.js';
import { printable } from '../printable.js';
import { teardown } from '../runner/executor.js';
import { preflight, preflightLab, rootForwards } from '../runner/preflight.js';
import { runTasks } from '../runner/progress.js';
import { PLAIN, useRuntime } from '../runner/runtime.js';
import { ipv6Routers, settle, settleNamespaces } from '../runner/settle.js';
import { trapSignals } from '../runner/signals.js';
import { alive, removeRecord, self, updateRecord, type StateRecord } from '../runner/state.js';
import { requireRecord, withCheckOptions, withReportOptions, type Command } from './common.js';
import { gradeInstance, gradedPicks, stepIndex, type GradeArgs } from './instances.js';
import { execute, recordingExecutor } from './lifecycle.js';

/** What a learner reads after `up --exercise` and `reset`: the task, and the verbs of the loop. Lab text is printable. */
export function exerciseBrief(rec: Pick<StateRecord, 'instance' | 'model' | 'exercise'>): string {
  const i = rec.exercise?.stage ?? -1;
  const stage = rec.model.stages[i];
  if (!stage?.exercise) return '';
  const nodes = rec.model.nodes.map((n) => n.name);
  const first = stage.exercise.solution[0]?.node ?? nodes[0] ?? 'NODE';
  const id = rec.instance;
  const lines = [
    `Exercise (step ${i} ${stage.name}): ${printable(stage.title)}`,
    ...printable(stage.exercise.task.trim(), '\n').split('\n').map((l) => `  ${l}`),
    '',
    `Nodes: ${nodes.join(', ')}`,
    `  netlab exec ${id} ${first}          a shell in ${first}`,
    `  netlab check ${id}            grade your work: what still fails, with hints (exit 0 once it all holds)`,
    `  netlab solve ${id} --show     the reference commands`,
    `  netlab solve ${id}            apply the step for you, then check`,
    `  netlab reset ${id}            start again`,
    `  netlab down ${id}             remove the lab`,
  ];
  return lines.join('\n') + '\n';
}

/** The reference commands of the exercise, per node (`solve --show`). */
export function solutionText(rec: Pick<StateRecord, 'instance' | 'model' | 'exercise'>): string {
  const i = rec.exercise?.stage ?? -1;
  const stage = rec.model.stages[i];
  if (!stage?.exercise) return '';
  const lines = [
    `Exercise (step ${i} ${stage.name}): ${printable(stage.title)}`,
    ...printable(stage.exercise.task.trim(), '\n').split('\n').map((l) => `  ${l}`),
    '',
    `Reference commands, per node (type them in \`netlab exec ${rec.instance} NODE\`):`,
  ];
  for (const s of stage.exercise.solution) lines.push(`${printable(s.node)}:`, ...s.commands.map((c) => `  ${printable(c)}`));
  return lines.join('\n') + '\n';
}

/** A running `up` instance nobody is working on, or a UsageError saying why not. */
async function idleInstance(instance: string, verb: string): Promise<StateRecord> {
  const rec = await requireRecord(validInstance(instance));
  if (alive(rec.owner)) {
    throw new UsageError(`instance "${rec.instance}" is being worked on by netlab pid ${rec.owner?.pid}`, { hint: `wait for it to finish, then ${verb} again` });
  }
  if (rec.mode !== 'up' || rec.status !== 'ready') {
    throw new UsageError(`instance "${rec.instance}" is not a lab that is up (${rec.mode}, ${rec.status})`, { hint: `\`netlab cleanup ${rec.instance}\` removes what a crashed run left` });
  }
  return rec;
}

/**
 * Applies the stages after the one the instance is at, up to `to`, to the running instance. Routes, addresses and
 * netem are set with `replace` (ops.ts `replacing`), so what the learner already did by hand is no error. The record
 * names this netlab as owner meanwhile (so `down` waits) and says after each stage how far it got; an interrupted or
 * failed stage is left as far as it got, and the error says how to start again.
 */
export async function advance(rec: StateRecord, to: number, opts: { quiet?: boolean } = {}): Promise<void> {
  const plan = planLab(rec.model, rec.instance, { pinForwarding: rootForwards() });
  const from = rec.stage + 1;
  const stages = plan.stages.slice(from, to + 1);
  await preflightLab(rec.model, { namespaces: plan.namespaces, stages: stages.map((s) => ({ ...s, checks: [] })) }, { sandbox: rec.sandbox !== undefined });
  const { signal, dispose } = trapSignals();
  rec.owner = self();
  rec.status = 'building';
  await updateRecord(rec);
  const executor = recordingExecutor(signal, rec);
  let current = from;
  try {
    await runTasks(
      stages.map((s, k) => ({
        title: `Step ${from + k}: ${s.title}`,
        run: async () => {
          current = from + k;
          if (s.ops.length) {
            await executor.apply(replacing(s.ops));
            await settle(settleNamespaces(s.ops), signal, ipv6Routers(s.ops));
          }
          rec.stage = from + k;
          await updateRecord(rec);
        },
      })),
      { quiet: opts.quiet ?? false },
    );
    if (signal.aborted) throw signal.reason;
  } catch (e) {
    const reason = signal.aborted ? signal.reason : e;
    const name = rec.model.stages[current]?.name ?? String(current);
    const hint = `step ${current} (${name}) may be applied in part; \`netlab reset ${rec.instance}\` builds the start again, \`netlab down ${rec.instance}\` removes it`;
    if (reason instanceof NetlabError) {
      process.stderr.write(`netlab: ${printable(hint)}\n`);
      throw reason;
    }
    throw new BuildError(String((reason as Error)?.message ?? reason), { cause: reason, hint });
  } finally {
    rec.owner = null;
    rec.status = 'ready';
    await updateRecord(rec);
    dispose();
  }
}

interface SolveArgs extends GradeArgs {
  instance: string;
  show: boolean;
  check: boolean;
  quiet: boolean;
}

export const solveCommand: Command<SolveArgs> = {
  builder: (y) =>
    withCheckOptions(withReportOptions(y))
      .positional('instance', { type: 'string', demandOption: true })
      .option('show', { type: 'boolean', default: false, describe: 'Only print the reference commands, per node; apply nothing' })
      .option('check', { type: 'boolean', default: true, describe: 'Run the checks afterwards and print the report (--no-check: only apply)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('netlab solve veth-routing --show', 'The commands that solve the exercise, per node')
      .example('netlab solve veth-routing', 'Apply the step held back (whatever you did already stays), then check') as never,
  handler: async (a) => {
    const rec = await requireRecord(validInstance(a.instance));
    if (rec.exercise === undefined || !rec.model.stages[rec.exercise.stage]?.exercise) {
      throw new UsageError(`instance "${rec.instance}" is not an exercise`, {
        hint: `start one with \`netlab up ${rec.lab} --exercise\`; \`netlab step ${rec.instance} next\` moves this one on a step`,
      });
    }
    if (a.show) {
      process.stdout.write(solutionText(rec));
      return 0;
    }
    preflight();
    const live = await idleInstance(rec.instance, 'solve');
    const target = rec.exercise.stage;
    if (live.stage >= target) process.stderr.write(`solve: step ${target} (${printable(live.model.stages[target]?.name ?? '')}) is applied already\n`);
    else await advance(live, target, { quiet: a.quiet });
    if (!a.check) return 0;
    return gradeInstance(live, gradedPicks(live), a);
  },
};

export const resetCommand: Command<{ instance: string; quiet: boolean }> = {
  builder: (y) =>
    y
      .positional('instance', { type: 'string', demandOption: true })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('netlab reset veth-routing', 'Tear the instance down and build its start again (the exercise start, or what `up` built)') as never,
  handler: async (a) => {
    preflight();
    const rec = await idleInstance(a.instance, 'reset');
    const t = await teardown(rec);
    await removeRecord(rec.instance);
    // A boxed instance's sandbox ended with the teardown: what runs from here (preflight's probes) must not try to
    // enter it. execute boxes the new build in a sandbox of its own, as `up --sandbox` does.
    useRuntime(PLAIN);
    process.stderr.write(`reset: ${rec.instance}: deleted ${t.namespaces.length} namespaces; building the start again\n`);
    const last = rec.model.stages.length - 1;
    const outcome = await execute(rec.model, {
      instance: rec.instance,
      keep: true,
      check: false,
      quiet: a.quiet,
      untilStage: Math.min(rec.start ?? last, last),
      // The new sandbox gets the limits the old one had.
      ...(rec.sandbox ? { sandbox: true, ...(rec.sandbox.limits ? { limits: { maxPids: rec.sandbox.limits.maxPids, maxMemory: rec.sandbox.limits.maxMemory } } : {}) } : {}),
      ...(rec.exercise !== undefined ? { exercise: rec.exercise.stage } : {}),
    });
    if (outcome.error) throw outcome.error;
    if (rec.exercise !== undefined) process.stdout.write(exerciseBrief(rec));
    return outcome.exitCode;
  },
};

interface StepArgs extends GradeArgs {
  instance: string;
  to: string;
  check: boolean;
  quiet: boolean;
}

export const stepCommand: Command<StepArgs> = {
  builder: (y) =>
    withCheckOptions(withReportOptions(y))
      .positional('instance', { type: 'string', demandOption: true })
      .positional('to', { type: 'string', default: 'next', describe: 'next, or a later step (name or number)' })
      .option('check', { type: 'boolean', default: false, describe: 'Then run the checks and print the report' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('netlab up veth-routing --step 0 && netlab step veth-routing', 'Build the topology, then apply step 1')
      .example('netlab step veth-routing routes-both-ways --check', 'Apply every step up to routes-both-ways, then check it') as never,
  handler: async (a) => {
    preflight();
    const rec = await idleInstance(a.instance, 'step');
    const names = rec.model.stages.map((s, i) => `${i} ${s.name}`).join(', ');
    const to = a.to === 'next' ? rec.stage + 1 : stepIndex(rec, a.to);
    if (to >= rec.model.stages.length) throw new UsageError(`instance "${rec.instance}" is at its last step already`, { hint: `steps: ${names}` });
    if (to <= rec.stage) {
      throw new UsageError(`instance "${rec.instance}" is at step ${rec.stage} (${rec.model.stages[rec.stage]?.name ?? '?'}); steps only go forward`, {
        hint: `\`netlab reset ${rec.instance}\` builds its start again; steps: ${names}`,
      });
    }
    await advance(rec, to, { quiet: a.quiet });
    process.stderr.write(`step: ${rec.instance} is at step ${to} (${printable(rec.model.stages[to]?.name ?? '')}); \`netlab check ${rec.instance}\` runs its checks\n`);
    if (!a.check) return 0;
    return gradeInstance(rec, gradedPicks(rec), a);
  },
};

