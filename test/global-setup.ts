// Suite-wide leak check: after every test file ran, no netlab namespace, state record, run directory or lab
// process (service server, dnsmasq, udhcpc, tcpdump, socat tunnels, --sandbox supervisors) that the suite started may remain.
// State lives where netlab keeps it for this user (stateDir(): /run/netlab as root, the user's own directory in the
// unprivileged pass); an unprivileged user's labs are boxed, their namespaces never in the host's /run/netns.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../src/runner/state.js';

const STATE = stateDir();

function netlabNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('netlab-'));
  } catch {
    return [];
  }
}

/** Records (`<instance>.json`) and run directories under STATE; `.results` (for --only-failed) is meant to stay. */
function stateEntries(): string[] {
  try {
    return readdirSync(STATE).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

/** The real uid of a process (from /proc/PID/status), or undefined when it is gone. */
function procUid(pid: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/**
 * Processes netlab starts inside labs, as `pid command line`. Not root: only this user's (a user's labs, boxed in
 * its own user namespaces, run under its uid as the host sees them); other users' labs are not the suite's.
 */
function labProcesses(): string[] {
  const out: string[] = [];
  const uid = process.getuid?.();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd: string;
    try {
      if (uid !== 0 && procUid(pid) !== uid) continue;
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue;
    }
    if (/^(\S*\/)?(dnsmasq|udhcpc|tcpdump)\b|^(\S*\/)?socat .*\bTUN,|services\/server\.js|^(\S*\/)?unshare [\s\S]* netlab-supervisor (run|up)$/.test(cmd)) out.push(`${pid} ${cmd}`);
  }
  return out;
}

export function setup(): () => void {
  const before = new Set([...netlabNamespaces(), ...stateEntries(), ...labProcesses()]);
  return () => {
    const fresh = (xs: string[]) => xs.filter((x) => !before.has(x));
    const leaks = [
      ...fresh(netlabNamespaces()).map((n) => `namespace ${n}`),
      ...fresh(stateEntries()).map((n) => join(STATE, n)),
      ...fresh(labProcesses()).map((p) => `process ${p}`),
    ];
    if (leaks.length) throw new Error(`leak check: the test suite left ${leaks.length} thing(s) behind: ${leaks.join(', ')}`);
    process.stdout.write(`leak check: no netlab namespace, state record, run directory or lab process left behind (${before.size} existed before the suite)\n`);
  };
}
