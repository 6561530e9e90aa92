// An address two nodes have on separate segments (VirtualBox NAT: every VM is 10.0.2.15 behind its own NAT device)
// is ambiguous only when the lab's routes cannot tell where a check to it ends: they lead it to one of the holders
// (the one it names), or to none, or the rule keeps refusing it.
import { describe, expect, it } from 'vitest';
import { problemLines } from './problems.js';

/** Two VMs with one address, each behind its own NAT device joined to host; host, the NAT devices and a LAN. */
const NAT = `name: twin-nat
nodes:
  host:
    forwarding: true
    routes: [{ dst: default, via: 192.168.3.1 }]
  gw:
    forwarding: true
  nat1:
    forwarding: true
    routes: [{ dst: default, via: 172.16.1.1 }]
  nat2:
    forwarding: true
    routes: [{ dst: default, via: 172.16.2.1 }]
  vm1:
    routes: [{ dst: default, via: 10.0.2.2 }]
  vm2:
    routes: [{ dst: default, via: 10.0.2.2 }]
links:
  - endpoints: [{ at: host:lan, address: 192.168.3.101/24 }, { at: gw:lan, address: 192.168.3.1/24 }]
  - endpoints: [{ at: host:n1, address: 172.16.1.1/24 }, { at: nat1:up, address: 172.16.1.2/24 }]
  - endpoints: [{ at: host:n2, address: 172.16.2.1/24 }, { at: nat2:up, address: 172.16.2.2/24 }]
  - endpoints: [{ at: nat1:eth0, address: 10.0.2.2/24 }, { at: vm1:eth0, address: 10.0.2.15/24 }]
  - endpoints: [{ at: nat2:eth0, address: 10.0.2.2/24 }, { at: vm2:eth0, address: 10.0.2.15/24 }]
checks:
`;

const lab = (...checks: string[]) => NAT + checks.map((c) => `  - ${c}\n`).join('');
const problems = (...checks: string[]) => problemLines(lab(...checks)).map((l) => l.replace(/^\d+:\d+ {2}/, ''));

describe('a target address two nodes have on separate segments', () => {
  it('is fine where the routes lead to no holder: host → 10.0.2.15 (gw has no route there) must fail', () => {
    expect(problems('{ kind: ping, from: host, to: vm1, expect: fail }', '{ kind: ping, from: gw, to: 10.0.2.15, expect: fail }', '{ kind: tcp, from: host, to: "vm2:eth0", port: 22, expect: fail, reason: icmp-unreachable }')).toEqual([]);
  });

  it('is fine where the routes lead to the holder the check names: nat1 → vm1, by node or address', () => {
    expect(problems('{ kind: ping, from: nat1, to: vm1 }', '{ kind: ping, from: nat2, to: "vm2:eth0" }', '{ kind: ping, from: nat1, to: 10.0.2.15 }')).toEqual([]);
  });

  it('is a problem where the routes lead to the other holder: nat1 → vm2 reaches vm1', () => {
    expect(problems('{ kind: ping, from: nat1, to: vm2, expect: fail }')).toEqual([
      'checks[0].to  "vm2" resolves to 10.0.2.15, but the routes lead the check to vm1:eth0 (nat1 → vm1), which has it too',
    ]);
  });

  it('follows gateways through forwarding nodes, and stops at one that does not forward', () => {
    // host's route to 10.0.2.0/24 via nat2 leads a check from gw through host and nat2 to vm2.
    const via = lab('{ kind: ping, from: gw, to: vm2 }', '{ kind: ping, from: gw, to: vm1 }').replace('routes: [{ dst: default, via: 192.168.3.1 }]', 'routes: [{ dst: default, via: 192.168.3.1 }, { dst: 10.0.2.0/24, via: 172.16.2.2 }]');
    const withGw = via.replace('  gw:\n    forwarding: true\n', '  gw:\n    forwarding: true\n    routes: [{ dst: 10.0.2.0/24, via: 192.168.3.101 }]\n');
    expect(problemLines(withGw).map((l) => l.replace(/^\d+:\d+ {2}/, ''))).toEqual([
      'checks[1].to  "vm1" resolves to 10.0.2.15, but the routes lead the check to vm2:eth0 (gw → host → nat2 → vm2), which has it too',
    ]);
    // With forwarding off in host the packet stops there: it reaches neither VM, and nothing is ambiguous.
    expect(problemLines(withGw.replace('  host:\n    forwarding: true', '  host:\n    forwarding: false'))).toEqual([]);
  });

  it('stays ambiguous where the routes cannot tell: a port forward on the way, or addresses leased by DHCP', () => {
    const forwarded = lab('{ kind: tcp, from: host, to: 10.0.2.15, port: 22, expect: fail, reason: timeout }', '{ kind: ping, from: host, to: 10.0.2.15, expect: fail }').replace(
      '  gw:\n',
      '    forwards: [{ port: 22, to: "172.16.1.2:22" }]\n  gw:\n',
    );
    // The forward on port 22 may send the tcp check anywhere; ping is not forwarded.
    expect(problemLines(forwarded).map((l) => l.replace(/^\d+:\d+ {2}/, ''))).toEqual([
      'checks[0].to  10.0.2.15 is ambiguous: vm1:eth0 and vm2:eth0 both have it, on separate segments; the check could reach either',
    ]);
    const leased = lab('{ kind: ping, from: host, to: 10.0.2.15, expect: fail }')
      .replace('  gw:\n    forwarding: true\n', '  gw:\n    forwarding: true\n    interfaces: { p9: { address: 192.168.9.1/24 } }\n    dhcp_servers: [{ interface: p9, range: [192.168.9.100, 192.168.9.200] }]\n  dc: {}\n')
      .replace('checks:\n', '  - endpoints: [{ at: dc:eth0, address: dhcp }, gw:p9]\nchecks:\n');
    expect(problemLines(leased).map((l) => l.replace(/^\d+:\d+ {2}/, ''))).toEqual([
      'checks[0].to  10.0.2.15 is ambiguous: vm1:eth0 and vm2:eth0 both have it, on separate segments; the check could reach either',
    ]);
  });

  it('a check from a VM to the other VM is still its own address: it never leaves the node', () => {
    expect(problems('{ kind: ping, from: vm1, to: vm2, expect: fail }')).toEqual([
      'checks[0].to  "vm2" resolves to 10.0.2.15, which "vm1" has itself (vm1:eth0): the check never leaves the node',
    ]);
  });
});
