// How any failure becomes text on stderr and an exit code (cli.ts's single catch uses it), and how a closed pipe
// on stdout or stderr is taken: the reader stopped reading, which is not netlab's failure.
import { EXIT, NetlabError, ValidationError, formatProblem } from './errors.js';
import { printable } from './printable.js';

/** Where reportError writes, and whether NETLAB_DEBUG asks for the stack. */
export interface ReportErrorOptions {
  write?: (text: string) => void;
  debug?: boolean;
}

/** True when NETLAB_DEBUG asks for stack traces (1, true, yes). */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.NETLAB_DEBUG ?? '');
}

/**
 * Writes what went wrong and returns the exit code: every problem of a ValidationError, a NetlabError's message and
 * hint, and for anything else (a bug) one line plus how to see the stack — never a stack trace unless NETLAB_DEBUG.
 */
export function reportError(e: unknown, opts: ReportErrorOptions = {}): number {
  const write = opts.write ?? ((t: string) => void process.stderr.write(t));
  const debug = opts.debug ?? debugEnabled();
  if (e instanceof ValidationError) {
    write(e.problems.map(formatProblem).join('\n') + `\n${e.message}; nothing was created\n`);
    return e.exitCode;
  }
  if (e instanceof NetlabError) {
    // Messages quote what the user gave (an instance id, a path, a lab's text): shown inert, like every report.
    write(`netlab: ${printable(e.message, '\n')}\n${e.hint ? `  hint: ${printable(e.hint, '\n')}\n` : ''}${debug && e.stack ? `${e.stack}\n` : ''}`);
    return e.exitCode;
  }
  const message = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  if (debug) write(`netlab: internal error: ${e instanceof Error ? (e.stack ?? message) : message}\n`);
  else write(`netlab: internal error: ${printable(oneLine(message))}\n  run with NETLAB_DEBUG=1 for details\n`);
  return EXIT.environment;
}

/** The first line of a message, at most 300 characters: an internal error is one line without NETLAB_DEBUG. */
function oneLine(s: string): string {
  const first = s.split('\n', 1)[0] ?? '';
  return first.length > 300 ? `${first.slice(0, 300)}…` : first;
}

/**
 * Makes a broken pipe on `stream` quiet (`netlab plan LAB | head`): what is still written is dropped, and the command
 * runs to its end — a run still tears down and writes its report files — and exits with its own status. Any other
 * error of the stream is reported once, through `onOther`.
 */
export function quietBrokenPipe(stream: NodeJS.WritableStream, onOther: (e: Error) => void): void {
  let reported = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    if (!reported) onOther(e);
    reported = true;
  });
}
