// What the machine must have to build labs: privileges and tools. `doctor` shows it all; commands check before building.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../errors.js';

export interface Tool {
  cmd: string;
  pkg: string;
  version: string[];
  why: string;
  /** Needed to build and check labs at all (others are for later features). */
  required: boolean;
}

/** System tools and the Debian package each comes from. */
export const TOOLS: readonly Tool[] = [
  { cmd: 'ip', pkg: 'iproute2', version: ['ip', '-V'], why: 'namespaces, links, addresses, routes', required: true },
  { cmd: 'nsenter', pkg: 'util-linux', version: ['nsenter', '--version'], why: 'run commands inside namespaces', required: true },
  { cmd: 'xargs', pkg: 'findutils', version: ['xargs', '--version'], why: 'configure many namespaces with one process', required: true },
  { cmd: 'sysctl', pkg: 'procps', version: ['sysctl', '--version'], why: 'forwarding and other sysctls', required: true },
  { cmd: 'ping', pkg: 'iputils-ping', version: ['ping', '-V'], why: 'ping checks', required: true },
  { cmd: 'nft', pkg: 'nftables', version: ['nft', '--version'], why: 'NAT and firewall rules', required: false },
  { cmd: 'dnsmasq', pkg: 'dnsmasq-base', version: ['dnsmasq', '--version'], why: 'DHCP and DNS servers in labs', required: false },
  { cmd: 'udhcpc', pkg: 'udhcpc', version: ['udhcpc', '--help'], why: 'DHCP clients in labs', required: false },
  { cmd: 'curl', pkg: 'curl', version: ['curl', '--version'], why: 'HTTP checks', required: false },
  { cmd: 'tcpdump', pkg: 'tcpdump', version: ['tcpdump', '--version'], why: 'pcaps of failed checks (--pcap)', required: false },
  { cmd: 'dig', pkg: 'bind9-dnsutils', version: ['dig', '-v'], why: 'dns checks', required: false },
];

/** Full path of a command on PATH, without spawning anything. */
export function which(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const d of [...dirs, '/usr/sbin', '/sbin']) {
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Effective capabilities of this process (bit numbers from linux/capability.h). */
export function capabilities(): { netAdmin: boolean; sysAdmin: boolean; root: boolean } {
  const root = process.getuid?.() === 0;
  try {
    const hex = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    const eff = BigInt(`0x${hex}`);
    return { root, netAdmin: (eff >> 12n) & 1n ? true : false, sysAdmin: (eff >> 21n) & 1n ? true : false };
  } catch {
    return { root, netAdmin: root, sysAdmin: root };
  }
}

/** Whether the root namespace forwards IPv4 (read only; new namespaces copy this setting). */
export function rootForwards(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '0';
  } catch {
    return true;
  }
}

/** The apt-get line that installs the given tools' packages. */
export function aptLine(tools: readonly Pick<Tool, 'pkg'>[]): string {
  return `apt-get install -y ${[...new Set(tools.map((t) => t.pkg))].join(' ')}`;
}

/** Throws EnvironmentError (exit 3) unless this process can build labs. */
export function preflight(): void {
  const caps = capabilities();
  if (!caps.netAdmin || !caps.sysAdmin) {
    throw new EnvironmentError('building labs needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)', {
      hint: 'run as root (sudo netlab ...), or in a privileged container; `netlab doctor` shows what is missing',
    });
  }
  const missing = TOOLS.filter((t) => t.required && !which(t.cmd));
  if (missing.length) {
    throw new EnvironmentError(`missing tools: ${missing.map((t) => t.cmd).join(', ')}`, { hint: aptLine(missing) });
  }
}
