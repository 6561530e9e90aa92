// The built-in catalog is the one ../shared/LABS.md asks for, and every lab in it carries what a learner reads:
// title, difficulty, the seed passage it reproduces, description, goals, an explanation of every step and a hint
// on every check. (That each lab really behaves is test/e2e/catalog*.test.ts.)
import { describe, expect, it } from 'vitest';
import { builtinLabs, loadLab } from '../../../src/lab/catalog.js';

const LABS_MD = [
  'bridge', 'host-only', 'internal', 'libvirt-default', 'macvlan', 'nat', 'nat-network', 'port-forward', 'snat',
  'tap-bridge', 'tun-vpn', 'veth-routing', 'vm-network-modes', 'vmware',
];

describe('the built-in lab catalog', () => {
  it('holds the 14 labs of LABS.md', () => {
    expect(builtinLabs()).toEqual([...LABS_MD].sort());
  });

  for (const name of LABS_MD) {
    it(`${name}: title, difficulty, seed source, description, goals, explained steps, a hint on every check`, async () => {
      const lab = await loadLab(name);
      expect(lab.title).not.toBe(lab.name);
      expect(lab.difficulty).toBeDefined();
      expect(lab.source ?? '').toMatch(/seeds? 00[1-4]/);
      expect(lab.description.length).toBeGreaterThan(80);
      expect(lab.goals.length).toBeGreaterThan(0);
      expect(lab.stages.slice(1).filter((s) => !s.explain).map((s) => s.name)).toEqual([]);
      expect(lab.stages.length).toBeGreaterThan(1);
      const checks = lab.stages.flatMap((s) => s.checks);
      expect(checks.filter((c) => !c.hint).map((c) => c.name)).toEqual([]);
      expect(checks.some((c) => c.expect === 'fail')).toBe(true);
    });
  }
});
