// Helpers shared by command modules: options, output and instance lookup.
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { FORMATS, type Format } from '../report/formats.js';
import { useColor } from '../report/color.js';
import { outputWidth } from '../report/fit.js';
import { jsonText } from '../report/json.js';
import type { RunReport } from '../report/model.js';
import type { Lab } from '../lab/types.js';
import { readLastFailed, readRecord, readRecords, saveLastFailed, type StateRecord } from '../runner/state.js';
import { runtimeOf, useRuntime } from '../runner/runtime.js';

/** A verb's options (yargs builder) and its handler, which returns the exit code; cli.ts holds usage and summary. */
export interface Command<A = Record<string, unknown>> {
  builder: (y: Argv) => Argv<A>;
  handler: (args: A) => Promise<number>;
}

/** One report to write: a format, and a file (no output: stdout). */
export interface ReportTarget {
  format: Format;
  output?: string;
}

/** --format and --output as yargs hands them over: one value, or a list when repeated. */
export interface ReportArgs {
  format?: Format | readonly Format[];
  output?: string | readonly string[];
}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

/** Pairs --format and --output by position (a missing output or `-` is stdout); UsageError for what cannot be written. */
export function reportTargets(args: ReportArgs): ReportTarget[] {
  const formats = list(args.format);
  const outputs = list(args.output);
  if (!formats.length) formats.push('table');
  if (outputs.length > formats.length) {
    throw new UsageError(`${outputs.length} --output for ${formats.length} --format`, {
      hint: 'each --output pairs with the --format in the same position: -f table -f junit -o - -o report.xml',
    });
  }
  const targets = formats.map((format, i): ReportTarget => {
    const output = outputs[i];
    if (output === '') throw new UsageError(`--output ${i + 1} is empty`, { hint: 'give a file name, or - for stdout' });
    return output === undefined || output === '-' ? { format } : { format, output };
  });
  const toStdout = targets.filter((t) => t.output === undefined).map((t) => t.format);
  if (toStdout.length > 1) {
    throw new UsageError(`${toStdout.length} formats to stdout (${toStdout.join(', ')}); at most one may go there`, {
      hint: `give each other format a file: ${toStdout.slice(1).map((f) => `-f ${f} -o FILE`).join(' ')}, pairing -f and -o by position`,
    });
  }
  const files = targets.flatMap((t) => (t.output === undefined ? [] : [resolve(t.output)]));
  const twice = files.find((f, i) => files.indexOf(f) !== i);
  if (twice !== undefined) throw new UsageError(`two formats to one file: ${twice}`);
  for (const t of targets) if (t.output !== undefined) checkWritable(t.output);
  return targets;
}

/**
 * UsageError unless a report can be written to `file`, found out the way the write will go: an existing regular file
 * is opened for writing without truncating it, a new one is created exclusively and removed again; a device or FIFO
 * (-o /dev/stderr) is taken as is. Checked before anything is built, so a run never ends with nowhere to go.
 */
