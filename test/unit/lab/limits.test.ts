// Input limits: each size limit is refused at the collection that is too big (and only beyond the limit), a matrix
// is counted as the checks normalize makes of it, YAML nesting and aliases are bounded, hostile YAML of every kind
// is a ValidationError and never another exception, and the docs list every limit with its default.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError, ValidationError } from '../../../src/errors.js';
import { activeLimits, defaultLimits, FIXED_LIMITS, formatLimit, LIMITS, limitOption, readLabText, setLimits, type LimitKey } from '../../../src/lab/limits.js';
import { parseLab } from '../../../src/lab/load.js';
import { limitsFromArgs } from '../../../src/commands/limit-options.js';
import { problemLines } from './problems.js';

afterEach(() => setLimits({}));

const problems = (text: string): string[] => problemLines(text);

const nodes = (n: number) => Array.from({ length: n }, (_, i) => `  n${i}: {}`).join('\n');
const labOf = (n: number, rest = '') => `name: big\nnodes:\n${nodes(n)}\n${rest}`;

describe('size limits', () => {
  it('refuses one node more than the limit, at the nodes key, and says how to raise it', () => {
    setLimits({ nodes: 5 });
    expect(problems(labOf(5))).toEqual([]);
    expect(problems(labOf(6))).toEqual(['2:1  nodes  lab has 6 nodes; the limit is 5']);
    try {
      parseLab(labOf(6), 'lab.yaml');
    } catch (e) {
      expect((e as ValidationError).problems[0]?.hint).toBe('if the lab really is this big, raise the limit: --max-nodes 6');
    }
  });

  it('refuses a 20,000-node file with the default limit; a lab just over the default passes when the limit is raised', () => {
    expect(problems(labOf(20_000))).toEqual([`2:1  nodes  lab has 20000 nodes; the limit is ${LIMITS.nodes.default}`]);
    const over = labOf(LIMITS.nodes.default + 1);
    expect(problems(over)).toHaveLength(1);
    setLimits({ nodes: LIMITS.nodes.default + 1 });
    expect(problems(over)).toEqual([]);
  });

  it('counts links, addresses, steps, devices, services and checks, each at its own key', () => {
    setLimits({ links: 1, addresses: 2, steps: 1, devices: 1, services: 1, checks: 1 });
    const text = [
      'name: many',
      'nodes:',
      '  a: { services: [{ kind: http, port: 80 }] }',
      '  b: { services: [{ kind: tcp-echo, port: 7 }] }',
      'links:',
      '  - endpoints: ["a:e0", "b:e0"]',
      '  - endpoints: [{ at: "a:e1", address: [10.0.0.1/24, 10.0.1.1/24] }, "b:e1"]',
      'bridges:',
      '  - { name: br0, node: a, address: 10.0.2.1/24 }',
      'devices:',
      '  - { kind: dummy, name: d0, node: b }',
      'checks:',
      '  - { kind: ping, from: a, to: 10.0.0.1 }',
      '  - { kind: ping, from: b, to: 10.0.0.1 }',
      'steps:',
      '  - { name: one }',
      '  - { name: two }',
    ].join('\n');
    expect(problems(text)).toEqual([
      '2:1  nodes  lab has 2 services and DHCP servers; the limit is 1',
      '5:1  links  lab has 2 links; the limit is 1',
      '5:1  links  lab has 3 addresses; the limit is 2',
      '10:1  devices  lab has 2 bridges and devices; the limit is 1',
      '12:1  checks  lab has 2 checks (a matrix counts each pair); the limit is 1',
      '15:1  steps  lab has 2 steps; the limit is 1',
    ]);
  });

  it('counts a matrix as exactly the checks normalize expands it to (pairs within one node left out)', () => {
    const matrix = [
      'name: grid',
      'nodes:',
      '  hub: {}',
      nodes(12),
      'bridges:',
      `  - { name: br0, node: hub, ports: [${Array.from({ length: 12 }, (_, i) => `p${i}`).join(', ')}] }`,
      'links:',
      ...Array.from({ length: 12 }, (_, i) => `  - endpoints: [{ at: "n${i}:eth0", address: 10.77.0.${i + 2}/24 }, "hub:p${i}"]`),
      'checks:',
      '  - kind: matrix',
      '    groups:',
      '      A: [n0, n1, n2, "n3:eth0"]',
      '      B: [n3, n4, n5, n6, 10.77.0.13]',
      '    expect: { "A -> B": yes, "A -> A": no, "n7 -> B": yes, "n8 <-> n9": yes }',
    ].join('\n');
    setLimits({ nodes: 100, checks: 100_000 });
    const lab = parseLab(matrix, 'grid.yaml');
    const expanded = lab.stages.flatMap((s) => s.checks).length;
    expect(expanded).toBe(4 * 5 - 1 + 4 * 4 - 4 + 5 + 2);
    setLimits({ nodes: 100, checks: expanded });
    expect(problems(matrix)).toEqual([]);
    setLimits({ nodes: 100, checks: expanded - 1 });
    expect(problems(matrix)).toEqual([`31:1  checks  lab has ${expanded} checks (a matrix counts each pair); the limit is ${expanded - 1}`]);
  });

  it('refuses a 100 × 100 matrix without expanding it', () => {
    const members = Array.from({ length: 100 }, (_, i) => `n${i}`).join(', ');
    const text = labOf(100, `checks:\n  - { kind: matrix, groups: { A: [${members}] }, expect: { "A -> A": yes } }\n`);
    expect(problems(text)).toEqual([`103:1  checks  lab has 9900 checks (a matrix counts each pair); the limit is ${LIMITS.checks.default}`]);
  });

  it('refuses more ports on one bridge than the kernel allows, whatever the limits', () => {
    const ports = Array.from({ length: FIXED_LIMITS.bridgePorts + 1 }, (_, i) => `p${i}`).join(', ');
    const text = `name: wide\nnodes:\n  hub: {}\nbridges:\n  - { name: br0, node: hub, ports: [${ports}] }\n`;
    const found = problems(text);
    expect(found[0]).toBe('5:29  bridges[0].ports  bridge br0 has 1024 ports; a Linux bridge holds at most 1023');
  });

  it('refuses a file over the size limit before parsing it', () => {
    setLimits({ 'file-size': 100 });
    const text = `name: x\nnodes: { a: {} }\ndescription: "${'é'.repeat(50)}"\n`;
    expect(problems(text)).toEqual([`1:1    lab file is ${Buffer.byteLength(text)} bytes; the limit is 100 bytes`]);
    setLimits({ 'file-size': Buffer.byteLength(text) });
    expect(problems(text)).toEqual([]);
  });
});

