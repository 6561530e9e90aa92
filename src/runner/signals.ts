// SIGINT/SIGTERM → abort the work in progress, so the caller's `finally` tears down; the exit code says which signal.
import { setMaxListeners } from 'node:events';
import { InterruptedError } from '../errors.js';

/** Handles signals for one run: `signal` aborts on the first SIGINT/SIGTERM; `dispose` restores default handling. */
export function trapSignals(onSignal?: (sig: 'SIGINT' | 'SIGTERM') => void): {
  signal: AbortSignal;
  dispose: () => void;
} {
  const controller = new AbortController();
  // Every running command listens on this signal; a step with many checks would trip the default limit of 10.
  setMaxListeners(1000, controller.signal);
  const handler = (sig: 'SIGINT' | 'SIGTERM') => {
    if (controller.signal.aborted) {
      process.stderr.write(`netlab: ${sig} again — still tearing down, please wait\n`);
      return;
    }
    onSignal?.(sig);
    controller.abort(new InterruptedError(sig));
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
