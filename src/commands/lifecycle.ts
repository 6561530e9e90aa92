// Build → check → (keep or tear down): the flow shared by `run` and `up`, with signals, state and rollback.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { checkPhase } from '../checks/phase.js';
import { gradedChecks } from '../checks/graded.js';
import type { CheckResult } from '../checks/result.js';
import { BuildError, NetlabError, UsageError, EXIT } from '../errors.js';
import type { Lab } from '../lab/types.js';
import { shellLine } from '../plan/argv.js';
import { RUN_SUFFIX_HEX, validInstance } from '../plan/naming.js';
import { planLab, type Plan, type PlannedStage } from '../plan/planner.js';
import { Executor, teardown } from '../runner/executor.js';
import { closeProbers, configurable, prestartProber } from '../runner/prober.js';
import { neighbourTable, preflightLab, rootForwards } from '../runner/preflight.js';
import { dynamicNeighbourEstimate, neighbourWarning } from '../plan/neighbours.js';
import { runTasks, type ProgressTask } from '../runner/progress.js';
import { ipv6Routers, settle, settleNamespaces } from '../runner/settle.js';
import { createRecord, listNamespaces, removeRecord, runDir, self, updateRecord, type StateRecord } from '../runner/state.js';
import { trapSignals } from '../runner/signals.js';
import { PLAIN, sandboxRuntime, startSandbox, stopSandbox, unprivileged, withRuntime } from '../runner/runtime.js';
import { createLimits, DEFAULT_LIMITS, plannedLimits, removeLimits, type LimitSettings } from '../runner/limits.js';
import { makeReport, type RunReport, type StageReport } from '../report/model.js';

export interface LifecycleOptions {
  instance?: string;
  /** Keep the lab up afterwards (`up`). */
  keep: boolean;
  /** Run the checks (run: always; up: only with --check). */
  check: boolean;
  /** Apply stages up to this index (default: all). */
  untilStage?: number;
  quiet?: boolean;
  /** Write evidence of checks that did not hold under this directory (and pcaps with `pcap`). */
  evidenceDir?: string;
  pcap?: boolean;
  /** Run only the checks with these ids (`--only-failed`); every stage is still built. */
  only?: ReadonlySet<string>;
  /** `up --exercise`: the stage held back for the learner (build with untilStage one before it). */
  exercise?: number;
  /** `--sandbox`: build and run the lab inside a supervisor's own namespaces (runtime.ts). */
  sandbox?: boolean;
  /** `--sandbox`: the cap on its processes and memory (default DEFAULT_LIMITS). */
  limits?: LimitSettings;
  /** `run --sandbox`: kill the sandbox after this many ms (exit 3). */
  timeLimitMs?: number;
  /** With `sandbox`: host paths the box must not see (`grade`: the rubric, the submissions, the results). */
  hide?: readonly string[];
  /**
   * `grade`: after the build (whose stages then run no checks of their own), `submit` applies a submission inside
   * the instance; then the checks of `stages` run, the setup's must-fail ones left out when a later stage is graded
   * (as `netlab check` does). An error `submit` throws ends the run like a failed build, after teardown.
   */
  grade?: { submit: (ctx: GradeContext) => Promise<void>; stages: readonly number[]; after?: (ctx: GradeContext) => Promise<void> };
}

/** What `grade`'s submit step gets: the instance's record and plan, and the run's abort signal. */
export interface GradeContext {
  record: StateRecord;
  plan: Plan;
  signal: AbortSignal;
}

export interface Outcome {
  report: RunReport;
  exitCode: number;
  /** Set when the run ended in an error after teardown (build failure, interrupt). */
  error?: NetlabError;
}

/** `n` random lower-case hex digits. */
export function randomHex(n: number): string {
  return randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}

/**
 * The instance id: --instance, else the lab name (up) or the lab name plus RUN_SUFFIX_HEX random hex digits (run,
 * so parallel runs of one lab do not clash; if they do, reserveInstance draws again). Validated like every id.
 */
export function instanceId(lab: Pick<Lab, 'name'>, opts: Pick<LifecycleOptions, 'instance' | 'keep'>, random: (n: number) => string = randomHex): string {
  return validInstance(opts.instance ?? (opts.keep ? lab.name : `${lab.name}-${random(RUN_SUFFIX_HEX)}`));
}

/** The instance id is taken (its namespaces or its state record exist). Exit 2 when it cannot be retried. */
export class InstanceClash extends UsageError {}

