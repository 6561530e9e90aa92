// The schema read at a path: the "allowed keys here" hint (per check and device kind), and which item the schema
// pass leaves out for a problem at a path.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { allowedKeysHint, parseLab } from '../../../src/lab/load.js';
import { HttpCheckSchema, LabSchema, MatrixCheckSchema, NatSourceCheckSchema, TcpCheckSchema } from '../../../src/lab/schema.js';
import { dropUnit } from '../../../src/lab/schema-walk.js';

const LAB = {
  name: 'x',
  nodes: { a: { routes: [{ dst: 'default', via: '10.0.0.1' }], firewall: { forward: { rules: [{ action: 'drop' }] } } }, b: null },
  links: [{ endpoints: ['a:v1', { at: 'b:v1', address: '10.0.0.2/24' }] }],
  devices: [{ kind: 'vlan', name: 'v1.5', node: 'a', parent: 'v1', id: 5 }, { kind: 'dummy', name: 'd0', node: 'a' }],
  checks: [
    { kind: 'tcp', from: 'a', to: 'b', port: 22 },
    { kind: 'http', from: 'a', to: 'b' },
    { kind: 'nat-source', from: 'a', to: 'b', seen_as: 'a' },
    { kind: 'matrix', probe: { kind: 'tcp', port: 22 }, groups: { A: ['a'] }, expect: { 'A -> b': 'yes' } },
  ],
  steps: [{ name: 's', nodes: { a: { services: [{ kind: 'dns', records: {} }] } } }],
};

const keys = (path: (string | number)[]) => allowedKeysHint(LAB, path).replace(/^allowed keys here: /, '').split(', ');

describe('the allowed-keys hint comes from the schema', () => {
  it('top level', () => {
    expect(keys([])).toEqual(['$schema', 'version', 'name', 'title', 'description', 'goals', 'source', 'difficulty', 'nodes', 'links', 'bridges', 'devices', 'checks', 'steps']);
  });

  it('a node, at the top and in a step: every key, nat, forwards, firewall, services and dhcp_servers included', () => {
    const node = ['description', 'forwarding', 'sysctls', 'interfaces', 'routes', 'nat', 'forwards', 'firewall', 'services', 'dhcp_servers'];
    expect(keys(['nodes', 'a'])).toEqual(node);
    expect(keys(['nodes', 'b'])).toEqual(node);
    expect(keys(['steps', 0, 'nodes', 'a'])).toEqual(node);
  });

  it("a check: the keys of that check's kind (and only those)", () => {
    // Kinds gain keys (e.g. reason); what matters is that the list is the kind's own, read from the schema.
    const common = ['kind', 'name', 'expect', 'hint', 'timeout', 'retries', 'within'];
    expect(keys(['checks', 0])).toEqual(Object.keys(TcpCheckSchema.shape));
    expect(keys(['checks', 0])).toEqual(expect.arrayContaining([...common, 'from', 'to', 'port']));
    expect(keys(['checks', 1])).toEqual(Object.keys(HttpCheckSchema.shape));
    expect(keys(['checks', 1])).toEqual(expect.arrayContaining([...common, 'from', 'to', 'port', 'path', 'status', 'contains', 'regex', 'headers']));
    expect(keys(['checks', 2])).toEqual(Object.keys(NatSourceCheckSchema.shape));
    expect(keys(['checks', 2])).toEqual(expect.arrayContaining([...common, 'from', 'to', 'port', 'seen_as']));
    for (const i of [0, 1, 2]) for (const pingOnly of ['count', 'ttl']) expect(keys(['checks', i])).not.toContain(pingOnly);
    expect(keys(['checks', 1])).not.toContain('seen_as');
    expect(keys(['checks', 3])).toEqual(['kind', 'name', 'hint', 'timeout', 'retries', 'within', 'points', 'gate', 'hidden', 'probe', 'groups', 'expect', 'columns', 'rows']);
    expect(keys(['checks', 3, 'probe'])).toEqual(['kind', 'port']);
  });

  it("a device: the keys of its kind", () => {
    expect(keys(['devices', 0])).toEqual(['kind', 'name', 'node', 'address', 'parent', 'id']);
    expect(keys(['devices', 1])).toEqual(['kind', 'name', 'node', 'address']);
  });

  it('a route, a link, an endpoint, a firewall rule, a service, a step', () => {
    expect(keys(['nodes', 'a', 'routes', 0])).toEqual(['dst', 'via', 'dev', 'metric']);
    expect(keys(['links', 0])).toEqual(['kind', 'endpoints']);
    expect(keys(['links', 0, 'endpoints', 1])).toEqual(['at', 'address']);
    expect(keys(['nodes', 'a', 'firewall', 'forward', 'rules', 0])).toEqual(['action', 'src', 'dst', 'proto', 'port', 'in', 'out']);
    expect(keys(['steps', 0, 'nodes', 'a', 'services', 0])).toEqual(['kind', 'port', 'records']);
    expect(keys(['steps', 0])).toEqual(['name', 'title', 'explain', 'nodes', 'checks', 'exercise']);
  });

  it('where no object is, it points at the docs', () => {
    expect(allowedKeysHint(LAB, ['name'])).toBe('see docs/lab-format.md for the keys allowed here');
    expect(allowedKeysHint(LAB, ['checks', 9])).toBe('see docs/lab-format.md for the keys allowed here');
  });

  it('an unknown key in a tcp check gets the keys of tcp in the reported hint', () => {
    try {
      const links = 'links:\n  - endpoints: [{ at: a:v1, address: 10.0.0.1/24 }, { at: b:v1, address: 10.0.0.2/24 }]\n';
      parseLab(`name: x\nnodes:\n  a: {}\n  b: {}\n${links}checks:\n  - { kind: tcp, from: a, to: b, port: 22, count: 3 }\n`, 'x.yaml');
      expect.fail('validated');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const ps = (e as ValidationError).problems;
      expect(ps).toHaveLength(1);
      expect(ps[0]).toMatchObject({ path: 'checks[0].count', message: 'unknown key "count"', hint: `allowed keys here: ${Object.keys(TcpCheckSchema.shape).join(', ')}` });
      expect(ps[0]?.hint).toMatch(/, port\b/);
      expect(ps[0]?.hint).not.toMatch(/count|ttl/);
    }
  });
});

