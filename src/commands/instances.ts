// Verbs on running instances: check, down, status, exec, cleanup.
import { basename } from 'node:path';
import { checkPhase } from '../checks/phase.js';
import { EXIT, UsageError } from '../errors.js';
import { inNamespace } from '../plan/argv.js';
import { INSTANCE, nsName, parseNsName, validInstance } from '../plan/naming.js';
import { planLab } from '../plan/planner.js';
import type { Format } from '../report/index.js';
import { makeReport, type StageReport } from '../report/model.js';
import { runInteractive } from '../runner/exec.js';
import { teardown } from '../runner/executor.js';
import { cgroupPids, removeLimits, strayCgroups } from '../runner/limits.js';
import { runtimeOf, unprivileged, withRuntime } from '../runner/runtime.js';
import { preflight, which } from '../runner/preflight.js';
import { ipv6Routers, settle, settleNamespaces } from '../runner/settle.js';
import { trapSignals } from '../runner/signals.js';
import { alive, listNamespaces, readRecords, removeRecord, removeStaleTempFiles, staleTempFiles, type StateRecord } from '../runner/state.js';
import { checkSelection, emitReport, printJson, rememberFailed, reportTargets, requireRecord, rubricLab, withCheckOptions, withReportOptions, withRubricOptions, type CheckArgs, type Command, type RubricArgs } from './common.js';
import type { Lab } from '../lab/types.js';
import { reportExitCode } from './lifecycle.js';
import { gradedChecks } from '../checks/graded.js';

/**
 * The stage whose checks `check` runs: the exercise step while the learner has not had it applied (`up --exercise`),
 * else the stage the instance is at.
 */
export function gradedStage(rec: Pick<StateRecord, 'stage' | 'exercise'>): number {
  return rec.exercise !== undefined && rec.stage < rec.exercise.stage ? rec.exercise.stage : rec.stage;
}

/** The stages `check` runs the checks of: the setup and the graded stage. */
export function gradedPicks(rec: Pick<StateRecord, 'stage' | 'exercise'>): number[] {
  return [0, gradedStage(rec)].filter((v, i, all) => v >= 0 && all.indexOf(v) === i);
}

/** What `check` and the verbs that end with a check (solve, step --check) take: report targets and check options. */
export type GradeArgs = CheckArgs & { format: Format[]; output?: string[]; wide?: boolean; learner?: boolean };

/**
 * Runs the checks of stages `picks` against the running instance, prints the report and returns the exit code
 * (0 all as expected, 1 a check failed, 3 a check could not run or a report file could not be written). `setupAll`:
 * run every setup check even when a later stage is picked too; otherwise the setup's must-fail checks are left out
 * then, as they describe the lab before the steps (which may well change what they test on purpose).
 */
export async function gradeInstance(rec: StateRecord, picks: readonly number[], a: GradeArgs, opts: { setupAll?: boolean; model?: Lab } = {}): Promise<number> {
  const targets = reportTargets(a);
  // `model`: the instance's lab with a rubric's checks merged in (same nodes and stages, so the same namespaces).
  const model = opts.model ?? rec.model;
  const plan = planLab(model, rec.instance);
  const later = picks.some((i) => i > 0);
  const checksOf = (i: number) => gradedChecks(plan.stages[i]?.checks ?? [], i, later, opts.setupAll);
  const runnable = picks.flatMap((i) => checksOf(i).map((c) => c.id));
  const selection = await checkSelection(rec.lab, a, runnable);
  if (!selection) return 0;
  const { signal, dispose } = trapSignals();
  const started = new Date();
  const stages: StageReport[] = [];
  try {
    // Usually settled long ago (one look per namespace with devices); right after `up` it may not be.
    const ops = plan.stages.slice(0, rec.stage + 1).flatMap((s) => s.ops);
    await settle(settleNamespaces(ops), signal, ipv6Routers(ops));
    for (const i of picks) {
      const s = plan.stages[i];
      if (!s) continue;
      const checks = selection.only ? checksOf(i).filter((c) => selection.only?.has(c.id)) : checksOf(i);
      if (selection.only && !checks.length) continue;
      const results = await checkPhase(checks, {
        signal,
        leases: rec.leases ?? [],
        namespaces: plan.namespaces,
        ...(selection.evidenceDir !== undefined ? { evidenceDir: selection.evidenceDir, pcap: selection.pcap ?? false } : {}),
      });
      stages.push({ name: s.name, title: s.title, results });
    }
  } finally {
    dispose();
  }
  const report = makeReport({ lab: rec.lab, title: rec.model.title, instance: rec.instance, startedAt: started, stages, scored: model.scored === true });
  const written = await emitReport(report, targets, { wide: a.wide ?? false, learner: a.learner ?? false });
  await rememberFailed(report);
  // A report file that could not be written is an environment failure (3), as in `run`.
  return written ? reportExitCode(report) : Math.max(reportExitCode(report), EXIT.environment);
}

