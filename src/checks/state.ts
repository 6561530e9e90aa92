// state and cmd checks: read what the kernel has (ip -j, sysctl, nft) or run a command, inside the node's namespace.
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run } from '../runner/exec.js';
import { parseCidr, type Cidr } from '../lab/ip.js';
import { makeResult, stopped, type CheckResult } from './result.js';

type Planned<K extends PlannedCheck['kind']> = Extract<PlannedCheck, { kind: K }>;

interface AddrJson {
  flags?: string[];
  addr_info?: { local: string; prefixlen: number }[];
}
interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** The command that reads one sysctl's value in a namespace (a state check's, and evidence's look at forwarding). */
export function readSysctlArgv(key: string): string[] {
  return ['sysctl', '-n', key];
}

/** The command that reads the state a query asks about. */
function stateArgv(q: Planned<'state'>['query']): string[] {
  switch (q.what) {
    case 'address':
    case 'address-range':
      return ['ip', '-j', 'addr', 'show', 'dev', q.dev];
    case 'route':
      return ['ip', '-j', ...(q.dst.includes(':') ? ['-6'] : []), 'route', 'show'];
    case 'link':
      return ['ip', '-j', 'link', 'show', 'dev', q.dev];
    case 'sysctl':
      return readSysctlArgv(q.key);
    case 'nft':
      return ['nft', 'list', 'ruleset'];
  }
}

/** Whether the output shows the state, and what was found. */
export function judgeState(q: Planned<'state'>['query'], out: string): { holds: boolean; found: string } {
  switch (q.what) {
    case 'address': {
      const have = (JSON.parse(out || '[]') as AddrJson[]).flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
      return { holds: have.includes(q.cidr), found: `${q.dev} has ${have.join(', ') || 'no address'}` };
    }
    case 'address-range': {
      const have = (JSON.parse(out || '[]') as AddrJson[]).flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
      const [first, last] = q.range.map((x) => parseCidr(x)) as [Cidr, Cidr];
      const inRange = have.filter((cidr) => {
        const a = parseCidr(cidr.split('/')[0] as string);
        return a !== undefined && a.family === first.family && a.value >= first.value && a.value <= last.value;
      });
      const found = `${q.dev} has ${have.join(', ') || 'no address'}`;
      return { holds: inRange.length > 0, found: inRange.length ? found : `${found}, none in ${q.range[0]}–${q.range[1]}` };
    }
    case 'route': {
      const routes = JSON.parse(out || '[]') as RouteJson[];
      const match = routes.find((r) => r.dst === q.dst && (q.via === undefined || r.gateway === q.via) && (q.dev === undefined || r.dev === q.dev));
      return { holds: match !== undefined, found: match ? `route ${match.dst}${match.gateway ? ` via ${match.gateway}` : ''} dev ${match.dev}` : `no such route among ${routes.length}` };
    }
    case 'link': {
      const flags = (JSON.parse(out || '[]') as AddrJson[])[0]?.flags ?? [];
      const up = flags.includes('UP');
      const carrier = up && !flags.includes('NO-CARRIER');
      const holds = (q.up === undefined || q.up === up) && (q.carrier === undefined || q.carrier === carrier);
      return { holds, found: `${q.dev} is ${up ? 'up' : 'down'}, ${carrier ? 'with' : 'without'} carrier` };
    }
    case 'sysctl':
      return { holds: out.trim() === q.value, found: `${q.key} = ${out.trim()}` };
    case 'nft':
      return { holds: out.includes(q.contains), found: out.includes(q.contains) ? `the ruleset contains "${q.contains}"` : `the ruleset (${out.split('\n').length} lines) lacks "${q.contains}"` };
  }
}

/** State check: passes when the node's kernel state holds what the query says. */
export async function runState(c: Planned<'state'>, signal?: AbortSignal): Promise<CheckResult> {
  const r = await run(inNamespace(c.fromNs, stateArgv(c.query)), { timeoutMs: c.timeoutMs + 2000, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (r.exitCode !== 0) {
    // A missing interface is a state that does not hold; any other failure means the state could not be read.
    const q = c.query;
    return q.what === 'address' || q.what === 'address-range' || q.what === 'link'
      ? makeResult(c, r, 'fail', `${q.dev} does not exist`)
      : makeResult(c, r, 'error', r.stderr.trim() || `exit ${r.exitCode}`);
  }
  const { holds, found } = judgeState(c.query, r.stdout);
  return makeResult(c, r, holds ? 'pass' : 'fail', found);
}

/** Command check: passes on the expected exit code and, when given, output matching the regex. */
export async function runCmd(c: Planned<'cmd'>, signal?: AbortSignal): Promise<CheckResult> {
  // The lab's own command: in the sandbox it also sees its node's own /sys (ip netns exec).
  const r = await run(inNamespace(c.fromNs, c.argv), { timeoutMs: c.timeoutMs, ownSys: true, ...(signal ? { signal } : {}) });
  if (r.spawnError) return makeResult(c, r, 'error', r.spawnError);
  if (stopped(r)) return makeResult(c, r, 'fail', `still running after ${c.timeoutMs} ms`);
  const exitOk = r.exitCode === c.exit;
  const outOk = c.stdout === undefined || new RegExp(c.stdout, 'm').test(r.stdout);
  const detail = `exit ${r.exitCode}${exitOk ? '' : ` (expected ${c.exit})`}${c.stdout === undefined ? '' : outOk ? ', output matched' : `, output does not match /${c.stdout}/`}`;
  return makeResult(c, r, exitOk && outOk ? 'pass' : 'fail', detail);
}
