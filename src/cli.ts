#!/usr/bin/env node
// Entry point: yargs wiring of the verbs, and the single place an error becomes a message and an exit code.
// Start-up is on every command's clock, so this module imports only what every path needs (errors.js, exit.js):
// yargs, the --max-* options and runner/exec.js are loaded in main(), each verb's module (with zod, yaml, execa,
// listr2...) only when that verb runs, and `netlab --version` loads nothing more at all (docs/benchmark.md, start-up).
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import type { Argv } from 'yargs';
import { EXIT, NetlabError } from './errors.js';
import { quietBrokenPipe, reportError } from './exit.js';
import type { Command } from './commands/common.js';

// Node >= 22 keeps V8's compiled code of netlab's modules and its dependencies on disk between runs (a no-op where
// the function does not exist, as on Node 20; NODE_DISABLE_COMPILE_CACHE=1 turns it off).
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// A reader that stops reading (`netlab plan LAB | head`) is not an error: drop the rest, finish, exit as usual.
quietBrokenPipe(process.stdout, (e) => {
  process.stderr.write(`netlab: cannot write to stdout: ${e.message}\n`);
  process.exitCode = EXIT.environment;
});
quietBrokenPipe(process.stderr, () => undefined);
// A bug outside the awaited chain (a stray callback) gets the same one line and exit 3, not Node's stack trace.
process.on('uncaughtException', (e) => {
  process.exitCode = reportError(e);
  process.exit();
});

