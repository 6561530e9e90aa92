// The pure parts of evidence: reading `ip route get`, `ip -j addr` and nft counters.
import { describe, expect, it } from 'vitest';
import { addressesOf, droppingRules, hasDropped, newDrops, parseRouteGet } from '../../../src/checks/evidence.js';

describe('evidence parsers', () => {
  it('reads the next hop and source of ip route get, and its failures', () => {
    expect(parseRouteGet('203.0.113.10 via 10.0.2.2 dev eth0 src 10.0.2.15 uid 0 \n    cache')).toEqual({ unreachable: false, via: '10.0.2.2', src: '10.0.2.15' });
    expect(parseRouteGet('10.10.20.2 dev v2_r src 10.10.20.1 uid 0 \n    cache')).toEqual({ unreachable: false, src: '10.10.20.1' });
    expect(parseRouteGet('RTNETLINK answers: Network is unreachable')).toEqual({ unreachable: true });
    expect(parseRouteGet('')).toEqual({ unreachable: true });
  });

  it('lists global addresses of ip -j addr', () => {
    const json = JSON.stringify([
      { ifname: 'lo', addr_info: [{ local: '127.0.0.1', scope: 'host' }] },
      { ifname: 'eth0', addr_info: [{ local: '10.0.2.15', scope: 'global' }, { local: 'fe80::1', scope: 'link' }, { local: '2001:db8::2', scope: 'global' }] },
    ]);
    expect(addressesOf(json)).toEqual(['10.0.2.15', '2001:db8::2']);
    expect(addressesOf('garbage')).toEqual([]);
  });

  it('finds drop, reject and policy-drop rules whose counters moved', () => {
    const ruleset = [
      'table inet netlab {',
      '  chain forward {',
      '    type filter hook forward priority filter; policy drop;',
      '    ct state established,related accept',
      '    tcp dport 80 counter packets 2 bytes 120 drop',
      '    ip saddr 10.0.2.0/24 counter packets 9 bytes 756 accept',
      '    udp dport 53 counter packets 0 bytes 0 reject',
      '    counter packets 3 bytes 252 comment "policy drop"',
      '  }',
      '}',
    ].join('\n');
    expect(droppingRules(ruleset)).toEqual([
      { rule: 'tcp dport 80 counter packets 2 bytes 120 drop', packets: 2 },
      { rule: 'counter packets 3 bytes 252 comment "policy drop"', packets: 3 },
    ]);
  });

  it('blames only the drop rules whose counters went up between two readings', () => {
    const before = '    tcp dport 80 counter packets 2 bytes 120 drop\n    udp dport 53 counter packets 4 bytes 300 drop\n    counter packets 3 bytes 252 comment "policy drop"';
    const after = '    tcp dport 80 counter packets 5 bytes 300 drop\n    udp dport 53 counter packets 4 bytes 300 drop\n    counter packets 3 bytes 252 comment "policy drop"\n    icmp type echo-request counter packets 1 bytes 84 reject';
    expect(newDrops(before, after)).toEqual([
      { rule: 'tcp dport 80 counter drop', packets: 3 },
      { rule: 'icmp type echo-request counter reject', packets: 1 },
    ]);
    expect(newDrops(after, after)).toEqual([]);
    expect(hasDropped(after)).toBe(true);
    expect(hasDropped('    tcp dport 80 counter packets 0 bytes 0 drop\n    counter packets 0 bytes 0 comment "policy drop"')).toBe(false);
  });
});
