// parseLab reports the problems of every pass at once: schema problems do not hide rule problems, and what only
// follows from an item the schema pass left out is not reported.
import { describe, expect, it } from 'vitest';
import { problemLines } from './problems.js';

const problems = (text: string): string[] => problemLines(text);

/** A valid lab: two nodes on a link, a router between two more, a service and checks. */
const BASE = `name: base
nodes:
  a:
    routes:
      - { dst: 10.8.0.0/16, via: 10.0.0.2 }
  b:
    forwarding: true
    routes:
      - { dst: default, via: 10.0.0.1 }
  c:
    services: [{ kind: http, port: 80 }]
    routes: [{ dst: default, via: 10.0.1.1 }]
links:
  - endpoints: [{ at: a:v1, address: 10.0.0.1/24 }, { at: b:v1, address: 10.0.0.2/24 }]
  - endpoints: [{ at: b:v2, address: 10.0.1.1/24 }, { at: c:v1, address: 10.0.1.2/24 }]
checks:
  - { kind: ping, from: a, to: c }
  - { kind: http, from: a, to: c }
`;

/** One mistake each, as an edit of BASE; each alone gives exactly one problem. Schema, then rule problems. */
const MISTAKES: [string, (t: string) => string][] = [
  ['interface name over 15 characters', (t) => t.replace('{ at: b:v2,', '{ at: b:interface_too_long,')],
  ['unsafe node name', (t) => t.replace('  c:\n', '  bad-name: {}\n  c:\n')],
  ['value out of range', (t) => t.replace('checks:\n', 'checks:\n  - { kind: ping, from: a, to: c, count: 0 }\n')],
  ['unknown key', (t) => t.replace('  a:\n    routes:', '  a:\n    route: []\n    routes:')],
  ['invalid prefix', (t) => t.replace('{ dst: 10.8.0.0/16, via: 10.0.0.2 }', '{ dst: 10.8.0.0/16, via: 10.0.0.2 }\n      - { dst: 10.6.0.0/33, via: 10.0.0.2 }')],
  ['route with neither via nor dev', (t) => t.replace('{ dst: 10.8.0.0/16, via: 10.0.0.2 }', '{ dst: 10.8.0.0/16, via: 10.0.0.2 }\n      - { dst: 10.9.0.0/16 }')],
  ['the same route twice', (t) => t.replace('{ dst: default, via: 10.0.0.1 }', '{ dst: default, via: 10.0.0.1 }\n      - { dst: 0.0.0.0/0, via: 10.0.0.1 }')],
  ['gateway on no subnet', (t) => t.replace('{ dst: 10.8.0.0/16, via: 10.0.0.2 }', '{ dst: 10.8.0.0/16, via: 10.0.0.2 }\n      - { dst: 10.5.0.0/16, via: 10.99.0.1 }')],
  ['unknown node in a link', (t) => t.replace('checks:\n', '  - endpoints: [a:v9, zz:v1]\nchecks:\n')],
  ['unknown interface in a check', (t) => t.replace('checks:\n', 'checks:\n  - { kind: ping, from: a, to: "c:v7" }\n')],
  ['host bits in a route', (t) => t.replace('{ dst: 10.8.0.0/16, via: 10.0.0.2 }', '{ dst: 10.8.0.0/16, via: 10.0.0.2 }\n      - { dst: 10.7.1.1/16, via: 10.0.0.2 }')],
  ['check of the source itself', (t) => t.replace('checks:\n', 'checks:\n  - { kind: ping, from: b, to: 10.0.0.2 }\n')],
  ['nat-source without an http service', (t) => t.replace('checks:\n', 'checks:\n  - { kind: nat-source, from: a, to: b, seen_as: a }\n')],
];