describe('readLabText', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-limits-'));
  afterEach(() => undefined);

  it('reads a file within the limit, and refuses a bigger one, /dev/zero and a directory as usage errors', async () => {
    try {
      const file = join(dir, 'lab.yaml');
      writeFileSync(file, 'x'.repeat(64));
      const limits = { ...defaultLimits(), 'file-size': 64 };
      expect(await readLabText(file, limits)).toBe('x'.repeat(64));
      writeFileSync(file, 'x'.repeat(65));
      await expect(readLabText(file, limits)).rejects.toThrow(/is 65 bytes; the limit is 64 bytes/);
      await expect(readLabText('/dev/zero', limits)).rejects.toThrow(/is more than 64 bytes/);
      await expect(readLabText(dir, limits)).rejects.toBeInstanceOf(UsageError);
      await expect(readLabText(join(dir, 'none.yaml'), limits)).rejects.toBeInstanceOf(UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('YAML nesting and aliases', () => {
  it('refuses 10,000 nested [ at the 65th level instead of overflowing the stack', () => {
    expect(problems(`name: x\nnodes: ${'['.repeat(10_000)}\n`)).toEqual([`2:71    YAML: collections nested more than ${FIXED_LIMITS.nesting} deep`]);
    expect(problems(`name: x\nnodes: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`)).toHaveLength(1);
  });

  it('refuses deep block nesting (indented maps, compact lists) the same way', () => {
    const maps = Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(problems(`name: x\nnodes: {}\ngoals:\n${maps} 1\n`)[0]).toMatch(/YAML: collections nested more than 64 deep$/);
    expect(problems(`name: x\nnodes: {}\ngoals:\n${'- '.repeat(5000)}x\n`)[0]).toMatch(/YAML: collections nested more than 64 deep$/);
  });

  it('accepts nesting up to the limit (the error then is the schema, not the nesting)', () => {
    const found = problems(`name: x\nnodes: {}\ngoals: ${'['.repeat(62)}${']'.repeat(62)}\n`);
    expect(found.join('\n')).not.toMatch(/nested/);
    expect(found.length).toBeGreaterThan(0);
  });

  it('expands anchors within the alias limit, and counts every value an alias adds', () => {
    const text = 'name: x\nnodes:\n  a: { sysctls: &s { net.ipv4.ip_forward: 1, net.ipv4.conf.all.rp_filter: 0 } }\n  b: { sysctls: *s }\n  c: { sysctls: *s }\n';
    const lab = parseLab(text, 'x.yaml');
    expect(lab.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(JSON.stringify(lab).match(/rp_filter/g)?.length).toBeGreaterThanOrEqual(3);
    // The map *s stands for is 5 values (the map, 2 keys, 2 values): two aliases add 10.
    setLimits({ aliases: 10 });
    expect(problems(text)).toEqual([]);
    setLimits({ aliases: 9 });
    expect(problems(text)).toEqual(['5:17  nodes.c.sysctls  YAML: aliases expand to more than 9 values (*s adds 5); the limit is 9']);
  });

  it('stops a billion laughs at the alias that crosses the limit', () => {
    const lines = ['name: bomb', 'nodes: { a: {} }', 'goals: &a0 [x, x, x, x, x, x, x, x, x]', 'checks:'];
    for (let i = 1; i <= 9; i++) lines.push(`  - &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
    const found = problems(lines.join('\n'));
    expect(found).toEqual([`8:10  checks[3][0]  YAML: aliases expand to more than ${LIMITS.aliases.default} values (*a3 adds 7381); the limit is ${LIMITS.aliases.default}`]);
  });

  it('refuses alias cycles, unresolved aliases, collection keys and a second document', () => {
    expect(problems('name: x\nnodes:\n  a: &a { interfaces: { e: *a } }\n')).toEqual(['3:28  nodes.a.interfaces.e  YAML: alias *a is inside the value it refers to (a cycle)']);
    expect(problems('name: x\nnodes: { a: *b }\n')).toEqual(['2:13  nodes.a  YAML: alias *b has no anchor &b before it']);
    expect(problems('name: x\nnodes:\n  ? { a: 1 }\n  : {}\n')).toEqual(['3:5  nodes  YAML: a map key must be a plain value (a name), not a list, map or alias']);
    expect(problems('name: x\nnodes: {}\n---\nname: y\n')).toEqual(['3:1    YAML: a lab file holds one document; this is a second one (after ---)']);
  });

  it('flags keys that collide once converted (1 and "1"), as the object would keep only one', () => {
    expect(problems('name: x\nnodes:\n  a:\n    sysctls: { 1: 1, "1": 2 }\n')).toContain('4:22  nodes.a.sysctls.1  YAML: duplicate key "1": map keys must be unique');
  });

  it('turns every hostile YAML shape into a ValidationError or a lab, never another exception', () => {
    const hostile = [
      '',
      '\u0000\u0001\u0002',
      '\uFEFFname: x\nnodes: {}\n',
      'name: !!js/function "function(){}"\nnodes: {}\n',
      'name: !!binary aGVsbG8=\nnodes: {}\n',
      'name: x\nnodes: { <<: { a: {} } }\n',
      'name: x\nnodes: { a: { sysctls: { net.ipv4.ip_forward: 1e999999 } } }\n',
      'name: x\nnodes: &x [*x]\n',
      '*a',
      '&a [*a, *a]',
      ']]]]',
      '{'.repeat(100_000),
      '- '.repeat(50_000),
      'a: '.repeat(20_000),
      `name: x\nnodes:\n${Array.from({ length: 30_000 }, (_, i) => `  n${i % 7}: {}`).join('\n')}\n`,
      'name: x\nnodes: {}\n%YAML 1.1\n---\n',
      '? ' + '? '.repeat(1000) + 'a',
    ];
    for (const text of hostile) {
      try {
        parseLab(text, 'h.yaml');
      } catch (e) {
        expect(e, JSON.stringify(text.slice(0, 40))).toBeInstanceOf(ValidationError);
      }
    }
  });
});

describe('the limits table', () => {
  const keys = Object.keys(LIMITS) as LimitKey[];

  it('gives each limit a positive default and a --max- option, and setLimits only changes what it is given', () => {
    for (const k of keys) {
      expect(Number.isSafeInteger(LIMITS[k].default) && LIMITS[k].default > 0, k).toBe(true);
      expect(limitOption(k)).toBe(`max-${k}`);
    }
    setLimits({ nodes: 7 });
    expect(activeLimits()).toEqual({ ...defaultLimits(), nodes: 7 });
  });

  it('reads the options as yargs hands them over, and refuses what is not a whole number of at least 1', () => {
    expect(limitsFromArgs({ 'max-nodes': 900, maxNodes: 900, 'max-file-size': 2_000_000 })).toEqual({ nodes: 900, 'file-size': 2_000_000 });
    expect(limitsFromArgs({})).toEqual({});
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => limitsFromArgs({ 'max-steps': bad }), String(bad)).toThrow(UsageError);
  });

  it('is what docs/lab-format.md and docs/cli.md say', () => {
    const format = readFileSync('docs/lab-format.md', 'utf8');
    const cli = readFileSync('docs/cli.md', 'utf8');
    for (const k of keys) {
      const row = format.split('\n').find((l) => l.includes(`\`--${limitOption(k)}\``));
      expect(row, `lab-format.md row for ${k}`).toBeDefined();
      expect(row).toContain(`| ${formatLimit(k, LIMITS[k].default)} |`);
      expect(row).toContain(LIMITS[k].why);
      expect(cli, `cli.md names --${limitOption(k)}`).toContain(`\`--${limitOption(k)}\``);
    }
    expect(format).toContain(`nested more than ${FIXED_LIMITS.nesting} deep`);
    expect(format).toContain(`more than ${FIXED_LIMITS.bridgePorts} ports on one bridge`);
  });
});