/** Every verb: usage and summary here, the module (and its dependencies) loaded only when that verb runs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each verb has its own argument type
const VERBS: { usage: string; describe: string; load: () => Promise<Command<any>>; limits?: true }[] = [
  { usage: 'run <lab>', describe: 'Build a lab, run its checks step by step, print the report, tear it down', load: async () => (await import('./commands/run.js')).runCommand, limits: true },
  { usage: 'test [paths..]', describe: 'Validate and run every lab file found (directories searched recursively; none: the built-in labs), in parallel; a row per lab, one JUnit file for CI', load: async () => (await import('./commands/test.js')).testCommand, limits: true },
  { usage: 'up <lab>', describe: 'Build a lab and keep it running (then exec, check, step, down; --exercise: build the start of an exercise, then check, solve, reset)', load: async () => (await import('./commands/run.js')).upCommand, limits: true },
  { usage: 'check <instance>', describe: 'Run the checks against a running instance (setup checks and those of the step it is at)', load: async () => (await import('./commands/instances.js')).checkCommand },
  { usage: 'solve <instance>', describe: 'Exercise: apply the step held back for you, then check (--show: only print the reference commands per node)', load: async () => (await import('./commands/learn.js')).solveCommand },
  { usage: 'reset <instance>', describe: 'Tear an instance down and build its start again (the exercise start, or what up built); nothing you changed survives', load: async () => (await import('./commands/learn.js')).resetCommand },
  { usage: 'step <instance> [to]', describe: 'Move a running instance on to the next step, or to step TO (applying the steps in between)', load: async () => (await import('./commands/learn.js')).stepCommand },
  { usage: 'down <instance>', describe: 'Tear down a running instance', load: async () => (await import('./commands/instances.js')).downCommand },
  { usage: 'status', describe: 'List running instances', load: async () => (await import('./commands/instances.js')).statusCommand },
  { usage: 'exec <instance> <node> [cmd..]', describe: 'Run a command inside a node of a running instance (default: a shell)', load: async () => (await import('./commands/instances.js')).execCommand },
  { usage: 'cleanup [instances..]', describe: 'Remove everything netlab owns that no live netlab process is running: crashed runs, up instances, stray netlab-* namespaces (only the instances named or --prefix P, if given)', load: async () => (await import('./commands/instances.js')).cleanupCommand },
  { usage: 'list', describe: 'List the built-in labs', load: async () => (await import('./commands/labs.js')).listCommand },
  { usage: 'show <lab>', describe: 'Describe what a lab builds, step by step (nodes, links, devices, addresses, routes, NAT, forwards, DHCP, services, firewall), and its checks', load: async () => (await import('./commands/labs.js')).showCommand, limits: true },
  { usage: 'graph <lab>', describe: 'Draw a lab (as of a step): namespaces, interfaces, addresses, links, bridges, devices, NAT points; as text, Mermaid or DOT', load: async () => (await import('./commands/graph.js')).graphCommand, limits: true },
  { usage: 'plan <lab>', describe: 'Print the ip/sysctl commands that build the lab, as a runnable bash script', load: async () => (await import('./commands/labs.js')).planCommand, limits: true },
  { usage: 'validate <labs..>', describe: 'Check lab files (or built-in names) and rubric files without building anything; every problem with file:line:col', load: async () => (await import('./commands/labs.js')).validateCommand, limits: true },
  { usage: 'schema', describe: 'Print the JSON Schema of lab files, or with --rubric of rubric files (for editors: # yaml-language-server: $schema=...)', load: async () => (await import('./commands/labs.js')).schemaCommand },
  { usage: 'grade <lab> [submissions..]', describe: 'Grade a class: each submission (node scripts or a lab file) in a sandboxed instance of its own, in parallel, scored by a rubric; a gradebook (CSV, JSON) and per-submission reports', load: async () => (await import('./commands/grade.js')).gradeCommand },
  { usage: 'gradebook <action> <gradebooks..>', describe: 'merge: join the gradebooks of a class\'s shards (grade --shard I/N) into one', load: async () => (await import('./commands/grade.js')).gradebookMergeCommand },
  { usage: 'doctor', describe: 'Check privileges, tools and kernel features (tried in a throwaway namespace); say what needs each and how to install what is missing', load: async () => (await import('./commands/doctor.js')).doctorCommand },
];

const EPILOGUE = `Exit codes: 0 every check as expected, 1 a check failed, 2 invalid lab file or usage,
3 environment or build failure (not root, tool missing, a command failed), 130 interrupted (SIGINT), 143 SIGTERM.

Namespaces are named netlab-<instance>-<node>; state records live in /run/netlab. With --sandbox (run, up) the
lab lives in a supervisor's own namespaces: for lab files you did not write (docs/trust.md says what it protects).
Without root every lab is boxed so, in a user namespace of your own; state lives in $XDG_RUNTIME_DIR/netlab.
Progress goes to stderr, reports to stdout. No colour when not a TTY or with NO_COLOR. A closed stdout
(\`netlab plan LAB | head\`) is not an error: the rest is dropped and the exit code is the command's own.
Lab files are held to size limits (run, up, show, graph, plan, validate: --max-nodes and friends raise them).
An internal error prints one line; NETLAB_DEBUG=1 prints its stack.
Docs: docs/lab-format.md (lab files), docs/cli.md (commands), docs/report-format.md (reports), docs/architecture.md,
docs/labs/ (a page per built-in lab: topology, steps, commands, expected results), docs/trust.md (lab files are code),
docs/grading.md (rubrics, netlab grade).`;

/** netlab's version, from its package.json (what yargs' .version() would find by searching up from node_modules). */
function packageVersion(): string | undefined {
  try {
    // dist/cli.unbundled.js, or dist/bundle/cli.js (scripts/bundle.mjs): the package is one or two levels up.
    const url = import.meta.url.includes('/dist/bundle/') ? '../../package.json' : '../package.json';
    const pkg = JSON.parse(readFileSync(new URL(url, import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** `netlab --version` alone: what yargs' .version() prints, without loading yargs. */
function fastVersion(argv: readonly string[], version: string | undefined): boolean {
  if (argv.length !== 1 || argv[0] !== '--version' || version === undefined) return false;
  process.stdout.write(`${version}\n`);
  return true;
}

async function main(argv: string[]): Promise<number> {
  const version = packageVersion();
  if (fastVersion(argv, version)) return EXIT.ok;
  let code: number = EXIT.ok;
  const [{ default: yargs }, { setTrace }, { limitsFromArgs, withLimitOptions }, { setLimits }] = await Promise.all([
    import('yargs'),
    import('./runner/exec.js'),
    import('./commands/limit-options.js'),
    import('./lab/limits.js'),
  ]);
  let parser = yargs(argv)
    .scriptName('netlab')
    .parserConfiguration({ 'populate--': true })
    .usage('$0 <command> [options]\n\nBuild network labs from YAML in Linux network namespaces, check connectivity, report.')
    .option('verbose', { alias: 'v', type: 'boolean', default: false, global: true, describe: 'Print every command netlab runs (stderr)' })
    .middleware((a) => setTrace(Boolean(a.verbose) || process.env.NETLAB_TRACE === '1'))
    .example('$0 run veth-routing', 'Build the veth-routing lab, check each step, tear down')
    .example('$0 up veth-routing && $0 exec veth-routing ns1 -- ip route', 'Keep a lab up and look inside')
    .example('$0 up veth-routing --exercise && $0 exec veth-routing ns2', 'An exercise: build its start, work in a node\'s shell, then `netlab check veth-routing` grades (solve, reset)')
    .example('$0 plan veth-routing', 'Print the exact ip commands as a script')
    .example('$0 show host-only', 'What a lab builds, step by step, and what it checks')
    .example('$0 graph host-only -f mermaid', 'Draw a lab for Markdown (also: -f dot, -f ascii)')
    .example('$0 validate my-lab.yaml', 'Check a lab file')
    .example('$0 test labs/ --junit netlab.xml', 'CI: validate and run every lab under labs/, one JUnit file (a testsuite per lab)')
    .epilogue(EPILOGUE)
    .demandCommand(1, 'Give a command; `netlab --help` lists them')
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      const first = process.argv[2];
      if (first && !first.startsWith('-') && /^Unknown argument/.test(msg) && !VERBS.some((v) => v.usage.split(' ')[0] === first)) {
        throw new UsageErrorWithHelp(`unknown command "${first}"; commands: ${VERBS.map((v) => v.usage.split(' ')[0]).join(', ')}`);
      }
      throw new UsageErrorWithHelp(msg);
    });
  skipHelpCache(parser);
  const wanted = argv.find((a) => !a.startsWith('-'));
  for (const v of VERBS) {
    const name = v.usage.split(' ')[0];
    const selected = name === wanted ? await v.load() : undefined;
    const builder = (selected?.builder ?? ((y: never) => y)) as (y: Argv) => Argv;
    parser = parser.command(v.usage, v.describe, (v.limits ? (y: Argv) => withLimitOptions(builder(y)) : builder) as never, async (args: never) => {
      if (v.limits) setLimits(limitsFromArgs(args));
      code = await (selected ?? (await v.load())).handler(args);
    });
  }
  parser = parser.help().alias('h', 'help');
  // The version read above (yargs' own guess reads the same package.json, searching for it at every start).
  await (version === undefined ? parser.version() : parser.version(version)).parseAsync();
  return code;
}

/**
 * yargs renders the whole help text of a command each time it runs one (cacheHelpMessage: kept for a help printed
 * after the handler failed), which with the --max-* options is tens of ms of string-width on every run. netlab never
 * prints help after a handler ran: its fail handler rethrows and `--help` renders help on its own. A yargs without
 * this internal hook is left as it is.
 */
function skipHelpCache(parser: Argv): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } };
  const usage = (parser as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

class UsageErrorWithHelp extends NetlabError {
  override readonly exitCode = EXIT.invalid;
  constructor(msg: string) {
    const execHint = process.argv[2] === 'exec' ? '; for exec, put the command after --: netlab exec INSTANCE NODE -- ip -br addr' : '';
    super(msg, { hint: `see \`netlab --help\` or \`netlab <command> --help\`${execHint}` });
  }
}

// yargs' hideBin(process.argv), which for node (not an Electron app) is the arguments after the script.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(e);
  },
).finally(() => {
  // Never hang on a stray handle once the work is done.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
});
