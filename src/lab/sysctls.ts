// The curated allow-list of sysctls a lab may set inside its namespaces (never the root namespace): one table of
// key pattern, the values the kernel documents for it (Documentation/networking/ip-sysctl.rst) and what it does.
// docs/lab-format.md#sysctls shows this table (test/unit/plan/sysctls.test.ts keeps the two equal).

/** One allowed sysctl: `IF` in the key stands for `all`, `default` or an interface of the node. */
export interface SysctlSpec {
  readonly key: string;
  /** The integer values allowed, as inclusive ranges (the kernel's documented ones; it enforces few of them). */
  readonly values: readonly (readonly [number, number])[];
  readonly about: string;
}

const BOOL = [[0, 1]] as const;

export const SYSCTLS = [
  { key: 'net.ipv4.ip_forward', values: BOOL, about: 'forward IPv4 between all interfaces' },
  { key: 'net.ipv4.conf.IF.forwarding', values: BOOL, about: 'forward IPv4 on this interface' },
  { key: 'net.ipv4.conf.IF.rp_filter', values: [[0, 2]], about: 'reverse-path filter: 0 off, 1 strict, 2 loose' },
  { key: 'net.ipv4.conf.IF.proxy_arp', values: BOOL, about: 'answer ARP for addresses routed elsewhere' },
  { key: 'net.ipv4.conf.IF.accept_redirects', values: BOOL, about: 'accept ICMP redirects' },
  { key: 'net.ipv4.conf.IF.send_redirects', values: BOOL, about: 'send ICMP redirects' },
  { key: 'net.ipv4.conf.IF.arp_ignore', values: [[0, 3], [8, 8]], about: 'which ARP requests to answer (4-7 are reserved)' },
  { key: 'net.ipv4.conf.IF.arp_announce', values: [[0, 2]], about: 'which source address ARP requests use' },
  { key: 'net.ipv4.icmp_echo_ignore_all', values: BOOL, about: 'ignore every ICMP echo request' },
  { key: 'net.ipv4.icmp_echo_ignore_broadcasts', values: BOOL, about: 'ignore ICMP echo requests to broadcast addresses' },
  { key: 'net.ipv4.ip_default_ttl', values: [[1, 255]], about: 'TTL of outgoing IPv4 packets' },
  { key: 'net.ipv6.conf.IF.forwarding', values: BOOL, about: 'forward IPv6 (on `all`: between all interfaces)' },
  { key: 'net.ipv6.conf.IF.disable_ipv6', values: BOOL, about: 'switch IPv6 off' },
  { key: 'net.ipv6.conf.IF.accept_ra', values: [[0, 2]], about: 'accept router advertisements: 0 no, 1 unless forwarding, 2 always' },
  { key: 'net.ipv6.conf.IF.accept_dad', values: [[0, 2]], about: 'duplicate address detection: 0 off, 1 on, 2 also disable IPv6 on a duplicate' },
] as const satisfies readonly SysctlSpec[];

// An interface name here has no dot: sysctl writes the dot of `eth0.10` as `/`, and `/` and `.` are never let
// through into a key (so no key can walk out of net.ipv4/net.ipv6 into the host's /proc/sys).
const IF = '(?:all|default|[A-Za-z0-9_-]{1,15})';
const compiled = SYSCTLS.map((s) => ({ spec: s as SysctlSpec, re: new RegExp(`^${s.key.replace(/\./g, '\\.').replace('IF', IF)}$`) }));

/** The allow-list entry of a key, or undefined when a lab may not set it. The key is matched exactly: no normalising. */
export function sysctlSpec(key: string): SysctlSpec | undefined {
  return compiled.find((c) => c.re.test(key))?.spec;
}

/** True when a lab may set this sysctl. */
export function isAllowedSysctl(key: string): boolean {
  return sysctlSpec(key) !== undefined;
}

/** Why a lab may not set `key`, or undefined when it may. */
export function sysctlKeyProblem(key: string): string | undefined {
  if (isAllowedSysctl(key)) return undefined;
  const shown = JSON.stringify(key);
  if (key.includes('/')) return `sysctl ${shown} contains "/": write keys with dots; interfaces with a dot in their name cannot have their own sysctls here (set all or default)`;
  return `sysctl ${shown} is not on netlab's allow-list (see docs/lab-format.md#sysctls)`;
}

/** The allowed values of a spec in words, e.g. `0..1` or `0..3 or 8`. */
export function describeValues(spec: SysctlSpec): string {
  return spec.values.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}..${hi}`)).join(' or ');
}

/** A written value as the integer it stands for (true → 1, "2" → 2), or undefined when it is not a plain integer. */
function integerOf(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?[0-9]{1,10}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * The value to write for `key`, as a decimal integer, or the problem with it (and a hint listing the allowed
 * values). Only digits ever reach the sysctl job file or the plan script.
 */
export function sysctlValue(key: string, value: unknown): { text: string } | { problem: string; hint: string } {
  const spec = sysctlSpec(key);
  if (!spec) return { problem: sysctlKeyProblem(key) ?? `sysctl ${JSON.stringify(key)} is not allowed`, hint: 'see docs/lab-format.md#sysctls' };
  const range = describeValues(spec);
  const hint = `${key} takes ${range}${spec.values === BOOL ? ' (or true/false)' : ''}: ${spec.about}`;
  const n = integerOf(value);
  if (n === undefined) return { problem: `${JSON.stringify(value)} is not a value for ${key}: it takes an integer, ${range}`, hint };
  if (!spec.values.some(([lo, hi]) => n >= lo && n <= hi)) return { problem: `${n} is out of range for ${key}: it takes ${range}`, hint };
  return { text: String(n) };
}
