// `netlab test [PATHS...]`: validate every lab file found, run each (all steps, every check) as a child
// `netlab run FILE -q -f json -o TMP`, up to --jobs at once, and report one row per lab plus one JUnit document.
//
// Why children and not in-process runs: a run owns process-wide state — its SIGINT/SIGTERM handlers, the runtime it
// enters (plain or a sandbox), trace and limit settings, the listr2 progress on stderr — and tears down from its own
// `finally`. As a child each lab keeps all of that to itself, a crash or a hang in one cannot take the others with
// it, and a signal becomes "send it to every child and wait": each tears its own lab down (lifecycle.ts), exactly as
// a `netlab run` at a terminal does.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, appendFile, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, InterruptedError, NetlabError, UsageError, ValidationError, type Problem } from '../errors.js';
import { declaredName, discoverLabs, head, shownPath } from '../lab/discover.js';
import { limitOption, type LimitKey } from '../lab/limits.js';
import { loadLabFile } from '../lab/load.js';
import { useColor } from '../report/color.js';
import type { RunReport } from '../report/model.js';
import { renderRunJson, renderRunJunit, renderRunMarkdown, renderRunTable, summarizeRun, TEST_RUN_SCHEMA_VERSION, type LabOutcome, type TestRun } from '../report/test-run.js';
import { printable } from '../printable.js';
import { nftCheck } from '../runner/nft-check.js';
import { pcapFilterCheck } from '../runner/pcap-filter-check.js';
import { trapSignals } from '../runner/signals.js';
import { DEFAULT_LIMITS } from '../runner/limits.js';
import { checkWritable, type Command } from './common.js';
import { limitsFromArgs } from './limit-options.js';
import { sandboxLimits } from './run.js';

interface Args {
  paths: string[];
  jobs?: number;
  junit?: string;
  format: 'table' | 'json';
  output?: string;
  quiet: boolean;
  verbose: boolean;
  sandbox: boolean;
  maxPids?: number;
  maxMemory?: string;
  timeLimit?: string;
  [limit: string]: unknown;
}

/** The CLI this module belongs to (dist/cli.js next to dist/commands/), run again for each lab. */
const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
/** How much of a child's stderr is kept (its end: the error is the last thing it says). */
const STDERR_KEEP = 64 * 1024;

/**
 * A lab file validated as `netlab validate` does — schema and rules, then nftables' own `nft -c` on its rulesets and
 * tcpdump's compiler on its capture filters where the machine can — as the problems found (empty: valid) and its name.
 */
export async function validateLabFile(file: string): Promise<{ name?: string; problems: Problem[] }> {
  try {
    const lab = await loadLabFile(file);
    const nft = await nftCheck(lab);
    if (nft?.problems.length) {
      return { name: lab.name, problems: nft.problems.map((p) => ({ file, line: 0, col: 0, path: `nodes.${p.node}`, message: `nftables rejects the ruleset of step "${p.stage}": ${p.message}` })) };
    }
    const filters = await pcapFilterCheck(lab);
    if (filters?.problems.length) return { name: lab.name, problems: filters.problems };
    return { name: lab.name, problems: [] };
  } catch (e) {
    let name: string | undefined;
    try {
      name = declaredName(head(file));
    } catch {
      name = undefined; // unreadable: the problem below says so
    }
    const named = name !== undefined ? { name } : {};
    if (e instanceof ValidationError) return { ...named, problems: e.problems };
    if (e instanceof NetlabError) return { ...named, problems: [{ file, line: 0, col: 0, path: '', message: e.message, ...(e.hint ? { hint: e.hint } : {}) }] };
    throw e;
  }
}

/** The status a child `netlab run`'s exit code means (its report, when there is one, refines ok vs failed). */
export function statusOfExit(code: number | null, signalled: boolean): LabOutcome['status'] {
  if (code === EXIT.ok) return 'ok';
  if (code === EXIT.checksFailed) return 'failed';
  if (code === EXIT.invalid) return 'invalid';
  if (signalled && (code === EXIT.interrupted || code === EXIT.terminated)) return 'interrupted';
  return 'error';
}

