// Suite-wide leak check: after every test file ran, no netlab namespace, state record, run directory or lab
// process (service server, dnsmasq, udhcpc, tcpdump, socat tunnels, --sandbox supervisors) that the suite started may remain.
import { readdirSync, readFileSync } from 'node:fs';

function netlabNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('netlab-'));
  } catch {
    return [];
  }
}

/** Records (`<instance>.json`) and run directories under /run/netlab; `.results` (for --only-failed) is meant to stay. */
function stateEntries(): string[] {
  try {
    return readdirSync('/run/netlab').filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

/** Processes netlab starts inside labs, as `pid command line`. */
function labProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd: string;
    try {
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
      ...fresh(stateEntries()).map((n) => `/run/netlab/${n}`),
      ...fresh(labProcesses()).map((p) => `process ${p}`),
    ];
    if (leaks.length) throw new Error(`leak check: the test suite left ${leaks.length} thing(s) behind: ${leaks.join(', ')}`);
    process.stdout.write(`leak check: no netlab namespace, state record, run directory or lab process left behind (${before.size} existed before the suite)\n`);
  };
}
