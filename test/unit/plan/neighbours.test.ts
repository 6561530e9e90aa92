// Busy bridges get permanent neighbour entries (the kernel-wide neighbour table's limit lives in the root namespace,
// which a lab never touches): exactly the entries the checks make, on MAC addresses netlab gives the segment; a quiet
// bridge and a bridge a later step changes get none.
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { ipWords } from '../../../src/plan/argv.js';
import { dynamicNeighbourEstimate, neighbourWarning, segmentMac, STATIC_NEIGHBOUR_THRESHOLD } from '../../../src/plan/neighbours.js';
import { nsName } from '../../../src/plan/naming.js';
import { planLab } from '../../../src/plan/planner.js';

/** n leaves on one bridge; every leaf pings every other (matrix), and `extra` appended to the file. */
function star(n: number, extra = ''): string {
  const r = Array.from({ length: n }, (_, i) => i + 1);
  return [
    `name: star${n}`,
    'nodes:',
    '  hub: {}',
    ...r.map((i) => `  n${i}: {}`),
    'bridges:',
    `  - { name: br0, node: hub, ports: [${r.map((i) => `p${i}`).join(', ')}], address: 10.77.0.1/16 }`,
    'links:',
    ...r.map((i) => `  - endpoints: [{ at: "n${i}:eth0", address: 10.77.1.${i}/16 }, "hub:p${i}"]`),
    'checks:',
    '  - kind: matrix',
    '    groups:',
    `      leaves: [${r.map((i) => `n${i}`).join(', ')}]`,
    '    expect:',
    '      leaves <-> leaves: yes',
    extra,
  ].join('\n');
}

const ops = (text: string) => planLab(parseLab(text, 'star.yaml'), 'x').stages[0]?.ops ?? [];

describe('static neighbour entries', () => {
  it('a 50-leaf all-pairs matrix: 2,450 permanent entries, each leaf\'s MAC set once, none in the root batch', () => {
    const all = ops(star(50));
    const neigh = all.filter((o) => o.kind === 'neigh-add');
    expect(neigh).toHaveLength(50 * 49);
    // n1 resolves n2 at the MAC netlab gave n2's eth0 (member 2 of segment 0: the bridge is member 0+1).
    const n1n2 = neigh.find((o) => o.ns === nsName('x', 'n1') && o.address === '10.77.1.2');
    expect(n1n2 && ipWords(n1n2)).toEqual(['neigh', 'replace', '10.77.1.2', 'lladdr', segmentMac(0, 3), 'dev', 'eth0', 'nud', 'permanent']);
    const macs = all.filter((o) => o.kind === 'link-set' && o.mac !== undefined);
    expect(macs).toHaveLength(51);
    expect(new Set(macs.map((o) => (o.kind === 'link-set' ? o.mac : ''))).size).toBe(51);
    expect(dynamicNeighbourEstimate(parseLab(star(50), 'star.yaml'), planLab(parseLab(star(50), 'star.yaml'), 'x').stages[0]?.checks ?? [], (n) => nsName('x', n))).toBe(0);
  });

  it('a small matrix stays dynamic (as a learner expects to see ARP at work)', () => {
    const n = 10;
    expect(n * (n - 1)).toBeLessThanOrEqual(STATIC_NEIGHBOUR_THRESHOLD);
    expect(ops(star(n)).filter((o) => o.kind === 'neigh-add' || (o.kind === 'link-set' && o.mac))).toEqual([]);
  });

  it('a bridge a later step changes stays dynamic, and the estimate counts it', () => {
    const text = star(50, 'steps:\n  - name: second-address\n    nodes: { n2: { interfaces: { eth0: { address: 10.77.2.2/16 } } } }\n');
    const lab = parseLab(text, 'star.yaml');
    const plan = planLab(lab, 'x');
    expect(plan.stages[0]?.ops.filter((o) => o.kind === 'neigh-add')).toEqual([]);
    expect(dynamicNeighbourEstimate(lab, plan.stages.flatMap((s) => s.checks), (n) => nsName('x', n))).toBe(50 * 49);
  });
});

describe('the overflow warning', () => {
  it('says nothing when the entries fit, and the numbers and the root-namespace setting when they do not', () => {
    expect(neighbourWarning(0, { limit: 1024, inUse: 1000 })).toBeUndefined();
    expect(neighbourWarning(20, { limit: 1024, inUse: 1000 })).toBeUndefined();
    expect(neighbourWarning(2450, undefined)).toBeUndefined();
    const w = neighbourWarning(2450, { limit: 1024, inUse: 30 });
    expect(w).toContain('about 2450 neighbours');
    expect(w).toContain('holds 1024 (net.ipv4.neigh.default.gc_thresh3), 30 in use now');
    expect(w).toContain('gc_thresh3=4096');
  });
});
