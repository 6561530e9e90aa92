// kind: matrix in lab files: key parsing, and normalize's expansion into ordinary checks (one per pair) with metadata.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { parseMatrixKey } from '../../../src/lab/matrix.js';
import type { Check } from '../../../src/lab/types.js';
import { planLab } from '../../../src/plan/planner.js';

const TOPOLOGY = readFileSync('test/fixtures/labs/matrix-nat.yaml', 'utf8').replace(/^checks:[\s\S]*$/m, '');

/** The lab of the e2e test with these checks instead of its own. */
function labWith(checks: string): ReturnType<typeof parseLab> {
  return parseLab(`${TOPOLOGY}checks:\n${checks}`, 'matrix.yaml');
}

const brief = (c: Check) => `${c.id} ${c.kind} ${c.from} → ${'toText' in c ? c.toText : ''} ${c.expect} ${c.timeoutMs} | ${c.name}`;

describe('parseMatrixKey', () => {
  it('splits one-way and both-way keys, with or without spaces', () => {
    expect(parseMatrixKey('vm -> host')).toEqual({ from: 'vm', to: 'host', both: false });
    expect(parseMatrixKey('vm1<->vm2')).toEqual({ from: 'vm1', to: 'vm2', both: true });
    expect(parseMatrixKey('nat-net -> host:eth0')).toEqual({ from: 'nat-net', to: 'host:eth0', both: false });
    expect(parseMatrixKey('vm -> 203.0.113.10')).toEqual({ from: 'vm', to: '203.0.113.10', both: false });
  });

  it('rejects anything else', () => {
    for (const k of ['vm', 'vm => host', 'vm -> host -> vm', 'vm ->', '-> host', 'a b -> c', 'vm <- host']) expect(parseMatrixKey(k), k).toBeUndefined();
  });
});

describe('normalize expands a matrix', () => {
  const lab = labWith(`  - kind: ping
    from: vm1
    to: internet
  - kind: matrix
    name: NAT
    hint: look at the firewall
    groups:
      vm: [vm1, vm2]
      nat: [nat:wan]
      internet: [internet]
    expect:
      vm -> internet: yes
      internet -> vm: no
      vm1 <-> vm2: false
      nat -> vm: true
`);
  const setup = lab.stages[0]!;

  it('into one check per source × target pair, skipping pairs within one node; ids <stage>/<n>.<k>', () => {
    expect(setup.checks.map(brief)).toEqual([
      'setup/1 ping vm1 → internet pass 2000 | ping vm1 → internet',
      'setup/2.1 ping vm1 → internet pass 2000 | vm1 → internet (vm → internet)',
      'setup/2.2 ping vm2 → internet pass 2000 | vm2 → internet (vm → internet)',
      'setup/2.3 ping internet → vm1 fail 500 | internet → vm1 (internet → vm)',
      'setup/2.4 ping internet → vm2 fail 500 | internet → vm2 (internet → vm)',
      'setup/2.5 ping vm1 → vm2 fail 500 | vm1 → vm2',
      'setup/2.6 ping vm2 → vm1 fail 500 | vm2 → vm1',
      'setup/2.7 ping nat → vm1 pass 2000 | nat → vm1 (nat → vm)',
      'setup/2.8 ping nat → vm2 pass 2000 | nat → vm2 (nat → vm)',
    ]);
  });

  it('carries the matrix and cell, the hint, and points each check at its expect key', () => {
    const [plain, first] = setup.checks;
    expect(plain!.matrix).toBeUndefined();
    expect(first).toMatchObject({ matrix: { name: 'NAT', from: 'vm', to: 'internet' }, hint: 'look at the firewall', at: ['checks', 1, 'expect', 'vm -> internet'] });
    expect(setup.checks.find((c) => c.id === 'setup/2.6')!.matrix).toEqual({ name: 'NAT', from: 'vm2', to: 'vm1' });
  });

  it('keeps the matrix as written beside the checks', () => {
    expect(setup.matrices).toHaveLength(1);
    expect(setup.matrices[0]!.groups).toEqual([
      { name: 'vm', members: ['vm1', 'vm2'] },
      { name: 'nat', members: ['nat:wan'] },
      { name: 'internet', members: ['internet'] },
    ]);
    expect(setup.matrices[0]!.entries.map((e) => [e.key, e.expect, e.pairs.length])).toEqual([
      ['vm -> internet', 'pass', 2],
      ['internet -> vm', 'fail', 2],
      ['vm1 <-> vm2', 'fail', 2],
      ['nat -> vm', 'pass', 2],
    ]);
  });

  it('the metadata survives planning, with targets resolved', () => {
    const planned = planLab(lab, 't').stages[0]!.checks.find((c) => c.id === 'setup/2.3')!;
    expect(planned).toMatchObject({ fromNs: 'netlab-t-internet', target: '10.0.1.2', matrix: { name: 'NAT', from: 'internet', to: 'vm' } });
  });
});

describe('matrix probes, timeouts, names and steps', () => {
  it('tcp and http probes become tcp and http checks; timeout applies to every pair; default names count from 1', () => {
    const lab = labWith(`  - kind: matrix
    probe: { kind: tcp, port: 80 }
    timeout: 1s
    groups: { vm: [vm1], web: [internet, 203.0.113.10] }
    expect: { vm -> web: yes, internet -> vm1: no }
  - kind: matrix
    probe: { kind: http, port: 80, path: /x }
    groups: { vm: [vm2], web: [internet] }
    expect: { vm -> web: yes }
`);
    const checks = lab.stages[0]!.checks;
    expect(checks.map(brief)).toEqual([
      'setup/1.1 tcp vm1 → internet pass 1000 | vm1 → internet tcp/80 (vm → web)',
      'setup/1.2 tcp vm1 → 203.0.113.10 pass 1000 | vm1 → 203.0.113.10 tcp/80 (vm → web)',
      'setup/1.3 tcp internet → vm1 fail 1000 | internet → vm1 tcp/80',
      'setup/2.1 http vm2 → internet pass 2000 | vm2 → internet http :80/x (vm → web)',
    ]);
    expect(checks[3]).toMatchObject({ kind: 'http', port: 80, path: '/x', status: 200 });
    expect(checks.map((c) => c.matrix?.name)).toEqual(['matrix 1', 'matrix 1', 'matrix 1', 'matrix 2']);
  });

  it('"A <-> A" checks every pair of the group once in each direction', () => {
    const lab = labWith(`  - kind: matrix
    groups: { vm: [vm1, vm2, nat:lan1] }
    expect: { vm <-> vm: no }
`);
    expect(lab.stages[0]!.checks.map((c) => c.name)).toEqual([
      'vm1 → vm2 (vm → vm)',
      'vm1 → nat:lan1 (vm → vm)',
      'vm2 → vm1 (vm → vm)',
      'vm2 → nat:lan1 (vm → vm)',
      'nat → vm1 (vm → vm)',
      'nat → vm2 (vm → vm)',
    ]);
  });

  it('a matrix in a step expands there, with the step in its ids', () => {
    const lab = labWith(`  - { kind: ping, from: vm1, to: internet }
steps:
  - name: later
    checks:
      - kind: matrix
        groups: { a: [vm1], b: [vm2] }
        expect: { a <-> b: no }
`);
    expect(lab.stages[1]!.checks.map((c) => `${c.id} ${c.name} ${c.matrix?.from}→${c.matrix?.to}`)).toEqual(['later/1.1 vm1 → vm2 (a → b) a→b', 'later/1.2 vm2 → vm1 (b → a) b→a']);
    expect(lab.stages[0]!.matrices).toEqual([]);
  });
});
