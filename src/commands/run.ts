// `run` and `up`: validate, build, check, report; `run` always tears down, `up` keeps the lab.
import type { Format } from '../report/index.js';
import { loadLab } from '../lab/catalog.js';
import { EXIT, UsageError } from '../errors.js';
import { checkSelection, emitReport, rememberFailed, reportTargets, rubricLab, withCheckOptions, withReportOptions, withRubricOptions, type CheckArgs, type Command, type RubricArgs } from './common.js';
import { execute } from './lifecycle.js';
import { validInstance } from '../plan/naming.js';
import { DEFAULT_LIMITS, DEFAULT_TIME_LIMIT_MS, parseDuration, parseSize } from '../runner/limits.js';
import { closeProbers, prestartProber } from '../runner/prober.js';
import { unprivileged } from '../runner/runtime.js';

interface Args extends CheckArgs, RubricArgs {
  lab: string;
  instance?: string;
  format: Format[];
  output?: string[];
  quiet: boolean;
  step?: string;
  check?: boolean;
  wide?: boolean;
  /** `up --exercise [STEP]`: '' for the first exercise step. */
  exercise?: string;
  sandbox?: boolean;
  maxPids?: number;
  maxMemory?: string;
  timeLimit?: string;
}

/** --max-pids, --max-memory and (run) --time-limit: only with --sandbox; UsageError for a bad value. */
export function sandboxLimits(args: Pick<Args, 'sandbox' | 'maxPids' | 'maxMemory' | 'timeLimit'>, keep: boolean) {
  const given = (['maxPids', 'maxMemory', 'timeLimit'] as const).filter((k) => args[k] !== undefined);
  if (!args.sandbox && !unprivileged()) {
    if (given.length) throw new UsageError(`--${given[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} limits a boxed lab: it needs --sandbox`);
    return {};
  }
  const pids = args.maxPids ?? DEFAULT_LIMITS.maxPids;
  if (!Number.isSafeInteger(pids) || pids < 8) throw new UsageError(`--max-pids takes a whole number of at least 8, not ${pids}`);
  const memory = args.maxMemory !== undefined ? parseSize(String(args.maxMemory)) : DEFAULT_LIMITS.maxMemory;
  const timeLimitMs = args.timeLimit !== undefined ? parseDuration(String(args.timeLimit)) : DEFAULT_TIME_LIMIT_MS;
  return { limits: { maxPids: pids, maxMemory: memory }, ...(keep ? {} : { timeLimitMs }) };
}

function stageIndex(lab: Awaited<ReturnType<typeof loadLab>>, step: string | undefined): number | undefined {
  if (step === undefined) return undefined;
  const byNumber = /^\d+$/.test(step) ? Number(step) : lab.stages.findIndex((s) => s.name === step);
  if (byNumber < 0 || byNumber >= lab.stages.length) {
    throw new UsageError(`lab ${lab.name} has no step "${step}"`, {
      hint: `steps: ${lab.stages.map((s, i) => `${i} ${s.name}`).join(', ')}`,
    });
  }
  return byNumber;
}

/** The step `up --exercise [STEP]` holds back: the first exercise step, or the one named. */
export function exerciseIndex(lab: Awaited<ReturnType<typeof loadLab>>, step: string): number {
  const exercises = lab.stages.flatMap((s, i) => (s.exercise ? [i] : []));
  const list = exercises.map((i) => `${i} ${lab.stages[i]?.name}`).join(', ');
  if (!exercises.length) throw new UsageError(`lab ${lab.name} has no exercise`, { hint: 'a step becomes one with an `exercise:` key (docs/lab-format.md#exercises); `netlab show LAB` names the exercise steps' });
  if (step === '') return exercises[0] as number;
  const i = stageIndex(lab, step) as number;
  if (!exercises.includes(i)) throw new UsageError(`step "${step}" of lab ${lab.name} is not an exercise`, { hint: `exercises: ${list}` });
  return i;
}

async function go(args: Args, keep: boolean): Promise<number> {
  if (args.instance !== undefined) validInstance(args.instance);
  const boxed = sandboxLimits(args, keep);
  const targets = reportTargets(args);
  const plain = !args.sandbox && !unprivileged();
  try {
    return await goWith(args, keep, boxed, targets, plain);
  } finally {
    // The prober started below, whatever way the run ended (after a build, execute() has closed it already).
    if (plain) await closeProbers();
  }
}

