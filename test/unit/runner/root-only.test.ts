// What cannot work without root is said by `validate` (and refused by `run`) with the reason and the lab elements.
import { describe, expect, it } from 'vitest';
import { loadLab } from '../../../src/lab/catalog.js';
import { planLab } from '../../../src/plan/planner.js';
import { labNeeds } from '../../../src/runner/features.js';
import { blockedUnprivileged, rootOnlyLines } from '../../../src/runner/preflight.js';

describe('root-only lab features', () => {
  it('capture checks need root, with why and where; a lab without them needs nothing', async () => {
    const tun = await loadLab('tun-vpn');
    const plan = planLab(tun, 'x');
    expect(blockedUnprivileged(labNeeds(tun, plan), true).map(([f]) => f)).toEqual(['capture-check']);
    const lines = rootOnlyLines(tun, plan, true);
    expect(lines[0]).toMatch(/^needs root: capture checks .*setgroups/);
    expect(lines[1]).toMatch(/tun-vpn\.yaml:\d+:\d+ {2}steps\[0\]\.checks\[\d\] {2}capture check "/);
    const veth = await loadLab('veth-routing');
    expect(rootOnlyLines(veth, planLab(veth, 'x'), true)).toEqual([]);
  });
  it('as root nothing is refused', async () => {
    const tun = await loadLab('tun-vpn');
    const plan = planLab(tun, 'x');
    expect(blockedUnprivileged(labNeeds(tun, plan), false)).toEqual([]);
    expect(rootOnlyLines(tun, plan, false)).toEqual([]);
  });
});