export function checkWritable(file: string): void {
  const fail = (why: string, hint: string): never => {
    throw new UsageError(`cannot write the report to ${file}: ${why}`, { hint: `${hint}; nothing was built` });
  };
  const st = statOrUndefined(file);
  if (st?.isDirectory()) fail('it is a directory', `give a file name inside it, e.g. -o ${file.replace(/\/+$/, '')}/report.xml`);
  if (st && !st.isFile()) return;
  const dir = dirname(resolve(file));
  if (!st) {
    const dst = statOrUndefined(dir);
    if (!dst) fail(`directory ${dir} does not exist`, `create it first (mkdir -p ${dir}), or pick another --output`);
    if (!dst?.isDirectory()) fail(`${dir} is not a directory`, 'pick another --output');
  }
  try {
    closeSync(openSync(file, st ? 'r+' : 'wx'));
    if (!st) unlinkSync(file);
  } catch (e) {
    fail((e as Error).message, 'pick another --output, or fix the permissions');
  }
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Adds --format/-f and --output/-o, both repeatable and paired by position; wrong pairings fail before anything runs. */
export function withReportOptions<T>(y: Argv<T>) {
  return y
    .option('format', {
      alias: 'f',
      type: 'string',
      choices: FORMATS,
      default: ['table'] as Format[],
      defaultDescription: 'table',
      coerce: (v: Format | Format[]) => list(v),
      describe: 'Report format; repeat for several reports (pairs with --output by position)',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      nargs: 1, // so that `--output -` takes the dash as its value, as `-o -` does
      coerce: (v: string | string[]) => list(v),
      describe: 'File for the report of the --format in the same position; - or none: stdout (at most one format there)',
    })
    .option('wide', {
      type: 'boolean',
      default: false,
      describe: 'Table and matrix: one line a row, however wide (default: fit the terminal, or COLUMNS when set; no limit when piped)',
    })
    .check((a) => {
      reportTargets(a as ReportArgs);
      return true;
    });
}

/**
 * Writes each report to its file or stdout; with GITHUB_STEP_SUMMARY set (GitHub Actions), also appends the Markdown
 * report to that file so the job summary shows it. On stdout the table fits the terminal (outputWidth) unless
 * `wide`; in a file it is never wrapped. A report whose file cannot be written after all (disk full) is not lost:
 * stderr says why, and the report goes to stdout when no other report goes there, else to stderr.
 * Returns false when a file could not be written (the caller exits 3).
 */
export async function emitReport(report: RunReport, targets: readonly ReportTarget[], opts: { wide?: boolean; learner?: boolean } = {}): Promise<boolean> {
  const { render } = await import('../report/index.js');
  // --learner: every output is the learner's view (hidden checks left out, nothing computed from them).
  if (opts.learner) report = (await import('../report/model.js')).learnerView(report);
  let ok = true;
  let stdoutTaken = targets.some((t) => t.output === undefined);
  for (const t of targets) {
    if (t.output === undefined) {
      process.stdout.write(await render(t.format, report, { color: useColor(process.stdout), width: opts.wide ? undefined : outputWidth(process.stdout) }));
      continue;
    }
    const text = await render(t.format, report, { color: false });
    try {
      await writeFile(t.output, text);
    } catch (e) {
      ok = false;
      const to = stdoutTaken ? 'stderr' : 'stdout';
      process.stderr.write(`netlab: could not write the ${t.format} report to ${t.output}: ${(e as Error).message}; it follows on ${to}\n`);
      (to === 'stdout' ? process.stdout : process.stderr).write(text.endsWith('\n') ? text : `${text}\n`);
      stdoutTaken = true;
    }
  }
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    try {
      await appendFile(summary, (await render('markdown', report, { color: false })) + '\n');
    } catch (e) {
      process.stderr.write(`netlab: could not append the report to GITHUB_STEP_SUMMARY (${summary}): ${(e as Error).message}\n`);
    }
  }
  return ok;
}

/** --evidence, --pcap and --only-failed as yargs hands them over. */
export interface CheckArgs {
  evidence?: string;
  pcap?: boolean;
  onlyFailed?: boolean;
}

/** `--rubric FILE` and `--learner` (run, check). */
export interface RubricArgs {
  rubric?: string;
  learner?: boolean;
}

/** Adds the rubric options: a rubric's checks merged into the lab's (scored report), and the learner's view of the report. */
export function withRubricOptions<T>(y: Argv<T>) {
  return y
    .option('rubric', { type: 'string', requiresArg: true, describe: 'Also run this rubric\'s checks (docs/grading.md); the report is scored (points per step and in total)' })
    .option('learner', { type: 'boolean', describe: 'Print the learner\'s view of the report: hidden checks left out (their number only)' })
    .group(['rubric', 'learner'], 'Grading:');
}

/**
 * The rubric of --rubric, checked against the lab it is used with (`lab`: the lab's name): its lab with the rubric's
 * checks merged in. UsageError when the rubric is for another lab.
 */
