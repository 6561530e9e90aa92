// Long-running lab processes (services): start inside a namespace, wait until they say they are ready, record them.
import { createInterface } from 'node:readline';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { serviceArgv } from '../plan/argv.js';
import type { Op } from '../plan/ops.js';
import { spawnDetached } from './exec.js';
import { procStart, type ProcRef } from './state.js';

export type LabProcess = ProcRef & { node: string; what: string };

/** Files of one node's services inside the instance's run directory. */
export function serviceFiles(runDir: string, node: string): { log: string; clients: string } {
  return { log: join(runDir, `${node}.services.log`), clients: join(runDir, `${node}.clients.jsonl`) };
}

/** Starts a service-start op's server and resolves once it printed READY (it listens on every port by then). */
export async function startServices(op: Extract<Op, { kind: 'service-start' }>, runDir: string, timeoutMs = 10_000): Promise<LabProcess> {
  mkdirSync(runDir, { recursive: true });
  const files = serviceFiles(runDir, op.node);
  const proc = spawnDetached(serviceArgv(op, files.clients), { logFile: files.log, stdout: true });
  const stdout = proc.stdout;
  if (!stdout) throw new Error('service server started without stdout');
  const lines = createInterface({ input: stdout });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      lines.on('line', (l) => {
        if (l.startsWith('READY ')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void proc.exited.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      let log = '';
      try {
        log = readFileSync(files.log, 'utf8').trim().split('\n').slice(-3).join(' | ');
      } catch {
        /* no log */
      }
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      throw new BuildError(`the services of ${op.node} did not start${log ? `: ${log}` : ''}`);
    }
  } finally {
    lines.close();
    proc.release();
  }
  return { pid: proc.pid, start: procStart(proc.pid) ?? '', node: op.node, what: 'services' };
}
