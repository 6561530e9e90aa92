import { describe, expect, it } from 'vitest';
import { parsePing } from '../../../src/checks/ping.js';

const REPLY = `PING 10.10.20.2 (10.10.20.2) 56(84) bytes of data.
64 bytes from 10.10.20.2: icmp_seq=1 ttl=63 time=0.043 ms

--- 10.10.20.2 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.043/0.043/0.043/0.000 ms
`;
const LOSS = `PING 10.10.20.2 (10.10.20.2) 56(84) bytes of data.

--- 10.10.20.2 ping statistics ---
1 packets transmitted, 0 received, 100% packet loss, time 0ms
`;
const ICMP = `PING 10.10.30.2 (10.10.30.2) 56(84) bytes of data.
From 10.10.10.1 icmp_seq=1 Destination Net Unreachable

--- 10.10.30.2 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
`;

describe('parsePing (iputils, LANG=C)', () => {
  it('reads replies and TTLs', () => {
    expect(parsePing(0, REPLY, '')).toMatchObject({ outcome: 'reply', received: 1, ttls: [63] });
  });
  it('tells a missing local route from silence', () => {
    expect(parsePing(2, '', 'ping: connect: Network is unreachable\n').outcome).toBe('no-route');
    expect(parsePing(1, LOSS, '').outcome).toBe('no-reply');
  });
  it('reads ICMP errors from a router', () => {
    const p = parsePing(1, ICMP, '');
    expect(p.outcome).toBe('icmp-unreachable');
    expect(p.message).toContain('10.10.10.1');
  });
  it('reports anything else as an error, not a failure', () => {
    expect(parsePing(2, '', 'ping: unknown host\n').outcome).toBe('error');
  });
});