/** How many random ids `run` tries before giving up (with 100 parallel runs one clash has odds of about 1 in 3000). */
export const INSTANCE_ATTEMPTS = 8;

/**
 * Claims an instance id with `claim` (which throws InstanceClash when the id is taken). A random id (`run`
 * without --instance) that clashes is replaced by a fresh one, up to INSTANCE_ATTEMPTS times; an id the user
 * chose, or `up`'s lab name, is never changed, so its clash is the error. `first`: the id to try first (one
 * instanceId drew already, e.g. for a plan made before the claim).
 */
export async function reserveInstance<T>(
  lab: Pick<Lab, 'name'>,
  opts: Pick<LifecycleOptions, 'instance' | 'keep'>,
  claim: (id: string) => Promise<T>,
  random: (n: number) => string = randomHex,
  first?: string,
): Promise<T> {
  const retry = opts.instance === undefined && !opts.keep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await claim(attempt === 1 && first !== undefined ? first : instanceId(lab, opts, random));
    } catch (e) {
      if (!(e instanceof InstanceClash) || !retry || attempt >= INSTANCE_ATTEMPTS) throw e;
    }
  }
}

/** Exit code for a finished report: 0 all as expected, 1 a check failed, 3 a check could not run. */
export function reportExitCode(report: RunReport): number {
  if (report.summary.errors) return EXIT.environment;
  return report.summary.failed ? EXIT.checksFailed : EXIT.ok;
}

function describeBuild(plan: Plan, lab: Lab): string {
  const parts = [`${plan.namespaces.length} namespaces`, `${lab.veths.length} veth links`];
  if (lab.devices.length) parts.push(`${lab.devices.length} devices`);
  return `Build ${parts.join(', ')}`;
}

/** The stages up to --step (all without it). */
function stagesToBuild(plan: Plan, opts: Pick<LifecycleOptions, 'untilStage'>): { plan: Plan; stages: PlannedStage[] } {
  const last = Math.min(opts.untilStage ?? plan.stages.length - 1, plan.stages.length - 1);
  return { plan, stages: plan.stages.slice(0, last + 1) };
}

/** Plans the lab as instance `id` and writes its state record exclusively; InstanceClash when the id is taken. */
async function claimInstance(lab: Lab, instance: string, opts: Pick<LifecycleOptions, 'keep' | 'untilStage' | 'exercise'>, planned?: Plan): Promise<{ instance: string; plan: Plan; record: StateRecord }> {
  const { keep } = opts;
  const plan = planned?.instance === instance ? planned : planLab(lab, instance, { pinForwarding: rootForwards() });
  const record: StateRecord = {
    version: 1,
    instance,
    lab: lab.name,
    labFile: lab.file,
    createdAt: new Date().toISOString(),
    mode: keep ? 'up' : 'run',
    owner: self(),
    status: 'building',
    namespaces: plan.namespaces.map((n) => n.ns),
    processes: [],
    leases: [],
    stage: -1,
    start: stagesToBuild(plan, opts).stages.length - 1,
    ...(opts.exercise !== undefined ? { exercise: { stage: opts.exercise } } : {}),
    model: lab,
  };
  // Never adopt a namespace netlab did not create in this run: teardown would delete it.
  const existing = new Set(await listNamespaces());
  const clash = record.namespaces.filter((ns) => existing.has(ns));
  if (clash.length) {
    throw new InstanceClash(`namespace ${clash.join(', ')} already exists`, {
      hint: 'another copy of this instance, or one a crash left behind: `netlab status`, `netlab cleanup`, or pick another --instance',
    });
  }
  try {
    await createRecord(record);
  } catch (e) {
    // createRecord's only usage error is an existing record of this id.
    if (e instanceof UsageError) throw new InstanceClash(e.message, e.hint !== undefined ? { hint: e.hint } : {});
    throw e;
  }
  return { instance, plan, record };
}

/** An executor for an instance whose every process and DHCP lease goes into its state record as it appears (so a crash leaves nothing `cleanup` does not know). */
export function recordingExecutor(signal: AbortSignal, record: StateRecord): Executor {
  return new Executor(signal, {
    runDir: runDir(record.instance),
    onProcess: async (p) => {
      record.processes.push(p);
      await updateRecord(record);
    },
    onLease: async (l) => {
      record.leases.push(l);
      await updateRecord(record);
    },
  });
}