/** The index of step `step` (a name or a number) of a running instance, or a UsageError listing the steps. */
export function stepIndex(rec: Pick<StateRecord, 'model'>, step: string): number {
  const stages = rec.model.stages;
  const i = /^\d+$/.test(step) ? Number(step) : stages.findIndex((s) => s.name === step);
  if (i < 0 || i >= stages.length) throw new UsageError(`no step "${step}"`, { hint: `steps: ${stages.map((s, n) => `${n} ${s.name}`).join(', ')}` });
  return i;
}

export const checkCommand: Command<GradeArgs & RubricArgs & { instance: string; step?: string }> = {
  builder: (y) =>
    withRubricOptions(withCheckOptions(withReportOptions(y)))
      .positional('instance', { type: 'string', demandOption: true })
      .option('step', { type: 'string', describe: 'Run this step\'s checks instead (name or number)' })
      .example('netlab check veth-routing', 'Re-check the lab after changing something by hand')
      .example('netlab up veth-routing --exercise && netlab check veth-routing', 'Grade an exercise: what still fails, with hints (exit 1 until it all holds)')
      .example('netlab check veth-routing --only-failed --evidence ev', 'Re-run what did not hold, keeping its evidence')
      .example('netlab check host-only --rubric examples/rubrics/host-only.yaml', 'Try a rubric on the running instance (e.g. after netlab solve): a scored report') as never,
  handler: async (a) => {
    validInstance(a.instance);
    reportTargets(a);
    preflight();
    const rec = await requireRecord(a.instance);
    // --rubric: the instance's lab with the rubric's checks merged in (the rubric must be for that lab).
    const model = a.rubric !== undefined ? await rubricLab(a.rubric, rec.lab) : undefined;
    const shape = (l: Lab) => JSON.stringify([l.nodes.map((n) => n.name), l.stages.map((st) => st.name)]);
    if (model && shape(model) !== shape(rec.model)) {
      throw new UsageError(`instance "${rec.instance}" was not built from the lab file the rubric names (${model.file}): their nodes or steps differ`, { hint: 'use the rubric with an instance of its own lab' });
    }
    const opts = model ? { model } : {};
    if (a.step !== undefined) return gradeInstance(rec, [stepIndex(rec, a.step)], a, opts);
    return gradeInstance(rec, gradedPicks(rec), a, opts);
  },
};

export const downCommand: Command<{ instance: string }> = {
  builder: (y) => y.positional('instance', { type: 'string', demandOption: true }).example('netlab down veth-routing', '') as never,
  handler: async (a) => {
    validInstance(a.instance);
    preflight();
    const rec = await requireRecord(a.instance);
    if (alive(rec.owner) && rec.owner?.pid !== process.pid) {
      throw new UsageError(`instance "${a.instance}" is being run by netlab pid ${rec.owner?.pid}`, { hint: 'stop that run (Ctrl-C) instead; it tears down itself' });
    }
    const t = await teardown(rec);
    await removeRecord(rec.instance);
    process.stderr.write(`down: ${rec.instance}: deleted ${t.namespaces.length} namespaces\n`);
    return 0;
  },
};

interface StatusRow {
  instance: string;
  lab: string;
  mode: string;
  state: string;
  step: string;
  namespaces: string;
  created: string;
}

