// dns check: dig inside the source namespace asks the server for a name; the answer must exist (and hold `address`).
import { sameAddress } from '../lab/ip.js';
import { digArgv } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { hostOf, makeResult, type CheckResult } from './result.js';

type DnsPlanned = Extract<PlannedCheck, { kind: 'dns' }>;

/** What dig printed: the response status (undefined when no response came) and the answer records. */
export interface DigAnswer {
  status?: string;
  answers: { name: string; type: string; data: string }[];
}

/** Parses dig's default output (LANG=C): the header's status and the ANSWER SECTION. */
export function parseDig(stdout: string): DigAnswer {
  const status = /->>HEADER<<-.*\bstatus: ([A-Z]+)/.exec(stdout)?.[1];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(stdout)?.[1] ?? '';
  const answers = section
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && !f[0]?.startsWith(';'))
    .map(([name, , , type, ...data]) => ({ name: name ?? '', type: type ?? '', data: data.join(' ') }));
  return status === undefined ? { answers } : { status, answers };
}

/** Why no response came, from dig's output and whether it was cut off at the check's timeout. */
export function noReply(out: string, timedOut: boolean, server: string, timeoutMs: number): string {
  if (timedOut || /timed out/i.test(out)) return `no reply from ${server} in ${(timeoutMs / 1000).toFixed(1)} s`;
  if (/connection refused/i.test(out)) return `no reply from ${server}: connection refused (no DNS server there)`;
  if (/unreachable/i.test(out)) return `no reply from ${server}: network unreachable`;
  return `no reply from ${server}: ${out.trim().split('\n').slice(-1)[0] || 'dig gave up'}`;
}

/** DNS check: passes when the name resolves (to `address`, when given); NXDOMAIN, no answer and silence fail. */
export async function runDns(c: DnsPlanned, signal?: AbortSignal): Promise<CheckResult> {
  const expected = c.more[0];
  const type = c.type ?? (expected?.includes(':') ? 'AAAA' : 'A');
  const argv = digArgv(c.fromNs, { server: c.target, port: c.port, name: c.query, type, timeoutMs: c.timeoutMs });
  // dig waits at least a second; the check's own timeout cuts it off (plus time to start nsenter and dig).
  const r = await run(argv, { timeoutMs: c.timeoutMs + 250, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  const server = `${hostOf(c.target)}:${c.port}`;
  /** A failure, and whether it is the way the lab said it must fail (`reason`). */
  const fail = (how: DnsPlanned['reason'] | 'other', detail: string): CheckResult => {
    const wrongWay = c.expect === 'fail' && c.reason !== undefined && c.reason !== how;
    return makeResult(c, r, 'fail', wrongWay ? `${detail}, expected ${c.reason}` : detail, c.expect === 'fail' && !wrongWay, how === 'other' ? undefined : how);
  };
  const { status, answers } = parseDig(r.stdout);
  if (status === undefined) {
    // dig's exit codes 1 and 10 are its own usage and internal errors: the check did not run.
    if (r.exitCode === 1 || r.exitCode === 10) return makeResult(c, r, 'error', r.stderr.trim().split('\n')[0] || `dig exited ${r.exitCode}`);
    return fail('no-reply', noReply(`${r.stdout}\n${r.stderr}`, r.timedOut, server, c.timeoutMs));
  }
  if (status !== 'NOERROR') return fail(status === 'NXDOMAIN' ? 'nxdomain' : 'other', status);
  const got = answers.filter((a) => a.type === type).map((a) => a.data);
  if (!got.length) return fail('no-answer', `no answer: ${c.query} has no ${type} record`);
  if (expected !== undefined && !got.some((a) => sameAddress(a, expected))) {
    return fail('other', `resolved to ${got.join(', ')}, expected ${expected}`);
  }
  return makeResult(c, r, 'pass', `resolved to ${got.join(', ')}`);
}
