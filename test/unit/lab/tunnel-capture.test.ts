// Validation of tunnel services and capture checks: what a lab may say, and the located problem for each mistake.
import { describe, expect, it } from 'vitest';
import { problemLines, problemsOf } from './problems.js';

/** Two gateways with a tun device each, joined by an underlay; a tunnel on each and a capture on the underlay. */
const BASE = `name: vpn
nodes:
  a:
    services: [{ kind: tunnel, device: tun0, peer: "b:wan", port: 1194, local: 198.51.100.1 }]
  b:
    services: [{ kind: tunnel, device: tun0, peer: 198.51.100.1 }]
links:
  - endpoints: [{ at: "a:wan", address: 198.51.100.1/24 }, { at: "b:wan", address: 198.51.100.2/24 }]
devices:
  - { kind: tun, name: tun0, node: a, address: 10.8.0.1/24 }
  - { kind: tun, name: tun0, node: b, address: 10.8.0.2/24 }
  - { kind: dummy, name: d0, node: a }
checks:
  - { kind: capture, from: a, to: "b:tun0", on: "a:wan", filter: ip, all: udp port 1194, none: icmp }
  - { kind: capture, from: a, to: "b:wan", on: "a:wan", all: udp port 1194, expect: fail, reason: mismatch }
`;

const edit = (from: string, to: string) => {
  if (!BASE.includes(from)) throw new Error(`test bug: ${from} not in BASE`);
  return BASE.replace(from, to);
};

describe('tunnel services', () => {
  it('the base lab is valid', () => {
    expect(problemLines(BASE)).toEqual([]);
  });

  it('a tunnel opens a tun or tap device of its own node', () => {
    expect(problemLines(edit('device: tun0, peer: "b:wan"', 'device: d0, peer: "b:wan"'))).toEqual([
      '4:40  nodes.a.services[0].device  "d0" of node "a" is not a tun or tap device: a tunnel opens one',
    ]);
    expect(problemLines(edit('device: tun0, peer: "b:wan"', 'device: tun9, peer: "b:wan"'))).toEqual([
      '4:40  nodes.a.services[0].device  node "a" has no interface "tun9"',
    ]);
  });

  it('a device is held by one tunnel', () => {
    const twice = edit('local: 198.51.100.1 }]', 'local: 198.51.100.1 }, { kind: tunnel, device: tun0, peer: "b:wan", port: 1195 }]');
    expect(problemLines(twice)).toEqual([expect.stringMatching(/^4:\d+ {2}nodes\.a\.services\[1\]\.device {2}a:tun0 is already opened by the tunnel at setup/)]);
  });

  it('the peer is another node, by a name or an address it has', () => {
    expect(problemLines(edit('peer: "b:wan", port', 'peer: a, port'))).toEqual([
      '4:52  nodes.a.services[0].peer  the peer "a" is node "a" itself: a tunnel carries traffic to another node',
    ]);
    expect(problemLines(edit('peer: 198.51.100.1 }', 'peer: 198.51.100.2 }'))).toEqual([
      '6:52  nodes.b.services[0].peer  198.51.100.2 is an address of node "b" itself: a tunnel carries traffic to another node',
    ]);
    expect(problemLines(edit('peer: "b:wan", port', 'peer: "c:wan", port'))).toEqual(['4:52  nodes.a.services[0].peer  unknown node "c"']);
    expect(problemLines(edit('peer: "b:wan", port', 'peer: "b:eth7", port'))).toEqual(['4:52  nodes.a.services[0].peer  node "b" has no interface "eth7"']);
    expect(problemLines(edit('peer: "b:wan", port', 'peer: "not an address", port'))).toEqual([
      '4:52  nodes.a.services[0].peer  "not an address" is neither an address, a node nor node:ifname',
    ]);
  });

  it('local is an address of the node, of the peer\'s family', () => {
    expect(problemLines(edit('local: 198.51.100.1 }', 'local: 198.51.100.9 }'))).toEqual([
      '4:80  nodes.a.services[0].local  198.51.100.9 is not an address of node "a" at step "setup"',
    ]);
    // b:wan resolves to its IPv4 address: an IPv6 local address cannot send to it.
    const v6 = edit('{ at: "a:wan", address: 198.51.100.1/24 }', '{ at: "a:wan", address: [198.51.100.1/24, "2001:db8::1/64"] }').replace('local: 198.51.100.1 }', 'local: "2001:db8::1" }');
    expect(problemLines(v6)).toEqual(['4:80  nodes.a.services[0].local  local 2001:db8::1 and peer b:wan (198.51.100.2) are of different IP families']);
    expect(problemLines(edit('local: 198.51.100.1 }', 'local: "not-an-ip" }'))).toEqual([
      '4:80  nodes.a.services[0].local  "not-an-ip" is not an IP address',
    ]);
  });

  it('a tunnel takes a UDP port of its node, like any service', () => {
    const clash = edit('local: 198.51.100.1 }]', 'local: 198.51.100.1 }, { kind: udp-echo, port: 1194 }]');
    expect(problemLines(clash)).toEqual([expect.stringMatching(/nodes\.a\.services\[1\]\.port {2}node "a" already has a service on udp port 1194$/)]);
  });

  it('an unknown key lists the keys of a tunnel', () => {
    const [line] = problemsOf(edit('port: 1194, local', 'prot: 1194, local'));
    expect(line?.message).toBe('unknown key "prot"');
    expect(line?.hint).toMatch(/device.*peer.*port.*local/);
  });
});

describe('capture checks', () => {
  it('a must-fail capture says how it must fail', () => {
    expect(problemLines(edit(', expect: fail, reason: mismatch }', ', expect: fail }'))).toEqual([
      '15:85  checks[1].expect  expect: fail needs a reason saying how this capture check must fail: mismatch, too-few, no-reply',
    ]);
    expect(problemLines(edit('none: icmp }', 'none: icmp, reason: too-few }'))).toEqual(['14:110  checks[0].reason  reason only applies to checks with expect: fail']);
  });

  it('captures on an interface of a known node, not on lo', () => {
    expect(problemLines(edit('on: "a:wan", filter', 'on: "a:eth9", filter'))).toEqual(['14:49  checks[0].on  node "a" has no interface "eth9"']);
    expect(problemLines(edit('on: "a:wan", filter', 'on: "z:wan", filter'))).toEqual(['14:49  checks[0].on  unknown node "z"']);
    expect(problemLines(edit('on: "a:wan", filter', 'on: "a:lo", filter'))).toEqual(['14:49  checks[0].on  capturing on lo sees only traffic inside one node']);
  });

  it('filters are tcpdump words only: no quotes, no shell, no option', () => {
    for (const bad of ['"udp; rm -rf /"', '"$(id)"', '"-w /etc/passwd"', '"a`b`"', `"${'x'.repeat(201)}"`]) {
      const lines = problemLines(edit('all: udp port 1194, none', `all: ${bad}, none`));
      expect(lines, bad).toHaveLength(1);
      expect(lines[0], bad).toMatch(/checks\[0\]\.all {2}".*" is not a capture filter netlab passes on/);
    }
    expect(problemLines(edit('all: udp port 1194, none', 'all: "udp and (port 1194 or port 1195) and not ip[6:2] & 0x1fff != 0", none'))).toEqual([]);
  });
});
