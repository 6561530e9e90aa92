// A matrix written as a table (rows × columns of "A -> B" cells, as a document prints it), members probed on a
// port ({ at, port }: a port forward), and the rules that keep such a table honest.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { splitMember, memberText } from '../../../src/lab/matrix.js';
import type { Check } from '../../../src/lab/types.js';
import { problemLines } from './problems.js';

const TOPOLOGY = readFileSync('test/fixtures/labs/matrix-nat.yaml', 'utf8').replace(/^checks:[\s\S]*$/m, '');

const TABLE = `  - kind: matrix
    name: modes
    groups:
      vm: [vm1, vm2]
      internet: [internet]
      fwd: [{ at: "nat:wan", port: 8080 }]
      nat: [nat:wan]
    columns: [VM→internet, internet→VM]
    rows:
      NAT:
        internet→VM:
          is: port forward
          expect: { internet -> vm: no, internet -> fwd: yes }
        VM→internet: { vm -> internet: yes }
      VM1:
        VM→internet: { vm1 -> nat: yes }
`;

const checksOf = (checks: string) => parseLab(`${TOPOLOGY}checks:\n${checks}`, 'm.yaml').stages[0]!.checks;
const brief = (c: Check) => `${c.id} ${c.kind}${c.kind === 'tcp' ? `/${c.port}` : ''} ${c.from} → ${'toText' in c ? c.toText : ''} ${c.expect} | ${c.name}`;
const problems = (checks: string) => problemLines(`${TOPOLOGY}checks:\n${checks}`).map((l) => l.replace(/^\d+:\d+ {2}/, ''));

describe('matrix members', () => {
  it('a member { at, port } is "AT port N" inside, and splits back', () => {
    expect(memberText({ at: 'host:lan', port: 8080 })).toBe('host:lan port 8080');
    expect(splitMember('host:lan port 8080')).toEqual({ target: 'host:lan', port: 8080 });
    expect(splitMember('10.0.2.15')).toEqual({ target: '10.0.2.15' });
  });
});

describe('a matrix table', () => {
  const checks = checksOf(TABLE);

  it('expands row by row, cells in the order of columns:, a port member probed with tcp on its port', () => {
    expect(checks.map(brief)).toEqual([
      'setup/1.1 ping vm1 → internet pass | vm1 → internet (NAT: VM→internet)',
      'setup/1.2 ping vm2 → internet pass | vm2 → internet (NAT: VM→internet)',
      'setup/1.3 ping internet → vm1 fail | internet → vm1 (NAT: internet→VM)',
      'setup/1.4 ping internet → vm2 fail | internet → vm2 (NAT: internet→VM)',
      'setup/1.5 tcp/8080 internet → nat:wan pass | internet → nat:wan tcp/8080 (NAT: internet→VM)',
      'setup/1.6 ping vm1 → nat:wan pass | vm1 → nat:wan (VM1: VM→internet)',
    ]);
  });

  it('each check carries its row, column and the cell\'s label: yes/no when its keys agree, else its is:', () => {
    expect(checks.map((c) => c.matrix)).toEqual([
      { name: 'modes', from: 'vm', to: 'internet', row: 'NAT', column: 'VM→internet', cell: 'yes' },
      { name: 'modes', from: 'vm', to: 'internet', row: 'NAT', column: 'VM→internet', cell: 'yes' },
      { name: 'modes', from: 'internet', to: 'vm', row: 'NAT', column: 'internet→VM', cell: 'port forward' },
      { name: 'modes', from: 'internet', to: 'vm', row: 'NAT', column: 'internet→VM', cell: 'port forward' },
      { name: 'modes', from: 'internet', to: 'fwd', row: 'NAT', column: 'internet→VM', cell: 'port forward' },
      { name: 'modes', from: 'vm1', to: 'nat', row: 'VM1', column: 'VM→internet', cell: 'yes' },
    ]);
    expect(checks[4]!.at).toEqual(['checks', 0, 'rows', 'NAT', 'internet→VM', 'expect', 'internet -> fwd']);
  });

  it('an http probe probes a port member with http at that port', () => {
    const http = checksOf(TABLE.replace('    groups:', '    probe: { kind: http, path: /x }\n    groups:'));
    expect(http.map((c) => `${c.kind} ${'port' in c ? c.port : ''} ${c.name}`)[4]).toBe('http 8080 internet → nat:wan http :8080/x (NAT: internet→VM)');
  });

  it('is valid as written', () => {
    expect(problems(TABLE)).toEqual([]);
  });

  it('a cell mixing yes and no without is:, a column not among columns:, a port member as a source, a pair in two cells', () => {
    const bad = TABLE.replace("        VM→internet: { vm -> internet: yes }\n      VM1:", '        VM→internet: { vm -> internet: yes, internet -> vm1: no }\n        VM↔VM: { fwd -> vm: no }\n      VM1:');
    expect(problems(bad)).toEqual([
      'checks[0].rows.NAT.internet→VM.expect.internet -> vm  internet → vm1 is expected twice (also by "internet -> vm1")',
      'checks[0].rows.NAT.VM→internet  the cell NAT × VM→internet expects yes of some pairs and no of others: say what it shows',
      'checks[0].rows.NAT.VM↔VM  "VM↔VM" is not one of the columns (VM→internet, internet→VM)',
      'checks[0].rows.NAT.VM↔VM.fwd -> vm  "nat:wan port 8080" is a target on a port and cannot be a source in "fwd -> vm"',
    ]);
  });

  it('a matrix with neither expect: nor rows: checks nothing', () => {
    expect(problems('  - { kind: matrix, groups: { vm: [vm1] } }\n')).toEqual(['checks[0]  a matrix needs expect: ("A -> B": yes|no) or rows: (a table of such cells)']);
  });

  it('a malformed member or cell says what it should be', () => {
    const bad = `  - kind: matrix
    groups: { vm: [vm1], internet: [internet], f: [{ at: internet, prot: 80 }] }
    rows:
      NAT:
        a: { vm -> internet: maybe }
        b: { is: port forward, expekt: { vm -> internet: yes } }
`;
    expect(problems(bad)).toEqual([
      'checks[0].groups.f[0]  a member is a node, node:ifname, an address, or { at: TARGET, port: 1-65535 }',
      'checks[0].rows.NAT.a  a cell is { "A -> B": yes|no, ... }, or { is: LABEL, expect: { "A -> B": yes|no, ... } }',
      'checks[0].rows.NAT.b  a cell is { "A -> B": yes|no, ... }, or { is: LABEL, expect: { "A -> B": yes|no, ... } }',
    ]);
  });
});
