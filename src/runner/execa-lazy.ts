// execa, loaded the first time a process is started rather than when a module that may start one is imported: it is
// ~100 modules (~0.1 s of start-up on a small machine), and `validate`, `plan`, `show`, `list` and the argument
// errors of every verb import runner code without ever starting a process. require() of an ES module is synchronous
// (Node >= 20.19, package.json's engines), so the callers keep execa's synchronous spawn (a pid right away).
import { createRequire } from 'node:module';
import type { execa as Execa } from 'execa';

let loaded: typeof Execa | undefined;

function lazyExeca(...args: unknown[]): unknown {
  loaded ??= (createRequire(import.meta.url)('execa') as typeof import('execa')).execa;
  return (loaded as (...a: unknown[]) => unknown)(...args);
}

/** execa's `execa`, the same function and types, with the package loaded on the first call. */
export const execa = lazyExeca as unknown as typeof Execa;
