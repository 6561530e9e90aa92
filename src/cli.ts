#!/usr/bin/env node
// Entry point: yargs wiring of the verbs, and the single place an error becomes a message and an exit code.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT, NetlabError, ValidationError, formatProblem } from './errors.js';
import { setTrace } from './runner/exec.js';
import type { Command } from './commands/common.js';
import { doctorCommand } from './commands/doctor.js';
import { checkCommand, cleanupCommand, downCommand, execCommand, statusCommand } from './commands/instances.js';
import { listCommand, planCommand, schemaCommand, showCommand, validateCommand } from './commands/labs.js';
import { runCommand, upCommand } from './commands/run.js';

const COMMANDS: Command<never>[] = [
  runCommand,
  upCommand,
  checkCommand,
  downCommand,
  statusCommand,
  execCommand,
  cleanupCommand,
  listCommand,
  showCommand,
  planCommand,
  validateCommand,
  schemaCommand,
  doctorCommand,
] as unknown as Command<never>[];

const EPILOGUE = `Exit codes: 0 every check as expected, 1 a check failed, 2 invalid lab file or usage,
3 environment or build failure (not root, tool missing, a command failed), 130 interrupted (SIGINT), 143 SIGTERM.

Namespaces are named netlab-<instance>-<node>; state records live in /run/netlab.
Progress goes to stderr, reports to stdout. No colour when not a TTY or with NO_COLOR.
Docs: docs/lab-format.md (lab files), docs/cli.md (commands), docs/architecture.md.`;

function report(e: unknown): number {
  if (e instanceof ValidationError) {
    process.stderr.write(e.problems.map(formatProblem).join('\n') + `\n${e.message}; nothing was created\n`);
    return e.exitCode;
  }
  if (e instanceof NetlabError) {
    process.stderr.write(`netlab: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return e.exitCode;
  }
  process.stderr.write(`netlab: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.environment;
}

async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  let parser = yargs(argv)
    .scriptName('netlab')
    .parserConfiguration({ 'populate--': true })
    .usage('$0 <command> [options]\n\nBuild network labs from YAML in Linux network namespaces, check connectivity, report.')
    .option('verbose', { alias: 'v', type: 'boolean', default: false, global: true, describe: 'Print every command netlab runs (stderr)' })
    .middleware((a) => setTrace(Boolean(a.verbose)))
    .example('$0 run veth-routing', 'Build the veth-routing lab, check each step, tear down')
    .example('$0 up veth-routing && $0 exec veth-routing ns1 -- ip route', 'Keep a lab up and look inside')
    .example('$0 plan veth-routing', 'Print the exact ip commands as a script')
    .example('$0 validate my-lab.yaml', 'Check a lab file')
    .epilogue(EPILOGUE)
    .demandCommand(1, 'Give a command; `netlab --help` lists them')
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      const first = process.argv[2];
      if (first && !first.startsWith('-') && /^Unknown argument/.test(msg) && !COMMANDS.some((c) => String(c.command).split(' ')[0] === first)) {
        throw new UsageErrorWithHelp(`unknown command "${first}"; commands: ${COMMANDS.map((c) => String(c.command).split(' ')[0]).join(', ')}`);
      }
      throw new UsageErrorWithHelp(msg);
    });
  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, c.builder as never, async (args: never) => {
      code = await c.handler(args);
    });
  }
  await parser.help().alias('h', 'help').version().parseAsync();
  return code;
}

class UsageErrorWithHelp extends NetlabError {
  override readonly exitCode = EXIT.invalid;
  constructor(msg: string) {
    const execHint = process.argv[2] === 'exec' ? '; for exec, put the command after --: netlab exec INSTANCE NODE -- ip -br addr' : '';
    super(msg, { hint: `see \`netlab --help\` or \`netlab <command> --help\`${execHint}` });
  }
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = report(e);
  },
).finally(() => {
  // Never hang on a stray handle once the work is done.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
});
