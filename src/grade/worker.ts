// One submission graded in a process of its own (`netlab grade` starts one per submission, --jobs at a time): a
// sandboxed instance of the lab (or of the student's own lab file), the submission applied inside it, the rubric's
// checks, teardown; then its results in its folder, result.json last (what --resume looks for). A crash, a hang or a
// signal here ends this submission only: the parent records it as an error and the sandbox dies with this process.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gradedChecks } from '../checks/graded.js';
import { execute, type GradeContext, type LifecycleOptions } from '../commands/lifecycle.js';
import { formatProblem, InterruptedError, NetlabError, ValidationError } from '../errors.js';
import { loadLabFile } from '../lab/load.js';
import type { Lab } from '../lab/types.js';
import { inNamespace } from '../plan/argv.js';
import { planLab } from '../plan/planner.js';
import { learnerView, type RunReport } from '../report/model.js';
import { run } from '../runner/exec.js';
import { readLabTail, writeNewLabFile } from '../runner/lab-files.js';
import { limitHits, type LimitSettings } from '../runner/limits.js';
import { currentRuntime } from '../runner/runtime.js';
import { listNamespaces, runDir } from '../runner/state.js';
import type { GradeRow } from './gradebook.js';
import { gradedLab, loadRubric } from './rubric.js';
import { readScripts, shellOf, type NodeScript, type Submission } from './submissions.js';

/** What the parent hands a worker (as JSON in argv). */
export interface GradeJob {
  rubric: string;
  submission: Submission;
  /** The submission's results folder (exists). */
  dir: string;
  timeLimitMs: number;
  scriptTimeLimitMs: number;
  limits: LimitSettings;
  /** Host paths the box must not see. */
  hide: string[];
}

/** A submission's own fault, in words for the student: its script loops, does not parse, forks without end. */
export class SubmissionError extends NetlabError {}

/** How much of a script's output the results keep (the tail). */
const OUTPUT_TAIL = 64 * 1024;

/** The stages grading checks, and how the instance is built: the lab's exercise start, or the student's lab whole. */
export function gradingPlan(lab: Lab, exercise: number, kind: Submission['kind']): { untilStage: number; stages: number[] } {
  if (kind === 'lab') return { untilStage: lab.stages.length - 1, stages: [lab.stages.length - 1] };
  return { untilStage: exercise - 1, stages: [0, exercise].filter((v, i, a) => a.indexOf(v) === i) };
}

/** The score of a report: the points scored out of the most there are (a rubric's run is always scored). */
export function scoreOf(report: RunReport): { points: number; max: number } {
  return report.score ?? { points: report.summary.passed, max: report.summary.total };
}

/** The most points the graded checks of `stages` give (what an ungraded submission is out of). */
export function maxPoints(lab: Lab, stages: readonly number[]): number {
  const plan = planLab(lab, 'grade-max');
  const later = stages.some((i) => i > 0);
  return stages.flatMap((i) => gradedChecks(plan.stages[i]?.checks ?? [], i, later)).reduce((sum, c) => sum + (c.points ?? 1), 0);
}

/** Runs each node's script inside its node, in node order: a syntax check first, then the script with its output in the work directory. */
async function applyScripts(scripts: readonly NodeScript[], ctx: GradeContext, job: GradeJob, log: string[]): Promise<void> {
  const work = runDir(ctx.record.instance);
  const mine = join(work, 'submission');
  // Created by netlab (root-owned as root): the box reads the scripts, and cannot change them.
  await mkdir(mine, { mode: 0o755 });
  // Every script runs through the box's launcher, never through an nsenter from outside while it is still starting:
  // a script that kills every process it may then always takes the launcher (and its own exit code) with it, and
  // the same submission gets the same row however fast the launcher started.
  await currentRuntime().launcherReady?.();
  for (const s of scripts) {
    const script = join(mine, s.file);
    writeNewLabFile(script, s.text);
    const ns = ctx.plan.namespaces.find((n) => n.node === s.node)?.ns as string;
    const out = join(work, `output-${s.node}.log`);
    const shell = shellOf(s.text);
    // Fixed text; the script and log paths are netlab's. Output goes to a file, so a process the script leaves
    // running does not hold netlab's pipes open.
    const runIt = (check: boolean) =>
      run(inNamespace(ns, [shell, '-c', `exec "$0" ${check ? '-n ' : ''}"$1" >>"$2" 2>&1 </dev/null`, shell, script, out]), {
        timeoutMs: job.scriptTimeLimitMs,
        signal: ctx.signal,
      });
    // The shell names the script by its path in this instance's work directory: the file name says the same, and
    // is the same each time the submission is graded.
    const tail = () => readLabTail(out, OUTPUT_TAIL).replaceAll(script, s.file);
    const parsed = await runIt(true);
    // A fork bomb a script before this one left running breaks what runs next: it is the fault to name.
    limitsHeld(ctx, job);
    const syntax = tail();
    if (parsed.exitCode !== 0) {
      log.push(`== ${s.file} (${shell}): does not parse ==\n${syntax}`);
      throw new SubmissionError(`${s.file} does not parse (${shell} -n): ${syntax.trim().split('\n')[0] ?? ''}`.trim());
    }
    const started = performance.now();
    const r = await runIt(false);
    limitsHeld(ctx, job);
    const text = tail();
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    log.push(`== ${s.file} (${shell}, ${r.timedOut ? 'stopped' : `exit ${r.exitCode ?? '?'}`}, ${secs}s) ==\n${text}`);
    if (r.timedOut) throw new SubmissionError(`${s.file} did not finish within ${job.scriptTimeLimitMs / 1000}s: it loops, or waits for something`);
    // What the script did to the lab is the fault to name before how it ended: a script that deletes the namespaces
    // and then kills every process it may ends with or without an exit code, depending on whether the box's launcher
    // or an nsenter from outside started it (the launcher may still be starting). The same submission gets the same row.
    const gone = await missingNodes(ctx);
    if (gone.length) throw new SubmissionError(`${s.file} deleted the namespace of node(s) ${gone.join(', ')}: there is nothing left to check`);
    // No exit code: killed, or netlab's own process in the box went (the script killed everything it could).
    // The message is the same every time the submission is graded: no pid, no instance name, no count, and no
    // detail that depends on timing (that goes to the log).
    if (r.exitCode === undefined && !ctx.signal.aborted) {
      log.push(`(${s.file} ended without an exit code: ${/launcher ended/.test(r.stderr) ? "the box's launcher ended" : r.spawnError !== undefined ? 'it could not be started' : 'killed'})`);
      throw new SubmissionError(`${s.file} was killed, or killed netlab's processes in its box, before it finished`);
    }
  }
}

