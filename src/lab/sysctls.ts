// The curated allow-list of sysctls a lab may set inside its namespaces (never the root namespace).

/** Patterns of allowed keys; `IF` stands for `all`, `default` or an interface name. */
export const ALLOWED_SYSCTLS: readonly string[] = [
  'net.ipv4.ip_forward',
  'net.ipv4.conf.IF.forwarding',
  'net.ipv4.conf.IF.rp_filter',
  'net.ipv4.conf.IF.proxy_arp',
  'net.ipv4.conf.IF.accept_redirects',
  'net.ipv4.conf.IF.send_redirects',
  'net.ipv4.conf.IF.arp_ignore',
  'net.ipv4.conf.IF.arp_announce',
  'net.ipv4.icmp_echo_ignore_all',
  'net.ipv4.icmp_echo_ignore_broadcasts',
  'net.ipv4.ip_default_ttl',
  'net.ipv6.conf.IF.forwarding',
  'net.ipv6.conf.IF.disable_ipv6',
  'net.ipv6.conf.IF.accept_ra',
  'net.ipv6.conf.IF.accept_dad',
];

const IF = '(all|default|[A-Za-z0-9_-]{1,15})';
const patterns = ALLOWED_SYSCTLS.map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace('IF', IF)}$`));

/** True when a lab may set this sysctl. */
export function isAllowedSysctl(key: string): boolean {
  return patterns.some((re) => re.test(key));
}