/**
 * The exit code of a whole test run. Precedence: interrupted (130 SIGINT / 143 SIGTERM) over 3 (a lab could not be
 * built or run: the run could not tell whether the labs hold) over 1 (a lab not as expected, or invalid) over 0.
 */
export function runExitCode(labs: readonly Pick<LabOutcome, 'status'>[], signal?: 'SIGINT' | 'SIGTERM'): number {
  if (signal) return signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  if (labs.some((l) => l.status === 'error' || l.status === 'interrupted')) return EXIT.environment;
  if (labs.some((l) => l.status === 'failed' || l.status === 'invalid')) return EXIT.checksFailed;
  return EXIT.ok;
}

/** The options every child `netlab run` gets from ours: --sandbox and its limits, and the lab file limits. */
function passThrough(a: Args): string[] {
  const out: string[] = [];
  if (a.sandbox) out.push('--sandbox');
  if (a.maxPids !== undefined) out.push('--max-pids', String(a.maxPids));
  if (a.maxMemory !== undefined) out.push('--max-memory', String(a.maxMemory));
  if (a.timeLimit !== undefined) out.push('--time-limit', String(a.timeLimit));
  const limits = limitsFromArgs(a);
  for (const key of Object.keys(limits) as LimitKey[]) out.push(`--${limitOption(key)}`, String(limits[key]));
  return out;
}

interface Child {
  kill: (sig: NodeJS.Signals) => void;
  done: Promise<{ code: number | null; stderr: string }>;
}

/** Starts `netlab run FILE -q -f json -o REPORT …`: stdin closed, stdout unused, the end of stderr kept. */
function startRun(file: string, reportFile: string, extra: readonly string[]): Child {
  const env = { ...process.env };
  delete env.GITHUB_STEP_SUMMARY; // the summary gets one table for the whole run, not a report per lab
  const child = spawn(process.execPath, [CLI, 'run', resolve(file), '-q', '-f', 'json', '-o', reportFile, ...extra], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolveDone) => {
    child.on('error', (e) => resolveDone({ code: null, stderr: `could not start netlab run: ${e.message}` }));
    child.on('close', (code, sig) => resolveDone({ code: code ?? (sig ? 128 : null), stderr: stderr.slice(-STDERR_KEEP) }));
  });
  return {
    kill: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    done,
  };
}

