// What netlab waits for after a build before anything is timed: links switched on, ports forwarding, no tentative address.
import { describe, expect, it } from 'vitest';
import type { Op } from '../../../src/plan/ops.js';
import { ipv6Routers, settleNamespaces, unsettled } from '../../../src/runner/settle.js';

/** `ip -j -d addr show` of a namespace with a bridge port still listening and a tentative global IPv6 address. */
const SETTLING = JSON.stringify([
  { ifname: 'lo', addr_info: [{ local: '127.0.0.1', scope: 'host' }] },
  { ifname: 'p2', addr_info: [{ local: '2001:db8::5', scope: 'global', tentative: true }, { local: 'fe80::1', scope: 'link', tentative: true }] },
  { ifname: 'p1', linkinfo: { info_slave_kind: 'bridge', info_slave_data: { state: 'listening' } }, addr_info: [] },
  { ifname: 'p3', linkinfo: { info_slave_kind: 'bridge', info_slave_data: { state: 'blocking' } }, addr_info: [] },
]);

describe('settle', () => {
  it('names bridge ports still listening or learning and tentative addresses, not link-local ones', () => {
    expect(unsettled(SETTLING)).toEqual(['p2: 2001:db8::5 tentative', 'p1: bridge port listening']);
  });

  it('is settled when ports forward (or block, a steady STP state) and no address is tentative', () => {
    const done = SETTLING.replace('"listening"', '"forwarding"').replace('"tentative":true', '"tentative":false');
    expect(unsettled(done)).toEqual([]);
    expect(unsettled('not json')).toEqual([]);
  });

  it('names links that are up with carrier whose operstate the kernel has not switched on yet', () => {
    const links = JSON.stringify([
      { ifname: 'br0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], operstate: 'DOWN', addr_info: [] },
      { ifname: 'p1', flags: ['UP', 'LOWER_UP'], operstate: 'UP', linkinfo: { info_slave_kind: 'bridge', info_slave_data: { state: 'disabled' } }, addr_info: [] },
      { ifname: 'tap1', flags: ['NO-CARRIER', 'UP'], operstate: 'DOWN', addr_info: [] },
      { ifname: 'p2', flags: ['NO-CARRIER', 'UP'], operstate: 'LOWERLAYERDOWN', linkinfo: { info_slave_kind: 'bridge', info_slave_data: { state: 'disabled' } }, addr_info: [] },
      { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], operstate: 'UNKNOWN', addr_info: [] },
    ]);
    // A tap nobody holds and a port whose peer is down stay without carrier: nothing to wait for.
    expect(unsettled(links)).toEqual(['br0: operstate DOWN with carrier', 'p1: bridge port disabled']);
  });

  it('waits only in namespaces that got devices, bridge ports, tunnels or IPv6 addresses', () => {
    const ops: Op[] = [
      { kind: 'netns-add', ns: 'a' },
      { kind: 'link-master', ns: 'sw', ifname: 'p1', master: 'br0' },
      { kind: 'addr-add', ns: 'v4', ifname: 'eth0', cidr: '10.0.0.1/24' },
      { kind: 'addr-add', ns: 'v6', ifname: 'eth0', cidr: '2001:db8::1/64' },
      { kind: 'link-master', ns: 'sw', ifname: 'p2', master: 'br0' },
      { kind: 'link-add', ns: 'host', ifname: 'mv1', spec: { type: 'macvlan', parent: 'eth0', mode: 'bridge' }, into: 'ns1' },
      { kind: 'link-add', ns: 'tapper', ifname: 'tap1', spec: { type: 'tap' } },
      // a tunnel gives its device carrier (and a bridge it is a port of): both are switched on a moment later
      { kind: 'tunnel-start', ns: 'vpn', node: 'vpn', device: 'tun0', type: 'tun', peer: '198.51.100.2', port: 1194 },
    ];
    expect(settleNamespaces(ops)).toEqual(['sw', 'v6', 'ns1', 'tapper', 'vpn']);
  });
});


describe('IPv6 routers', () => {
  it('are the namespaces whose ops turn IPv6 forwarding on; their link-local addresses must pass DAD too', () => {
    const ops: Op[] = [
      { kind: 'sysctl', ns: 'r', key: 'net.ipv6.conf.all.forwarding', value: '1' },
      { kind: 'sysctl', ns: 'h', key: 'net.ipv6.conf.all.forwarding', value: '0' },
      { kind: 'sysctl', ns: 'q', key: 'net.ipv4.ip_forward', value: '1' },
    ];
    expect(ipv6Routers(ops)).toEqual(['r']);
    const json = JSON.stringify([{ ifname: 'eth0', flags: ['UP'], addr_info: [{ local: 'fe80::1', scope: 'link', tentative: true }, { local: '2001:db8::1', scope: 'global' }] }]);
    expect(unsettled(json)).toEqual([]);
    expect(unsettled(json, true)).toEqual(['eth0: fe80::1 tentative']);
    // A router without an IPv6 address of its own (an IPv4 lab that turned forwarding on for both families) has no
    // IPv6 to forward: its link-local DAD is not waited for (it was 2 s of every run of veth-routing).
    const v4only = JSON.stringify([{ ifname: 'eth0', flags: ['UP'], addr_info: [{ local: 'fe80::1', scope: 'link', tentative: true }, { local: '10.0.0.1', scope: 'global' }] }, { ifname: 'lo', addr_info: [{ local: '::1', scope: 'host' }] }]);
    expect(unsettled(v4only, true)).toEqual([]);
  });
});
