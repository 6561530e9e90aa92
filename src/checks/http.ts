// http and nat-source checks: curl inside the source namespace; status, body and headers, or the client the service saw.
import { sameAddress } from '../lab/ip.js';
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run, type RunResult } from '../runner/exec.js';
import { tcpFailure } from './connect.js';
import { failResult, hostOf, makeResult, seconds, stopped, type CheckResult } from './result.js';

type Planned<K extends PlannedCheck['kind']> = Extract<PlannedCheck, { kind: K }>;

/** A parsed HTTP response: status, headers (lower-case names) and body. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits `curl -i` output into status, headers (lower-case names) and body. */
export function parseHttp(raw: string): HttpResponse | undefined {
  const end = raw.search(/\r?\n\r?\n/);
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split(/\r?\n/);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: raw.slice(end).replace(/^\r?\n\r?\n/, '') };
}

async function get(c: PlannedCheck, port: number, path: string, signal?: AbortSignal): Promise<{ r: RunResult; res?: HttpResponse }> {
  const secs = seconds(c.timeoutMs);
  const url = `http://${hostOf(c.target)}:${port}${path}`;
  // -v: curl's own message for a failed connect hides the error ("Couldn't connect to server"); its verbose lines name it.
  const argv = inNamespace(c.fromNs, ['curl', '-v', '-sS', '-i', '--connect-timeout', secs, '--max-time', secs, url]);
  const r = await run(argv, { timeoutMs: c.timeoutMs + 2000, ...(signal ? { signal } : {}) });
  const res = r.exitCode === 0 ? parseHttp(r.stdout) : undefined;
  return res ? { r, res } : { r };
}

/** HTTP check: status (default 200), and body text / regex / headers when asked for. */
export async function runHttp(c: Planned<'http'>, signal?: AbortSignal): Promise<CheckResult> {
  const { r, res } = await get(c, c.port, c.path, signal);
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (!res) {
    const f = await tcpFailure(c, r.stderr, stopped(r), signal);
    return failResult(c, r, f.how, f.message);
  }
  const wrong: string[] = [];
  if (res.status !== c.status) wrong.push(`status ${res.status}, expected ${c.status}`);
  if (c.contains !== undefined && !res.body.includes(c.contains)) wrong.push(`body lacks "${c.contains}"`);
  if (c.regex !== undefined && !new RegExp(c.regex).test(res.body)) wrong.push(`body does not match /${c.regex}/`);
  for (const [name, value] of Object.entries(c.headers)) {
    const got = res.headers[name.toLowerCase()];
    if (got !== value) wrong.push(`header ${name}: ${got ?? '(absent)'}, expected ${value}`);
  }
  return wrong.length ? failResult(c, r, 'mismatch', wrong.join('; ')) : makeResult(c, r, 'pass', `HTTP ${res.status}${c.contains || c.regex ? ', body matched' : ''}`);
}

/**
 * NAT-source check: asks netlab's HTTP service which client address it saw; passes when it is `seen_as`. With
 * expect: fail the service must answer and have seen another address (reason mismatch): no answer is not a pass.
 */
export async function runNatSource(c: Planned<'nat-source'>, signal?: AbortSignal): Promise<CheckResult> {
  const expected = c.more[0] ?? '';
  const { r, res } = await get(c, c.port, '/', signal);
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (!res) {
    const f = await tcpFailure(c, r.stderr, stopped(r), signal);
    const must = c.expect === 'fail' ? ': a must-fail nat-source check needs the service to answer (and see another address)' : '';
    return makeResult(c, r, 'fail', `no answer from the service (${f.message})${must}`, false, f.how);
  }
  let seen: string | undefined;
  try {
    seen = (JSON.parse(res.body) as { client?: string }).client;
  } catch {
    seen = undefined;
  }
  if (seen === undefined) return makeResult(c, r, 'error', 'the answer is not from a netlab http service (no client field)');
  return sameAddress(seen, expected) ? makeResult(c, r, 'pass', `the service saw ${seen}`) : failResult(c, r, 'mismatch', `the service saw ${seen}, not ${expected}`);
}