export const statusCommand: Command<{ json: boolean }> = {
  builder: (y) => y.option('json', { type: 'boolean', default: false }) as never,
  handler: async (a) => {
    const recs = await readRecords();
    const present = new Set(await listNamespaces());
    // A sandboxed instance's namespaces are only in its supervisor's /run/netns.
    for (const r of recs) if (r.sandbox) for (const ns of await withRuntime(runtimeOf(r), listNamespaces)) present.add(ns);
    const rows: StatusRow[] = recs.map((r) => ({
      instance: r.instance,
      lab: r.lab,
      mode: r.sandbox ? `${r.mode} (sandbox)` : r.mode,
      state: alive(r.owner)
        ? `${r.status} (pid ${r.owner?.pid})`
        : r.sandbox && !alive(r.sandbox.supervisor)
          ? 'stale: sandbox gone (netlab cleanup)'
          : r.mode === 'up' && r.status === 'ready' ? 'up' : 'stale (netlab cleanup)',
      step: r.stage >= 0 ? (r.model.stages[r.stage]?.name ?? String(r.stage)) : '-',
      namespaces: `${r.namespaces.filter((n) => present.has(n)).length}/${r.namespaces.length}`,
      created: r.createdAt,
    }));
    if (a.json) printJson(rows);
    else if (!rows.length) process.stdout.write('no instances\n');
    else {
      const cols = Object.keys(rows[0] as StatusRow) as (keyof StatusRow)[];
      const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
      const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i] ?? 0)).join('  ').trimEnd();
      process.stdout.write([line(cols), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n') + '\n');
    }
    return 0;
  },
};

/**
 * The prompt of `netlab exec INSTANCE NODE`'s shell, naming the lab (and the instance, when it is not the lab's name)
 * and the node: `[veth-routing ns2]# `. Only letters, digits and `_.:-` get through: bash expands `$(...)`, backquotes
 * and backslash escapes in PS1, and the names come from a state record on disk.
 */
export function shellPrompt(rec: Pick<StateRecord, 'lab' | 'instance'>, node: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.:-]/g, '?');
  const where = rec.instance === rec.lab ? rec.lab : `${rec.lab}:${rec.instance}`;
  return `[${safe(where)} ${safe(node)}]# `;
}

export const execCommand: Command<{ instance: string; node: string; cmd: string[]; '--'?: (string | number)[] }> = {
  builder: (y) =>
    y
      .positional('instance', { type: 'string', demandOption: true })
      .positional('node', { type: 'string', demandOption: true })
      .positional('cmd', { type: 'string', array: true, default: [] })
      .example('netlab exec veth-routing ns1 -- ip route', 'Show ns1\'s routes')
      .example('netlab exec veth-routing ns1 -- ping -c1 10.10.20.2', 'Ping from ns1')
      .example('netlab exec veth-routing host', 'A shell inside host; its prompt names the lab and node: [veth-routing host]#') as never,
  handler: async (a) => {
    const rec = await requireRecord(validInstance(a.instance));
    if (!rec.model.nodes.some((n) => n.name === a.node)) {
      throw new UsageError(`instance "${a.instance}" has no node "${a.node}"`, { hint: `nodes: ${rec.model.nodes.map((n) => n.name).join(', ')}` });
    }
    // Words after `--` arrive in a['--'] (populate--), so options of the command are not parsed by netlab.
    const words = [...a.cmd, ...(a['--'] ?? []).map(String)];
    if (words.length) return runInteractive(inNamespace(nsName(rec.instance, a.node), words));
    const shell = which('bash') ? ['bash', '--norc', '--noprofile'] : ['sh'];
    return runInteractive(inNamespace(nsName(rec.instance, a.node), shell), { PS1: shellPrompt(rec, a.node) });
  },
};

/**
 * Which instances cleanup may touch: every one (no filter), those named exactly, or those whose id starts with a
 * prefix. Lets a user — or a soak test sharing the machine with other runs — remove only its own leftovers.
 */
export interface InstanceFilter {
  instances?: readonly string[];
  prefix?: string;
}

/** True when the filter selects this instance id (an empty filter selects every one). */
export function selects(filter: InstanceFilter, instance: string): boolean {
  const named = filter.instances?.length ? filter.instances.includes(instance) : undefined;
  const prefixed = filter.prefix !== undefined ? instance.startsWith(filter.prefix) : undefined;
  if (named === undefined && prefixed === undefined) return true;
  return Boolean(named) || Boolean(prefixed);
}