describe('problems of every pass at once', () => {
  it('the base lab is valid, and each mistake alone gives exactly one problem', () => {
    expect(problems(BASE)).toEqual([]);
    for (const [what, edit] of MISTAKES) expect(problems(edit(BASE)), what).toHaveLength(1);
  });

  it(`a lab with all ${MISTAKES.length} mistakes (schema and rules) reports each of them, and nothing else`, () => {
    // Messages only: together, the edits shift lines and list indices.
    const message = (p: string | undefined) => p?.replace(/^\d+:\d+ {2}\S+ {2}/, '');
    const one = MISTAKES.map(([, edit]) => message(problems(edit(BASE))[0]));
    const all = problems(MISTAKES.reduce((t, [, edit]) => edit(t), BASE)).map(message);
    expect(all).toHaveLength(MISTAKES.length);
    expect([...all].sort()).toEqual([...one].sort());
  });

  it('one over-long interface name no longer hides six other errors', () => {
    const lab = `name: hidden
nodes:
  a:
    routes:
      - { dst: 10.9.0.0/16 }
      - { dst: 10.8.0.0/16, via: 10.0.0.2 }
      - { dst: 10.8.0.0/16, via: 10.0.0.2 }
  b:
    routes:
      - { dst: default, via: 10.99.0.1 }
links:
  - endpoints: [{ at: a:v1, address: 10.0.0.1/24 }, { at: b:v1, address: 10.0.0.2/24 }]
  - endpoints: [a:interface_name_too_long, b:v2]
  - endpoints: [a:v3, c:v1]
checks:
  - { kind: ping, from: a, to: b:v9 }
  - { kind: ping, from: d, to: b }
`;
    expect(problems(lab)).toEqual([
      '5:9  nodes.a.routes[0]  a route needs a gateway (via) or an interface (dev)',
      '7:16  nodes.a.routes[2].dst  node "a" already has a route to 10.8.0.0/16',
      '10:30  nodes.b.routes[0].via  gateway 10.99.0.1 is on no subnet node "b" is connected to',
      '13:17  links[1].endpoints[0]  interface name "interface_name_too_long" is 23 characters; Linux allows at most 15',
      '14:23  links[2].endpoints[1]  unknown node "c"',
      '16:32  checks[0].to  node "b" has no interface "v9"',
      '17:25  checks[1].from  unknown node "d"',
    ]);
  });

  it('a YAML syntax error stops before the schema: the document cannot be trusted', () => {
    const ps = problems('name: x\nnodes:\n  a: {}\nlinks: [a:v1, zz:v1\n');
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatch(/YAML: /);
  });

  it('a document that is no map, or without nodes, gets only its schema problems', () => {
    expect(problems('- a\n- b\n')).toEqual(['1:1    expected object, got a list']);
    expect(problems('name: x\nchecks:\n  - { kind: ping, from: a, to: b }\n')).toEqual(['1:1  nodes  missing required key "nodes"']);
  });

  it('keys named like Object.prototype members are keys like any other (no TypeError, no pollution)', () => {
    const ps = problems('name: x\nnodes:\n  a: { __proto__: { polluted: 1 }, toString: 1, constructor: [] }\n');
    expect(ps.map((p) => p.replace(/^\d+:\d+ {2}/, ''))).toEqual([
      'nodes.a.__proto__  unknown key "__proto__"',
      'nodes.a.toString  unknown key "toString"',
      'nodes.a.constructor  unknown key "constructor"',
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('an invalid step name does not take the step with it: its config and checks are still checked', () => {
    const lab = 'name: x\nnodes:\n  a: {}\nsteps:\n  - name: Step One\n    nodes:\n      zz: {}\n    checks:\n      - { kind: cmd, node: yy, argv: ["true"] }\n  - { name: two }\n';
    expect(problems(lab)).toEqual([
      '5:11  steps[0].name  step names are lower-case words joined by dashes, e.g. route-back',
      '7:7  steps[0].nodes.zz  unknown node "zz"',
      '9:28  steps[0].checks[0].node  unknown node "yy"',
    ]);
  });

  it('an invalid lab name does not stop the rules (a placeholder stands in)', () => {
    expect(problems('name: Not A Slug\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, node: zz, argv: ["true"] }\n')).toEqual([
      '1:7  name  lab names are lower-case words joined by dashes, e.g. veth-routing',
      '5:24  checks[0].node  unknown node "zz"',
    ]);
  });
});

describe('what only follows from a left-out item is not reported', () => {
  const LINKED = `name: linked
nodes:
  a: {}
  b: {}
links:
  - endpoints: [{ at: a:v1, address: 10.0.0.1/24 }, { at: b:v1, address: 10.0.0.2/24 }]
`;

  it('a left-out node: links, checks, steps and matrix keys naming it', () => {
    const lab = LINKED.replace('  b: {}\n', '  b: {}\n  bad-name: {}\n') +
      '  - endpoints: [a:v2, bad-name:v1]\n' +
      'checks:\n  - { kind: ping, from: bad-name, to: a }\n  - { kind: ping, from: a, to: bad-name }\n' +
      '  - { kind: matrix, groups: { A: [a] }, expect: { "A -> bad-name": yes } }\n' +
      'steps:\n  - name: two\n    nodes:\n      bad-name: { routes: [{ dst: default, via: 10.0.0.1 }] }\n';
    expect(problems(lab)).toEqual([
      '5:3  nodes.bad-name  node name "bad-name" is not a safe identifier: start with a letter, then letters, digits or _ (at most 32)',
    ]);
  });

  it('a left-out link: its interfaces and addresses (routes, checks, bridge ports, sysctls naming them)', () => {
    const lab = `name: gone
nodes:
  a:
    routes: [{ dst: 10.9.0.0/16, via: 10.0.0.2, dev: v1 }]
    sysctls: { net.ipv4.conf.v1.forwarding: 1 }
  b: {}
links:
  - endpoints: [{ at: a:v1, address: 10.0.0.1/24 }, { at: b:v1, address: 10.0.0.2/24 }, b:v3]
bridges:
  - { name: br0, node: b, ports: [v1] }
checks:
  - { kind: ping, from: a, to: b:v1 }
  - { kind: ping, from: b, to: a }
`;
    expect(problems(lab)).toEqual(['8:16  links[0].endpoints  Too big: expected array to have <=2 items']);
  });

  it('a left-out interface entry: a route dev naming it', () => {
    const lab = LINKED.replace('  a: {}', '  a:\n    interfaces: { eth9: 5, "eth 1": {} }\n    routes: [{ dst: 10.9.0.0/16, dev: eth9 }]');
    expect(problems(lab)).toEqual([
      '4:25  nodes.a.interfaces.eth9  expected object, got number 5',
      '4:28  nodes.a.interfaces.eth 1  interface name "eth 1" may only contain A-Z a-z 0-9 _ . -',
    ]);
  });

  it('a left-out address: a gateway in its subnet, a check of its node, a DHCP server on its interface', () => {
    const lab = `name: addr
nodes:
  a:
    routes: [{ dst: 10.9.0.0/16, via: 10.0.0.2 }]
    interfaces: { v1: { address: 10.0.0.300/24 } }
    dhcp_servers: [{ interface: v1, range: [10.0.0.100, 10.0.0.200] }]
  b: {}
links:
  - endpoints: [a:v1, { at: b:v1, address: 10.0.0.2/24 }]
checks:
  - { kind: ping, from: b, to: a }
`;
    expect(problems(lab)).toEqual(['5:34  nodes.a.interfaces.v1.address  "10.0.0.300/24" is not an address with a prefix length (e.g. 10.0.0.1/24 or 2001:db8::1/64) or "dhcp"']);
  });

  it('a left-out key: nothing about the item as a whole (a route whose via was misspelt or invalid)', () => {
    const lab = LINKED.replace('  a: {}', '  a:\n    routes: [{ dst: 10.9.0.0/16, gateway: 10.0.0.2 }, { dst: 10.8.0.0/16, via: 10.0.0.999 }]');
    expect(problems(lab)).toEqual([
      '4:34  nodes.a.routes[0].gateway  unknown key "gateway"',
      '4:80  nodes.a.routes[1].via  "10.0.0.999" is not an IP address',
    ]);
  });

  it('a left-out service: a nat-source check against its node', () => {
    const lab = LINKED.replace('  b: {}', '  b: { services: [{ kind: http, port: 0 }] }') + 'checks:\n  - { kind: nat-source, from: a, to: b, seen_as: a }\n';
    expect(problems(lab)).toEqual(['4:39  nodes.b.services[0].port  Too small: expected number to be >=1']);
  });

  it('left-out list elements do not shift the paths of later problems', () => {
    const lab = LINKED + '  - endpoints: [a:v2]\n  - endpoints: [a:v3, b:v3]\n  - endpoints: [a:v4, zz:v1]\n';
    expect(problems(lab)).toEqual([
      '7:16  links[1].endpoints  Too small: expected array to have >=2 items',
      '9:23  links[3].endpoints[1]  unknown node "zz"',
    ]);
  });

  it('a problem in a matrix leaves the matrix out whole: its keys are not checked against half its groups', () => {
    const lab = LINKED + 'checks:\n  - { kind: matrix, groups: { A: [a], "B!": [b] }, expect: { "A -> B!": yes, "A -> a": maybe } }\n';
    const ps = problems(lab);
    expect(ps).toHaveLength(2);
    expect(ps.join('\n')).not.toMatch(/unknown group/);
  });
});