async function goWith(args: Args, keep: boolean, boxed: ReturnType<typeof sandboxLimits>, targets: ReturnType<typeof reportTargets>, plain: boolean): Promise<number> {
  // --rubric (run only): the rubric's lab, which must be this one, with its checks merged in; the report is scored.
  const named = await loadLab(args.lab);
  const lab = args.rubric !== undefined ? await rubricLab(args.rubric, named.name) : named;
  // A valid plain lab's prober (the root batch, netlink configuration, ping checks: nearly every lab uses it) starts
  // now, so that Python's start (~50 ms on the 2-core VM) overlaps planning, preflight and claiming the instance
  // instead of holding up the build. It makes no namespace and opens no socket until asked. A boxed lab's starts in
  // its box.
  if (plain) prestartProber();
  const exercise = keep && args.exercise !== undefined ? exerciseIndex(lab, args.exercise) : undefined;
  const untilStage = exercise !== undefined ? exercise - 1 : stageIndex(lab, args.step);
  const check = keep ? (args.check ?? false) : true;
  const runnable = lab.stages.slice(0, (untilStage ?? lab.stages.length - 1) + 1).flatMap((s) => s.checks.map((c) => c.id));
  const selection = check ? await checkSelection(lab.name, args, runnable) : {};
  if (!selection) return 0;
  const outcome = await execute(lab, {
    keep,
    check,
    quiet: args.quiet,
    ...selection,
    ...(args.instance !== undefined ? { instance: args.instance } : {}),
    ...(untilStage !== undefined ? { untilStage } : {}),
    ...(exercise !== undefined ? { exercise } : {}),
    ...(args.sandbox || unprivileged() ? { sandbox: true, ...boxed } : {}),
  });
  let written = true;
  if (check) {
    written = await emitReport(outcome.report, targets, { wide: args.wide ?? false, learner: args.learner ?? false });
    if (!outcome.error) await rememberFailed(outcome.report);
  }
  if (outcome.error) throw outcome.error;
  if (exercise !== undefined) {
    const { exerciseBrief } = await import('./learn.js');
    // After the report when one went to stdout, so that stays one document.
    (check ? process.stderr : process.stdout).write(exerciseBrief({ instance: outcome.report.instance, model: lab, exercise: { stage: exercise } }));
  }
  // A report file that could not be written is an environment failure (3), even when every check held.
  return written ? outcome.exitCode : Math.max(outcome.exitCode, EXIT.environment);
}

const common = (y: Parameters<Command['builder']>[0]) =>
  withCheckOptions(withReportOptions(y))
    .positional('lab', { type: 'string', demandOption: true, describe: 'Built-in lab name or path to a lab file' })
    .option('instance', { alias: 'i', type: 'string', describe: 'Instance id (namespaces are netlab-<instance>-<node>)' })
    .option('step', { type: 'string', describe: 'Stop after this step (name or number; 0 is the setup)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
    .option('sandbox', {
      type: 'boolean',
      default: false,
      describe: 'Box the lab: its namespaces and every process it starts live in a supervisor\'s own mount, pid, net, ipc and uts namespaces (for untrusted lab files; docs/trust.md)',
    })
    .option('max-pids', { type: 'number', requiresArg: true, describe: 'With --sandbox: at most this many processes in the box (its cgroup\'s pids.max)', defaultDescription: String(DEFAULT_LIMITS.maxPids) })
    .option('max-memory', { type: 'string', requiresArg: true, describe: 'With --sandbox: at most this much memory for the box, e.g. 512M, 2G', defaultDescription: '1G' })
    .group(['sandbox', 'max-pids', 'max-memory'], 'Sandbox:');

export const runCommand: Command<Args> = {
  builder: (y) =>
    withRubricOptions(common(y))
      .option('time-limit', { type: 'string', requiresArg: true, describe: 'With --sandbox: kill the box after this long, e.g. 90s, 10m, 1h (exit 3)', defaultDescription: '10m' })
      .group(['time-limit'], 'Sandbox:')
      .example('netlab run veth-routing', 'Build the lab, check every step, tear down')
      .example('netlab run ./my-lab.yaml -f json > report.json', 'Machine-readable report')
      .example('netlab run veth-routing -f table -f junit -o - -o report.xml', 'Table on stdout and JUnit XML for CI')
      .example('netlab run ./broken.yaml --evidence ev --pcap', 'Keep routes, rules and a pcap of every check that did not hold')
      .example('netlab run veth-routing --only-failed', 'Run again only what did not hold last time')
      .example('netlab run ./untrusted.yaml --sandbox', 'Run a lab file you did not write inside a sandbox')
      .example('netlab run host-only --rubric examples/rubrics/host-only.yaml', 'Run the lab with a rubric\'s checks: a scored report (docs/grading.md)') as never,
  handler: (a) => go(a, false),
};

export const upCommand: Command<Args> = {
  builder: (y) =>
    common(y)
      .option('check', { type: 'boolean', default: false, describe: 'Also run the checks and print the report' })
      .option('exercise', {
        type: 'string',
        describe: 'Build the start of an exercise: every step before the first exercise step (or step STEP), which is left to you; then netlab exec, check, solve, reset',
      })
      .conflicts('exercise', 'step')
      .example('netlab up veth-routing', 'Build all steps; instance "veth-routing"')
      .example('netlab up veth-routing --exercise', 'The exercise: ns2 lacks its return route; `netlab exec veth-routing ns2`, then `netlab check veth-routing`')
      .example('netlab up veth-routing --step no-routes -i vr1', 'Build only up to step 1 as instance vr1') as never,
  handler: (a) => go(a, true),
};
