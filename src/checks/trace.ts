// mtu and path checks, both made of pings: the largest packet with DF set, and the routers that answer TTL-limited pings.
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run, type RunResult } from '../runner/exec.js';
import { pool } from '../runner/pool.js';
import { makeResult, seconds, type CheckResult } from './result.js';

type Planned<K extends PlannedCheck['kind']> = Extract<PlannedCheck, { kind: K }>;

/** MTU check: one ping of `size` bytes (IP packet) with "don't fragment"; passes when it is answered. */
export async function runMtu(c: Planned<'mtu'>, signal?: AbortSignal): Promise<CheckResult> {
  const header = c.target.includes(':') ? 48 : 28;
  const argv = inNamespace(c.fromNs, ['ping', '-n', '-c', '1', '-M', 'do', '-s', String(Math.max(c.size - header, 0)), '-W', seconds(c.timeoutMs), c.target]);
  const r = await run(argv, { timeoutMs: c.timeoutMs + 2000, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (/ bytes from /.test(r.stdout)) return makeResult(c, r, 'pass', `a ${c.size}-byte packet passed`);
  const mtu = /mtu\s*=\s*(\d+)/i.exec(r.stdout + r.stderr)?.[1];
  return makeResult(c, r, 'fail', mtu ? `too big: the path MTU is ${mtu}` : 'no answer (dropped on the way)');
}

/** One hop of a trace: the router that answered with "Time to live exceeded", the target itself, or nothing. */
export function parseHop(r: Pick<RunResult, 'stdout'>): { from?: string; reached: boolean } {
  if (/ bytes from /.test(r.stdout)) return { reached: true };
  const from = /From (\S+?)( |:)?\s*icmp_seq=\d+ Time to live exceeded/.exec(r.stdout)?.[1];
  return from ? { from, reached: false } : { reached: false };
}

/** Path check: pings with TTL 1, 2, … (in parallel) name the routers in order; passes when `via` are the first hops and the target answers. */
export async function runPath(c: Planned<'path'>, signal?: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const ttls = Array.from({ length: c.maxHops }, (_, i) => i + 1);
  const runs = await pool(ttls, 8, (ttl) =>
    run(inNamespace(c.fromNs, ['ping', '-n', '-c', '1', '-t', String(ttl), '-W', seconds(c.timeoutMs), c.target]), {
      timeoutMs: c.timeoutMs + 2000,
      ...(signal ? { signal } : {}),
    }),
  );
  const evidence = {
    argv: runs[0]?.argv ?? [],
    exitCode: runs.find((r) => r.exitCode !== 0)?.exitCode ?? 0,
    stdout: runs.map((r, i) => `# ttl ${i + 1}\n${r.stdout}`).join(''),
    stderr: runs.map((r) => r.stderr).join(''),
    durationMs: performance.now() - started,
  };
  const spawnError = runs.find((r) => r.spawnError)?.spawnError;
  if (spawnError) return makeResult(c, evidence, 'error', spawnError);
  const hops: string[] = [];
  let reached = false;
  for (const r of runs) {
    const hop = parseHop(r);
    if (hop.reached) {
      reached = true;
      break;
    }
    hops.push(hop.from ?? '*');
  }
  const shown = [...hops, ...(reached ? [c.target] : ['…'])].join(' → ');
  const viaOk = c.more.every((addr, i) => hops[i] === addr);
  if (reached && viaOk) return makeResult(c, evidence, 'pass', `path ${shown}`);
  return makeResult(c, evidence, 'fail', !reached ? `${c.target} not reached within ${c.maxHops} hops: ${shown}` : `path ${shown}, expected via ${c.more.join(' → ')}`);
}
