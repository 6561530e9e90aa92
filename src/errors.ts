// Error classes: each maps to one exit code, so cli.ts can turn any failure into the documented status.
import { printable } from './printable.js';

/** Exit codes, documented in README and `netlab --help`. */
export const EXIT = {
  ok: 0,
  checksFailed: 1,
  invalid: 2,
  environment: 3,
  interrupted: 130,
  terminated: 143,
} as const;

/** Base class: a message for the user, an optional hint, and the exit code it maps to. */
export class NetlabError extends Error {
  readonly exitCode: number = EXIT.environment;
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** One problem found in a lab file, with where it is. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  hint?: string;
}

/** The lab file is invalid: carries every problem at once. Exit 2. */
export class ValidationError extends NetlabError {
  override readonly exitCode = EXIT.invalid;
  constructor(readonly problems: Problem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${problems[0]?.file ?? 'lab file'}`);
  }
}

/** Wrong command-line use or unknown lab/instance. Exit 2. */
export class UsageError extends NetlabError {
  override readonly exitCode = EXIT.invalid;
}

/** The machine cannot run labs (not root, tool missing) or a build step failed. Exit 3. */
export class EnvironmentError extends NetlabError {
  override readonly exitCode = EXIT.environment;
}

/** A command netlab ran while building or tearing down failed. Exit 3. */
export class BuildError extends NetlabError {
  override readonly exitCode = EXIT.environment;
}

/** The run was stopped by SIGINT (130) or SIGTERM (143). */
export class InterruptedError extends NetlabError {
  override readonly exitCode: number;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.exitCode = signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  }
}

/** Formats one problem as `file:line:col  path  message` plus an indented hint. */
export function formatProblem(p: Problem): string {
  // Paths and messages quote the lab file (keys and values may hold control characters): shown escaped.
  const head = printable(`${p.file}:${p.line}:${p.col}  ${p.path || '(root)'}  ${p.message}`);
  return p.hint ? `${head}\n    hint: ${printable(p.hint)}` : head;
}