export async function rubricLab(file: string, lab: string): Promise<Lab> {
  const { loadRubric } = await import('../grade/rubric.js');
  const loaded = await loadRubric(file);
  if (loaded.lab.name !== lab) {
    throw new UsageError(`rubric ${loaded.rubric.name} (${file}) is for lab ${loaded.lab.name}, not ${lab}`, { hint: `its lab: ${loaded.rubric.lab}` });
  }
  return loaded.lab;
}

/** Adds the options of every verb that runs checks: evidence of what did not hold, and re-running only that. */
export function withCheckOptions<T>(y: Argv<T>) {
  return y
    .option('evidence', {
      type: 'string',
      describe: 'Write what a teacher looks at for every check that did not hold (output, addresses, routes, neighbours, nft rules, findings) under this directory',
    })
    .option('pcap', { type: 'boolean', describe: 'With --evidence: also run each such check once more under tcpdump and keep the pcap' })
    .option('only-failed', { type: 'boolean', describe: 'Run only the checks that did not hold in the last run or check of this lab' })
    .check((a) => {
      if (a.pcap && a.evidence === undefined) throw new UsageError('--pcap needs --evidence DIR', { hint: 'the pcaps are written into the evidence folders: --evidence ev --pcap' });
      return true;
    });
}

/** What the check options select: evidence, and with --only-failed the ids to run (absent: every check). */
export interface CheckSelection {
  evidenceDir?: string;
  pcap?: boolean;
  only?: ReadonlySet<string>;
}

/**
 * The evidence and --only-failed part of the lifecycle options, given the ids of the checks that would run.
 * Undefined (after saying so) when --only-failed finds nothing that failed last time.
 */
export async function checkSelection(lab: string, a: CheckArgs, runnable: readonly string[]): Promise<CheckSelection | undefined> {
  const out: CheckSelection = {
    ...(a.evidence !== undefined ? { evidenceDir: resolve(a.evidence) } : {}),
    ...(a.pcap ? { pcap: true } : {}),
  };
  if (!a.onlyFailed) return out;
  const last = await readLastFailed(lab);
  if (!last) throw new UsageError(`lab ${lab} has no earlier results here to take the failed checks from`, { hint: 'run it once without --only-failed' });
  if (!last.failed.length) {
    process.stderr.write(`netlab: every check of ${lab} held last time; --only-failed has nothing to run\n`);
    return undefined;
  }
  const only = new Set(last.failed.filter((id) => runnable.includes(id)));
  if (!only.size) {
    throw new UsageError(`the checks of ${lab} that did not hold last time (${last.failed.join(', ')}) are not among the checks this would run`, {
      hint: 'they belong to another step (see --step), or the lab file changed since; run without --only-failed',
    });
  }
  return { ...out, only };
}

/** Remembers which checks did not hold: those that failed now, plus those that failed before and did not run now. */
export async function rememberFailed(report: RunReport): Promise<void> {
  const results = report.stages.flatMap((s) => s.results);
  const ran = new Set(results.map((r) => r.id));
  const before = (await readLastFailed(report.lab))?.failed ?? [];
  const failed = [...before.filter((id) => !ran.has(id)), ...results.filter((r) => !r.ok).map((r) => r.id)];
  try {
    await saveLastFailed(report.lab, failed);
  } catch (e) {
    process.stderr.write(`netlab: could not remember the failed checks for --only-failed: ${(e as Error).message}\n`);
  }
}

/**
 * The state record of an instance, or a UsageError naming the running ones. The command works on this instance
 * from here on: its processes start, and its namespaces are read, through the instance's runtime (plain or sandbox).
 */
export async function requireRecord(instance: string): Promise<StateRecord> {
  const rec = await readRecord(instance);
  if (rec) {
    useRuntime(runtimeOf(rec));
    return rec;
  }
  const names = (await readRecords()).map((r) => r.instance);
  throw new UsageError(`no running instance "${instance}"`, {
    hint: names.length ? `running: ${names.join(', ')}` : 'nothing is running; `netlab up LAB` starts one',
  });
}

/** Prints JSON to stdout, with no raw character a terminal would act on (jsonText). */
export function printJson(value: unknown): void {
  process.stdout.write(jsonText(value) + '\n');
}
