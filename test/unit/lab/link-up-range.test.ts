// Two small engine extensions the catalog needs: `up: false|true` on an interface (the vmware lab disables the host's
// VMnet8 adapter in a step) and the state check `address: { dev, range }` (libvirt-default: a DHCP lease in range).
import { describe, expect, it } from 'vitest';
import { judgeState } from '../../../src/checks/state.js';
import { parseLab } from '../../../src/lab/load.js';
import { inverse } from '../../../src/plan/ops.js';
import { planLab } from '../../../src/plan/planner.js';
import { problemLines } from './problems.js';

const LAB = `name: t
nodes:
  a: { routes: [{ dst: 10.9.0.0/16, via: 10.0.0.2 }] }
  b: {}
links:
  - endpoints: [{ at: "a:eth0", address: 10.0.0.1/24 }, { at: "b:eth0", address: 10.0.0.2/24 }]
  - endpoints: [{ at: "a:eth1", address: 10.0.1.1/24 }, { at: "b:eth1", address: 10.0.1.2/24 }]
checks:
  - { kind: state, node: a, address: { dev: eth0, range: [10.0.0.1, 10.0.0.9] } }
steps:
  - name: unplug
    nodes:
      a:
        interfaces: { eth1: { up: false } }
        routes: [{ dst: 10.8.0.0/16, via: 10.0.1.2 }]
  - name: plug
    nodes:
      a: { interfaces: { eth1: { up: true } } }
`;

describe('interfaces: up', () => {
  it('a step with up: false sets the interface down after its routes; up: true sets it up; the inverse undoes it', () => {
    const plan = planLab(parseLab(LAB, 't.yaml'), 'x');
    const unplug = plan.stages[1]!.ops;
    expect(unplug.map((o) => o.kind)).toEqual(['route-add', 'link-down']);
    expect(unplug[1]).toEqual({ kind: 'link-down', ns: 'netlab-x-a', ifname: 'eth1' });
    expect(inverse(unplug[1]!)).toEqual({ kind: 'link-up', ns: 'netlab-x-a', ifname: 'eth1' });
    expect(plan.stages[2]!.ops).toEqual([{ kind: 'link-up', ns: 'netlab-x-a', ifname: 'eth1' }]);
  });

  it('settings of an interface that does not exist are a problem at its key (once, also beside an address)', () => {
    expect(problemLines(LAB.replace('eth1: { up: false }', 'eth7: { up: false }'))).toEqual([
      '14:23  steps[0].nodes.a.interfaces.eth7  node "a" has no interface "eth7"',
    ]);
    expect(problemLines(LAB.replace('eth1: { up: false }', 'eth7: { up: false, address: 10.0.7.1/24 }'))).toEqual([
      '14:23  steps[0].nodes.a.interfaces.eth7  node "a" has no interface "eth7"',
    ]);
  });

  it('up must be a boolean', () => {
    expect(problemLines(LAB.replace('up: false', 'up: "no"'))).toHaveLength(1);
  });
});

describe('state check: an address from a range', () => {
  it('normalizes to an address-range query with a default name', () => {
    const c = parseLab(LAB, 't.yaml').stages[0]!.checks[0]!;
    expect(c.kind === 'state' && c.query).toEqual({ what: 'address-range', dev: 'eth0', range: ['10.0.0.1', '10.0.0.9'] });
    expect(c.name).toBe('state of a: an address 10.0.0.1–10.0.0.9 on eth0');
  });

  it('needs exactly one of cidr or range, a range of one family that does not end before it starts, and a known dev', () => {
    const edit = (to: string) => problemLines(LAB.replace('{ dev: eth0, range: [10.0.0.1, 10.0.0.9] }', to));
    expect(edit('{ dev: eth0, cidr: 10.0.0.1/24, range: [10.0.0.1, 10.0.0.9] }')[0]).toMatch(/exactly one of cidr or range/);
    expect(edit('{ dev: eth0 }')[0]).toMatch(/exactly one of cidr or range/);
    expect(edit('{ dev: eth0, range: [10.0.0.9, 10.0.0.1] }')[0]).toMatch(/ends \(10\.0\.0\.1\) before it starts \(10\.0\.0\.9\)/);
    expect(edit('{ dev: eth0, range: [10.0.0.1, "2001:db8::1"] }')[0]).toMatch(/not of one family/);
    expect(edit('{ dev: eth9, range: [10.0.0.1, 10.0.0.9] }')).toEqual(['9:45  checks[0].address.dev  node "a" has no interface "eth9"']);
  });

  it('holds when any address of the interface lies in the range, inclusive, whatever its prefix length', () => {
    const q = { what: 'address-range', dev: 'eth0', range: ['192.168.122.2', '192.168.122.254'] } as const;
    const out = (...cidrs: string[]) => JSON.stringify([{ addr_info: cidrs.map((c) => ({ local: c.split('/')[0], prefixlen: Number(c.split('/')[1]) })) }]);
    expect(judgeState({ ...q, range: [...q.range] }, out('fe80::1/64', '192.168.122.254/24'))).toEqual({ holds: true, found: 'eth0 has fe80::1/64, 192.168.122.254/24' });
    expect(judgeState({ ...q, range: [...q.range] }, out('192.168.122.2/32')).holds).toBe(true);
    expect(judgeState({ ...q, range: [...q.range] }, out('192.168.122.1/24'))).toEqual({
      holds: false,
      found: 'eth0 has 192.168.122.1/24, none in 192.168.122.2–192.168.122.254',
    });
    expect(judgeState({ ...q, range: [...q.range] }, out()).holds).toBe(false);
  });
});