describe('dropUnit: the item left out for a problem at a path', () => {
  const unit = (data: unknown, path: (string | number)[]) => dropUnit(LabSchema, data, path, new Set([MatrixCheckSchema]));

  it('an optional key goes alone', () => {
    expect(unit(LAB, ['nodes', 'a', 'routes', 0, 'via'])).toEqual(['nodes', 'a', 'routes', 0, 'via']);
    expect(unit(LAB, ['checks', 0, 'bogus'])).toEqual(['checks', 0, 'bogus']);
  });

  it('a required key takes its item with it; a tuple element its whole list item', () => {
    expect(unit(LAB, ['nodes', 'a', 'routes', 0, 'dst'])).toEqual(['nodes', 'a', 'routes', 0]);
    expect(unit(LAB, ['links', 0, 'endpoints', 0])).toEqual(['links', 0]);
    expect(unit(LAB, ['checks', 0, 'port'])).toEqual(['checks', 0]);
  });

  it('a map entry goes alone (a node, an interface)', () => {
    expect(unit(LAB, ['nodes', 'a'])).toEqual(['nodes', 'a']);
    expect(unit({ ...LAB, nodes: { a: { interfaces: { eth0: { mtu: 1 } } } } }, ['nodes', 'a', 'interfaces', 'eth0'])).toEqual(['nodes', 'a', 'interfaces', 'eth0']);
  });

  it('a key of an object with a rule over its keys takes the object (nat: masquerade or snat)', () => {
    const data = { ...LAB, nodes: { a: { nat: [{ snat: 'bogus' }] } } };
    expect(unit(data, ['nodes', 'a', 'nat', 0, 'snat'])).toEqual(['nodes', 'a', 'nat', 0]);
  });

  it('anything in a matrix takes the whole matrix', () => {
    expect(unit(LAB, ['checks', 3, 'groups', 'A', 0])).toEqual(['checks', 3]);
    expect(unit(LAB, ['checks', 3, 'expect', 'A -> b'])).toEqual(['checks', 3]);
  });

  it('a required top-level key cannot go', () => {
    expect(unit(LAB, ['name'])).toBeUndefined();
    expect(unit(LAB, ['nodes'])).toBeUndefined();
    expect(unit(LAB, [])).toBeUndefined();
  });
});
