// Checks in words, for default names, `netlab show` and the comments of `netlab plan`.
import type { Check, Device, DhcpServer, FirewallRule, Forward, LinkSetting, Nat, Service, StateQuery } from './types.js';

/** A state query in words, for default check names. */
export function describeQuery(q: StateQuery): string {
  switch (q.what) {
    case 'address':
      return `${q.cidr} on ${q.dev}`;
    case 'address-range':
      return `an address ${q.range[0]}–${q.range[1]} on ${q.dev}`;
    case 'route':
      return `route ${q.dst}${q.via ? ` via ${q.via}` : ''}${q.dev ? ` dev ${q.dev}` : ''}`;
    case 'link':
      return `${q.dev}${q.up === undefined ? '' : q.up ? ' up' : ' down'}${q.carrier === undefined ? '' : q.carrier ? ' with carrier' : ' without carrier'}`;
    case 'sysctl':
      return `${q.key} = ${q.value}`;
    case 'nft':
      return `nft ruleset contains "${q.contains}"`;
  }
}

/** What a check expects, e.g. "must fail (no-route)" or "must pass, TTL 63". */
export function describeExpectation(c: Check): string {
  if (c.expect === 'fail') return `must fail${c.kind === 'ping' && c.reason ? ` (${c.reason})` : ''}`;
  return `must pass${c.kind === 'ping' && c.ttl ? `, TTL ${c.ttl}` : ''}`;
}

/** Where a check goes, e.g. "ns1 → 10.10.20.2" or, for state and cmd checks, just the node. */
export function describeRoute(c: Check): string {
  return 'toText' in c ? `${c.from} → ${c.toText}` : c.from;
}

// Config in words, for `netlab show`, `netlab graph` and the lab pages.

/** A NAT rule, e.g. "masquerade src 192.168.56.0/24 out wan" or "snat to 203.0.113.7 src …". */
export function describeNat(n: Nat): string {
  const words = [n.kind === 'masquerade' ? 'masquerade' : `snat to ${n.to ?? '?'}`];
  if (n.src) words.push(`src ${n.src}`);
  if (n.dst) words.push(`dst ${n.dst}`);
  if (n.out) words.push(`out ${n.out}`);
  if (n.except.length) words.push(`except ${n.except.join(', ')}`);
  return words.join(' ');
}

/** A DNAT port forward, e.g. "dnat tcp/2222 in wan → 10.0.2.15:22". */
export function describeForward(f: Forward): string {
  const to = f.toAddress.includes(':') ? `[${f.toAddress}]:${f.toPort}` : `${f.toAddress}:${f.toPort}`;
  return `dnat ${f.proto}/${f.port}${f.in ? ` in ${f.in}` : ''}${f.dst ? ` dst ${f.dst}` : ''} → ${to}`;
}

/** A firewall rule, e.g. "accept tcp dst 10.0.2.15 port 22". */
export function describeFirewallRule(r: FirewallRule): string {
  return [r.action, r.proto, r.src && `src ${r.src}`, r.dst && `dst ${r.dst}`, r.port !== undefined && `port ${r.port}`, r.in && `in ${r.in}`, r.out && `out ${r.out}`].filter(Boolean).join(' ');
}

/** A service, e.g. "http server :80" or "dns server :53 (www.lab.test → internet)". */
export function describeService(s: Service, withRecords = false): string {
  if (s.kind === 'tunnel') return `tunnel: socat carries ${s.device} over udp ${s.local ?? '*'}:${s.port} ⇄ ${s.peerText}:${s.port}`;
  if (s.kind !== 'dns') return `${s.kind} server :${s.port}`;
  if (withRecords) return `dns server :${s.port}${s.records.length ? ` (${s.records.map((r) => `${r.name} → ${r.toText}`).join(', ')})` : ''}`;
  return `dns server :${s.port} (${s.records.length} record${s.records.length === 1 ? '' : 's'})`;
}

/** A DHCP server, e.g. "dhcp server on br0: 192.168.10.100–192.168.10.200, no gateway". */
export function describeDhcpServer(d: DhcpServer): string {
  const gw = d.gateway === null ? ', no gateway' : d.gateway ? `, gateway ${d.gateway}` : '';
  return `dhcp server on ${d.ifname}: ${d.start}–${d.end}${gw}${d.dns.length ? `, dns ${d.dns.join(', ')}` : ''}`;
}

/** Kind-specific words of a device: "mode bridge", "id 10", "vni 42", "stp". */
export function deviceDetail(d: Device): string[] {
  switch (d.kind) {
    case 'bridge':
      return [...(d.stp ? [`stp${d.forwardDelayMs !== undefined ? `, forward delay ${d.forwardDelayMs / 1000}s` : ''}`] : []), ...(d.vlanFiltering ? ['vlan filtering'] : [])];
    case 'macvlan':
    case 'ipvlan':
      return [`mode ${d.mode}`];
    case 'vlan':
      return [`id ${d.id}`];
    case 'vxlan':
      return [`vni ${d.id}`, ...(d.remote ? [`remote ${d.remote}`] : []), ...(d.local ? [`local ${d.local}`] : []), `port ${d.port}`];
    case 'tap':
    case 'tun':
      return ['no carrier until a program opens it'];
    case 'dummy':
      return [];
  }
}

/** MTU, MAC and netem of an interface in words. */
export function describeLinkSetting(l: LinkSetting): string[] {
  const out: string[] = [];
  if (l.mtu !== undefined) out.push(`mtu ${l.mtu}`);
  if (l.mac !== undefined) out.push(`mac ${l.mac}`);
  if (l.netem) {
    const n = l.netem;
    const parts = [n.delayMs !== undefined ? `delay ${n.delayMs}ms${n.jitterMs !== undefined ? `±${n.jitterMs}ms` : ''}` : '', n.lossPercent !== undefined ? `loss ${n.lossPercent}%` : '', n.rate ? `rate ${n.rate}` : ''].filter(Boolean);
    out.push(`netem ${parts.join(' ')}`.trim());
  }
  return out;
}