/** The nodes of the lab whose namespace is no longer there (a script deleted it). */
async function missingNodes(ctx: GradeContext): Promise<string[]> {
  const present = new Set(await listNamespaces());
  return ctx.plan.namespaces.filter((n) => !present.has(n.ns)).map((n) => n.node);
}

/** Past the scripts and again after the checks: a box that hit its process or memory limit had a submission that forks or eats without end. */
function limitsHeld(ctx: GradeContext, job: GradeJob): void {
  const ref = ctx.record.sandbox?.limits;
  if (!ref) return;
  const hits = limitHits(ref);
  if (hits.pids) throw new SubmissionError(`the submission forks without end: its box hit the process limit (${job.limits.maxPids})`);
  if (hits.oom) throw new SubmissionError(`the submission uses too much memory: the kernel killed its processes at the box's limit (${job.limits.maxMemory} bytes)`);
}

/** The first check in report order that did not hold (skipped ones are not failures of their own). */
function firstFailing(report: RunReport): string | undefined {
  return report.stages.flatMap((s) => s.results).find((r) => !r.ok && r.got !== 'skipped')?.name;
}

/** Grades one submission; writes its folder; returns its gradebook row. Never throws for the submission's own faults. */
export async function gradeOne(job: GradeJob): Promise<GradeRow> {
  const started = performance.now();
  const { dir, submission } = job;
  const log: string[] = [];
  const ref = await loadRubric(job.rubric);
  let lab = ref.lab;
  let scripts: NodeScript[] = [];
  let early: string | undefined;
  if (submission.kind === 'lab') {
    try {
      lab = gradedLab(ref, await loadLabFile(submission.path));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      early = `the lab file is not valid:\n${e.problems.map(formatProblem).join('\n')}`;
      log.push(early);
    }
  } else {
    try {
      scripts = readScripts(submission, lab.nodes.map((n) => n.name));
    } catch (e) {
      early = (e as Error).message;
    }
  }
  const { untilStage, stages } = gradingPlan(lab, ref.exercise, submission.kind);
  // What every submission is out of: the reference's graded checks (a student's lab gets the same ones, gradedLab).
  const maxOf = () => maxPoints(ref.lab, gradingPlan(ref.lab, ref.exercise, 'scripts').stages);
  let row: GradeRow;
  if (early !== undefined) {
    row = { id: submission.id, status: 'error', score: 0, max: maxOf(), passed: 0, failed: 0, errors: 0, durationMs: performance.now() - started, error: early };
  } else {
    const opts: LifecycleOptions = {
      keep: false,
      check: true,
      quiet: true,
      sandbox: true,
      limits: job.limits,
      timeLimitMs: job.timeLimitMs,
      hide: job.hide,
      untilStage,
      evidenceDir: join(dir, 'evidence'),
      grade: {
        stages,
        submit: async (ctx) => {
          await applyScripts(scripts, ctx, job, log);
        },
        after: async (ctx) => limitsHeld(ctx, job),
      },
    };
    const outcome = await execute(lab, opts);
    // Interrupted (grade's Ctrl-C): not graded, so nothing is written that --resume would take for a result.
    if (outcome.error instanceof InterruptedError) throw outcome.error;
    const { report } = outcome;
    const score = scoreOf(report);
    const s = report.summary;
    const error = outcome.error ? `${outcome.error.message}${outcome.error.hint ? ` (${outcome.error.hint})` : ''}` : undefined;
    const failing = firstFailing(report);
    row = {
      id: submission.id,
      status: error === undefined ? 'graded' : 'error',
      score: error === undefined ? score.points : 0,
      max: error === undefined ? score.max : maxOf(),
      passed: s.passed,
      failed: s.failed,
      errors: s.errors,
      durationMs: performance.now() - started,
      ...(failing !== undefined ? { firstFailing: failing } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    await writeReports(report, dir);
  }
  await writeFile(join(dir, 'output.log'), log.join('\n'));
  const tmp = join(dir, 'result.json.tmp');
  await writeFile(tmp, JSON.stringify(row, null, 2) + '\n');
  await rename(tmp, join(dir, 'result.json'));
  return row;
}

/** The grader's report (every check), the learner's (hidden checks left out) and JUnit, in the submission's folder. */
async function writeReports(report: RunReport, dir: string): Promise<void> {
  const { render } = await import('../report/index.js');
  const learner = learnerView(report);
  await writeFile(join(dir, 'report.json'), await render('json', report, { color: false }));
  await writeFile(join(dir, 'junit.xml'), await render('junit', report, { color: false }));
  await writeFile(join(dir, 'learner.json'), await render('json', learner, { color: false }));
  await writeFile(join(dir, 'learner.txt'), await render('table', learner, { color: false }));
}