/** A child's JSON report, or undefined when it wrote none (or not one we can read). */
async function readReport(file: string): Promise<RunReport | undefined> {
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as RunReport;
    return r && r.schemaVersion === 1 && Array.isArray(r.stages) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** What a child said on stderr, without its `hint:` indentation noise; a fallback when it said nothing. */
const said = (stderr: string, code: number | null): string => stderr.trim() || `netlab run ended with ${code === null ? 'no exit code' : `exit code ${code}`} and said nothing`;

async function handler(a: Args): Promise<number> {
  const jobs = a.jobs ?? availableParallelism();
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new UsageError(`--jobs takes a whole number of at least 1, not ${a.jobs}`);
  if (a.junit !== undefined) {
    if (a.junit === '' || a.junit === '-') throw new UsageError('--junit takes a file name', { hint: 'e.g. --junit netlab.xml; the table or JSON goes to stdout (or -o FILE)' });
    checkWritable(a.junit);
  }
  if (a.output !== undefined && a.output !== '-') checkWritable(a.output);
  if (a.junit !== undefined && a.output !== undefined && resolve(a.junit) === resolve(a.output)) throw new UsageError(`--junit and --output name one file: ${a.output}`);
  sandboxLimits(a, false); // --max-pids, --max-memory, --time-limit: only with --sandbox, and well-formed
  const extra = passThrough(a);
  const found = discoverLabs(a.paths ?? []);
  if (a.verbose) for (const s of found.skipped) process.stderr.write(`netlab: skipped ${printable(shownPath(s.file))}: ${s.why}\n`);
  const files = found.labs;
  const progress = !a.quiet && process.stderr.isTTY === true;
  const say = (line: string) => progress && process.stderr.write(line + '\n');
  say(`netlab test: ${files.length} lab${files.length === 1 ? '' : 's'}, ${Math.min(jobs, files.length)} at a time`);

  const startedAt = new Date();
  const tmp = mkdtempSync(join(tmpdir(), 'netlab-test-run-'));
  const running = new Set<Child>();
  let stopped: 'SIGINT' | 'SIGTERM' | undefined;
  const { dispose } = trapSignals((sig) => {
    stopped = sig;
    process.stderr.write(`netlab: ${sig}: ending ${running.size} running lab${running.size === 1 ? '' : 's'} (each tears itself down), starting no more\n`);
    for (const c of running) c.kill(sig);
  });
  const outcomes: LabOutcome[] = new Array<LabOutcome>(files.length);
  let finished = 0;
  const testOne = async (i: number): Promise<LabOutcome> => {
    const file = files[i] as string;
    const shown = shownPath(file);
    const fallbackName = basename(file).replace(/\.ya?ml$/, '');
    const t0 = Date.now();
    const notRun = (): LabOutcome => ({ file: shown, lab: fallbackName, status: 'interrupted', durationMs: 0, error: `not run: ${new InterruptedError(stopped ?? 'SIGINT').message}` });
    if (stopped) return notRun();
    const v = await validateLabFile(file);
    const lab = v.name ?? fallbackName;
    if (v.problems.length) return { file: shown, lab, status: 'invalid', durationMs: Date.now() - t0, problems: v.problems };
    if (stopped) return notRun();
    const reportFile = join(tmp, `${i}.json`);
    const child = startRun(file, reportFile, extra);
    if (a.verbose) process.stderr.write(`netlab: [${i + 1}/${files.length}] netlab run ${printable(shown)} ${['-q', '-f', 'json', '-o', reportFile, ...extra].join(' ')}\n`);
    running.add(child);
    const { code, stderr } = await child.done;
    running.delete(child);
    const report = await readReport(reportFile);
    let status = statusOfExit(code, stopped !== undefined);
    // Exit 0 is only believed with a report that shows every check as expected (belt and braces: run exits 1 or 3 else).
    if (status === 'ok' && !report) status = 'error';
    else if (status === 'ok' && report && report.summary.passed !== report.summary.total) status = 'failed';
    const outcome: LabOutcome = { file: shown, lab: report?.lab ?? lab, status, durationMs: report?.durationMs ?? Date.now() - t0, ...(report ? { report } : {}) };
    if (status === 'invalid') outcome.problems = [{ file: shown, line: 0, col: 0, path: '', message: said(stderr, code) }];
    // What the run said, when it says more than the report: a build or environment failure, a signal. A report whose
    // checks could not all run (exit 3) already tells that check by check, with nothing more on stderr.
    else if (stderr.trim() || !report || report.aborted !== undefined) {
      if (status === 'error' || status === 'interrupted' || !report) outcome.error = said(stderr, code);
    }
    return outcome;
  };

  try {
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        // A bug in one lab's handling must not end the workers while other labs' runs go on unwatched.
        const o = await testOne(i).catch((e: unknown): LabOutcome => ({
          file: shownPath(files[i] as string),
          lab: basename(files[i] as string).replace(/\.ya?ml$/, ''),
          status: 'error',
          durationMs: 0,
          error: `netlab: internal error: ${e instanceof Error ? e.message : String(e)}`,
        }));
        outcomes[i] = o;
        finished++;
        const s = o.report?.summary;
        say(`[${finished}/${files.length}] ${o.status === 'ok' ? '✔' : o.status === 'failed' || o.status === 'invalid' ? '✘' : '!'} ${printable(o.lab)} (${printable(o.file)}): ${o.status === 'invalid' ? `invalid, ${o.problems?.length ?? 0} problem(s)` : s ? `${s.passed} passed, ${s.failed} failed${s.errors ? `, ${s.errors} errors` : ''}` : o.status}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  } finally {
    // Every child has ended here (each worker awaits its own): nothing runs on, and their report files can go.
    dispose();
    rmSync(tmp, { recursive: true, force: true });
  }

  const run: TestRun = { schemaVersion: TEST_RUN_SCHEMA_VERSION, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), labs: outcomes, summary: summarizeRun(outcomes) };
  let code = runExitCode(outcomes, stopped);
  const write = async (what: string, file: string, text: string) => {
    try {
      await writeFile(file, text);
      return true;
    } catch (e) {
      process.stderr.write(`netlab: could not write the ${what} to ${file}: ${(e as Error).message}\n`);
      return false;
    }
  };
  let written = true;
  if (a.junit !== undefined) written = (await write('JUnit report', a.junit, renderRunJunit(run))) && written;
  const toStdout = a.output === undefined || a.output === '-';
  const main = a.format === 'json' ? renderRunJson(run) : renderRunTable(run, toStdout && useColor(process.stdout));
  if (toStdout) process.stdout.write(main);
  else written = (await write(`${a.format} report`, a.output as string, main)) && written;
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    try {
      await appendFile(summary, renderRunMarkdown(run) + '\n');
    } catch (e) {
      process.stderr.write(`netlab: could not append to GITHUB_STEP_SUMMARY (${summary}): ${(e as Error).message}\n`);
    }
  }
  if (!written && code < EXIT.environment) code = EXIT.environment;
  return code;
}

export const testCommand: Command<Args> = {
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'Lab files, or directories searched recursively for *.yaml / *.yml (rubric files are skipped); none: the built-in labs' })
      .option('jobs', { alias: 'j', type: 'number', requiresArg: true, describe: 'Run at most this many labs at once', defaultDescription: `the number of cores (${availableParallelism()})` })
      .option('junit', { type: 'string', requiresArg: true, describe: 'Also write one JUnit XML file: a testsuite per lab, a testcase per check' })
      .option('format', { alias: 'f', type: 'string', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'table: a row per lab; json: every lab\'s outcome with its full report' })
      .option('output', { alias: 'o', type: 'string', requiresArg: true, nargs: 1, describe: 'Write the table or JSON to this file instead of stdout (- : stdout)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr (there is none when stderr is not a terminal)' })
      .option('sandbox', { type: 'boolean', default: false, describe: 'Run every lab boxed (as netlab run --sandbox): for lab files you did not write (docs/trust.md)' })
      .option('max-pids', { type: 'number', requiresArg: true, describe: 'With --sandbox: at most this many processes in each lab\'s box', defaultDescription: String(DEFAULT_LIMITS.maxPids) })
      .option('max-memory', { type: 'string', requiresArg: true, describe: 'With --sandbox: at most this much memory for each lab\'s box, e.g. 512M', defaultDescription: '1G' })
      .option('time-limit', { type: 'string', requiresArg: true, describe: 'With --sandbox: kill a lab\'s box after this long, e.g. 90s, 10m (that lab: could not run)', defaultDescription: '10m' })
      .group(['sandbox', 'max-pids', 'max-memory', 'time-limit'], 'Sandbox:')
      .example('netlab test', 'Validate and run every built-in lab')
      .example('netlab test labs/ --junit netlab.xml', 'Every lab file under labs/, with one JUnit file for CI (a testsuite per lab)')
      .example('netlab test my-labs/ -j 2 -q -f json -o results.json', 'Two labs at a time, the results as JSON')
      .example('netlab test ./untrusted/ --sandbox --time-limit 5m', 'Lab files you did not write, each boxed')
      .epilogue(
        `Each lab is validated first (an invalid one fails with its problems, file:line:col), then run in full as \`netlab run FILE\`. Exit: 0 every lab as expected; 1 a lab's checks not as expected, or a lab file invalid; 2 usage (bad option, a path that does not exist, no lab file found); 3 a lab could not be built or run (environment: not root, a tool missing, a build command failed, its time limit) — 3 wins over 1; 130/143 interrupted (every lab running is torn down first). The lab file limits (--max-nodes and the rest, above) hold for each lab.`,
      ) as never,
  handler,
};