/** Validated lab → real namespaces → checks → report; tears down unless `keep` and everything went well. */
export async function execute(lab: Lab, opts: LifecycleOptions): Promise<Outcome> {
  // Without root a lab can only be built in a box of the user's own.
  if (unprivileged() && !opts.sandbox) opts = { ...opts, sandbox: true };
  // Privileges, and every tool and kernel feature what is built and checked needs: missing ones stop us here
  // (exit 3), before an id is claimed. The plan's needs do not depend on the id; the plan made for them is the
  // instance's own when its id is free (the first one tried), so a lab is planned once (~20 ms at 100 nodes).
  const draftId = instanceId(lab, opts);
  const draft = stagesToBuild(planLab(lab, draftId, { pinForwarding: rootForwards() }), opts);
  await preflightLab(lab, { namespaces: draft.plan.namespaces, stages: opts.check ? draft.stages : draft.stages.map((s) => ({ ...s, checks: [] })) }, { pcap: opts.evidenceDir !== undefined && opts.pcap === true, sandbox: opts.sandbox === true });
  // A lab whose dynamic neighbour entries would overflow the kernel-wide table is told so before anything is built.
  const warn = neighbourWarning(dynamicNeighbourEstimate(lab, draft.stages.flatMap((s) => s.checks), (n) => draft.plan.namespaces.find((x) => x.node === n)?.ns ?? n), neighbourTable());
  if (warn !== undefined && opts.check) process.stderr.write(warn);
  // A plain lab's prober (it configures namespaces over netlink and sends ping checks) starts once the lab passed
  // preflight, so that Python's start overlaps claiming the instance; `run` and `up` have started it already, as soon
  // as the lab was read (commands/run.ts). A boxed lab's starts in its box, as its build begins.
  const probes = draft.stages.some((s) => s.ops.some(configurable) || (opts.check && s.checks.some((c) => c.kind === 'ping')));
  if (!opts.sandbox && probes) prestartProber();
  const { signal, dispose } = trapSignals();
  let claimed: { instance: string; plan: Plan; record: StateRecord };
  try {
    claimed = await reserveInstance(lab, opts, (id) => claimInstance(lab, id, opts, draft.plan), randomHex, draftId);
  } catch (e) {
    await closeProbers();
    dispose();
    throw e;
  }
  const { instance, plan, record } = claimed;
  if (opts.sandbox) {
    const limits = plannedLimits(instance, opts.limits ?? DEFAULT_LIMITS);
    try {
      createLimits(limits);
    } catch (e) {
      await removeRecord(instance);
      dispose();
      throw new BuildError(`could not create the sandbox's cgroups (${limits.dirs.join(', ')}): ${(e as Error).message}`);
    }
    try {
      const sb = await startSandbox(opts.keep ? 'up' : 'run', runDir(instance), undefined, limits, opts.hide);
      const { stop: _stop, ...ref } = sb;
      record.sandbox = { ...ref, limits };
      await updateRecord(record);
    } catch (e) {
      removeLimits(limits);
      await rm(runDir(instance), { recursive: true, force: true });
      await removeRecord(instance);
      dispose();
      throw e;
    }
  }
  const runtime = record.sandbox ? sandboxRuntime(record.sandbox) : PLAIN;
  const { stages } = stagesToBuild(plan, opts);
  const startedAt = new Date(record.createdAt);
  const executor = recordingExecutor(signal, record);
  const reports: StageReport[] = [];
  let error: NetlabError | undefined;
  let keep = opts.keep;
  /** Set as soon as applying a stage fails, so the closing task tears down even for `up`. */
  let buildFailed = false;
  // `run --sandbox`: past the time limit the supervisor dies, which ends every process of the lab at once.
  let timedOut = false;
  const sb = record.sandbox;
  const timer =
    sb && !opts.keep && opts.timeLimitMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          void stopSandbox(sb);
        }, opts.timeLimitMs)
      : undefined;

  const stageTask = (stage: PlannedStage, i: number): ProgressTask => ({
    title: i === 0 ? describeBuild(plan, lab) : `Step ${i}: ${stage.title}`,
    run: async (setTitle) => {
      // The prober (ping checks) starts while the lab is built.
      if (i === 0 && opts.check && plan.stages.some((s) => s.checks.some((c) => c.kind === 'ping'))) prestartProber();
      if (stage.ops.length) {
        try {
          await executor.apply(stage.ops);
        } catch (e) {
          buildFailed = true;
          throw e;
        }
        // Checks, and a learner after `up`, find the lab ready: bridges on, ports forwarding, no tentative address.
        await settle(settleNamespaces(stage.ops), signal, ipv6Routers(stage.ops));
      }
      record.stage = i;
      await updateRecord(record);
      const report: StageReport = { name: stage.name, title: stage.title, ...(stage.explain ? { explain: stage.explain } : {}), results: [] };
      if (!opts.grade) reports.push(report);
      const checks = opts.only ? stage.checks.filter((c) => opts.only?.has(c.id)) : stage.checks;
      if (opts.check && !opts.grade && checks.length) {
        const title = i === 0 ? describeBuild(plan, lab) : `Step ${i}: ${stage.title}`;
        let done = 0;
        const results: CheckResult[] = await checkPhase(checks, {
          signal,
          leases: record.leases,
          namespaces: plan.namespaces,
          ...(opts.evidenceDir !== undefined ? { evidenceDir: opts.evidenceDir, pcap: opts.pcap ?? false } : {}),
          onResult: () => setTitle(`${title} — checks ${++done}/${checks.length}`),
        });
        report.results = results;
        const good = results.filter((r) => r.ok).length;
        setTitle(`${title} — ${good}/${results.length} as expected`);
      }
    },
  });

  const tasks: ProgressTask[] = stages.map(stageTask);
  const grade = opts.grade;
  if (grade) {
    tasks.push({ title: 'Apply the submission', run: () => grade.submit({ record, plan, signal }) });
    tasks.push({
      title: 'Grade',
      run: async (setTitle) => {
        const later = grade.stages.some((i) => i > 0);
        for (const i of grade.stages) {
          const stage = plan.stages[i];
          if (!stage) continue;
          const checks = gradedChecks(stage.checks, i, later);
          const results = await checkPhase(checks, {
            signal,
            leases: record.leases,
            namespaces: plan.namespaces,
            ...(opts.evidenceDir !== undefined ? { evidenceDir: opts.evidenceDir, pcap: opts.pcap ?? false } : {}),
          });
          reports.push({ name: stage.name, title: stage.title, results });
        }
        await grade.after?.({ record, plan, signal });
        const all = reports.flatMap((r) => r.results);
        setTitle(`Grade: ${all.filter((r) => r.ok).length}/${all.length} as expected`);
      },
    });
  }
  tasks.push({
    title: keep ? 'Keep the lab up' : 'Tear down',
    always: true,
    run: async (setTitle) => {
      if (keep && !buildFailed && !signal.aborted) {
        record.owner = null;
        record.status = 'ready';
        await updateRecord(record);
        setTitle(`Lab is up as instance "${instance}" (netlab exec ${instance} <node> -- <cmd>; netlab down ${instance})`);
        return;
      }
      keep = false;
      record.status = 'tearing-down';
      await updateRecord(record);
      const t = await teardown(record);
      await removeRecord(instance);
      setTitle(`Tear down: deleted ${t.namespaces.length} namespaces`);
    },
  });

  try {
    await withRuntime(runtime, () => runTasks(tasks, { quiet: opts.quiet ?? false }));
    // A signal that came while the last task (the teardown) ran still ends the run as interrupted: 130/143.
    if (signal.aborted) throw signal.reason;
  } catch (e) {
    const reason = signal.aborted ? signal.reason : e;
    error = reason instanceof NetlabError ? reason : new BuildError(String((reason as Error)?.message ?? reason), { cause: reason });
    if (error instanceof BuildError && !timedOut) {
      const undo = executor.undoOps();
      if (undo.length) process.stderr.write(`netlab: rolled back: ${undo.map(shellLine).join('; ')}\n`);
    }
  } finally {
    clearTimeout(timer);
    dispose();
  }
  if (timedOut && !signal.aborted) {
    error = new BuildError(`the lab ran past its time limit (${Math.round((opts.timeLimitMs ?? 0) / 1000)}s): netlab killed its sandbox`, { hint: 'raise it with --time-limit, e.g. --time-limit 30m' });
  }
  const report = makeReport({ lab: lab.name, title: lab.title, instance, startedAt, stages: reports, ...(error ? { aborted: error.message } : {}), scored: lab.scored === true });
  const exitCode = error ? error.exitCode : reportExitCode(report);
  return { report, exitCode, ...(error ? { error } : {}) };
}