/**
 * What cleanup would remove (within the filter): instances nobody is running, netlab namespaces no record owns, and
 * temp files of record writes that a killed netlab left behind (`<instance>.json.tmp-<pid>`).
 */
export async function leftovers(filter: InstanceFilter = {}): Promise<{ records: StateRecord[]; orphans: string[]; tempFiles: string[]; cgroups: string[] }> {
  const recs = await readRecords();
  const records = recs.filter((r) => !alive(r.owner) && selects(filter, r.instance));
  const owned = new Set(recs.flatMap((r) => r.namespaces));
  // Without root netlab never makes a namespace in the host's /run/netns (every lab is boxed): the netlab-* ones there
  // are root's, neither this user's to remove nor a reason for cleanup to fail (they made the unprivileged CI pass
  // exit 3 while root labs ran beside it).
  const orphans = (unprivileged() ? [] : await listNamespaces()).filter((ns) => {
    const parsed = parseNsName(ns);
    return parsed !== undefined && !owned.has(ns) && selects(filter, parsed.instance);
  });
  const tempFiles = staleTempFiles().filter((p) => selects(filter, basename(p).replace(/\.json\.tmp-\d+$/, '')));
  // `netlab-<instance>` cgroups of a sandbox whose record is gone (a netlab killed while starting it): empty ones only.
  const recorded = new Set(recs.map((r) => r.instance));
  const cgroups = strayCgroups((id) => !recorded.has(id) && selects(filter, id)).filter((d) => cgroupPids(d).length === 0);
  return { records, orphans, tempFiles, cgroups };
}

/** Refuses an instance id or prefix that no netlab instance can have (exit 2). */
function checkFilter(filter: InstanceFilter): void {
  for (const id of filter.instances ?? []) validInstance(id);
  if (filter.prefix !== undefined && !INSTANCE.test(filter.prefix)) {
    throw new UsageError(`--prefix "${filter.prefix}" is not the start of a valid instance id`, { hint: 'use lower-case letters, digits and dashes, at most 48' });
  }
}

export const cleanupCommand: Command<{ dryRun: boolean; instances: string[]; prefix?: string }> = {
  builder: (y) =>
    y
      .positional('instances', { type: 'string', array: true, default: [], describe: 'Only these instances (and their namespaces)' })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Only say what would be removed' })
      .option('prefix', { type: 'string', describe: 'Only instances whose id starts with this (with instances: either)' })
      .example('netlab cleanup', 'After a crash or kill -9: everything no live netlab runs')
      .example('netlab cleanup my-lab-1a2b', 'Only that instance')
      .example('netlab cleanup --prefix ci-42-', 'Only the instances of one CI job (-i ci-42-…)') as never,
  handler: async (a) => {
    const filter: InstanceFilter = { instances: a.instances, ...(a.prefix !== undefined ? { prefix: a.prefix } : {}) };
    checkFilter(filter);
    const { records, orphans, tempFiles, cgroups } = await leftovers(filter);
    if (!records.length && !orphans.length && !tempFiles.length && !cgroups.length) {
      process.stderr.write('cleanup: nothing to remove\n');
      return 0;
    }
    for (const r of records) process.stderr.write(`cleanup: instance ${r.instance} (${r.mode}, ${r.status}): ${r.namespaces.join(' ')}\n`);
    if (orphans.length) process.stderr.write(`cleanup: stray namespaces: ${orphans.join(' ')}\n`);
    if (tempFiles.length) process.stderr.write(`cleanup: temp files of killed runs: ${tempFiles.join(' ')}\n`);
    if (cgroups.length) process.stderr.write(`cleanup: cgroups of gone sandboxes: ${cgroups.join(' ')}\n`);
    if (a.dryRun) return 0;
    removeLimits({ dirs: cgroups });
    const removedTemp = removeStaleTempFiles(tempFiles);
    if (records.length || orphans.length) preflight();
    for (const r of records) {
      await teardown(r);
      await removeRecord(r.instance);
    }
    if (orphans.length) await teardown({ namespaces: orphans, processes: [] });
    const temp = removedTemp.length ? `, ${removedTemp.length} temp files` : '';
    process.stderr.write(`cleanup: removed ${records.length} instances, ${records.reduce((n, r) => n + r.namespaces.length, 0) + orphans.length} namespaces${temp}\n`);
    return 0;
  },
};
