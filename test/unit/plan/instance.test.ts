// Instance ids: one validator for every command; `run`'s random ids are long enough and a clash draws again.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { INSTANCE_ATTEMPTS, InstanceClash, instanceId, randomHex, reserveInstance } from '../../../src/commands/lifecycle.js';
import { INSTANCE, RUN_SUFFIX_HEX, instanceProblem, nsName, validInstance } from '../../../src/plan/naming.js';
import { SLUG } from '../../../src/lab/schema.js';

describe('validInstance', () => {
  it.each(['a', 'lab1', 'veth-routing-1a2b3c', '0', 'a'.repeat(48)])('accepts %j', (id) => {
    expect(validInstance(id)).toBe(id);
  });

  it.each(['a;touch /tmp/x', '', '-a', 'A', 'a b', '../../etc/passwd', 'a/b', 'a\nb', '$(reboot)', '`id`', 'a'.repeat(49), 'é'])('refuses %j with a usage error (exit 2)', (id) => {
    expect(() => validInstance(id)).toThrow(UsageError);
    expect(() => validInstance(id)).toThrow(`instance id ${JSON.stringify(id)} is not valid`);
  });

  it('refuses an id given twice or not a string', () => {
    expect(instanceProblem(['a', 'b'])).toBe('give the instance id once');
    expect(instanceProblem(7)).toBe('the instance id must be a string');
  });

  it('is the only gate to namespace names', () => {
    expect(nsName('lab1', 'ns1')).toBe('netlab-lab1-ns1');
    expect(() => nsName('a;touch /tmp/x', 'ns1')).toThrow(/unvalidated/);
  });
});

describe('instanceId', () => {
  const lab = { name: 'veth-routing' };

  it('is --instance when given, validated', () => {
    expect(instanceId(lab, { instance: 'mine', keep: false })).toBe('mine');
    expect(() => instanceId(lab, { instance: 'a;b', keep: true })).toThrow(UsageError);
  });

  it('is the lab name for up and the lab name plus 6 random hex digits for run', () => {
    expect(instanceId(lab, { keep: true })).toBe('veth-routing');
    expect(instanceId(lab, { keep: false }, () => 'c0ffee')).toBe('veth-routing-c0ffee');
    expect(RUN_SUFFIX_HEX).toBe(6);
    const ids = Array.from({ length: 200 }, () => instanceId(lab, { keep: false }));
    for (const id of ids) expect(id).toMatch(/^veth-routing-[0-9a-f]{6}$/);
    expect(new Set(ids).size).toBeGreaterThan(190);
  });

  it('fits the instance-id limit for the longest lab name', () => {
    const longest = 'a'.repeat(40);
    expect(SLUG.test(longest)).toBe(true);
    expect(SLUG.test(`${longest}a`)).toBe(false);
    expect(INSTANCE.test(instanceId({ name: longest }, { keep: false }))).toBe(true);
  });

  it('draws hex digits of the asked length', () => {
    for (const n of [1, 4, 6, 7]) expect(randomHex(n)).toMatch(new RegExp(`^[0-9a-f]{${n}}$`));
  });
});

describe('reserveInstance', () => {
  const lab = { name: 'lab' };
  /** A claim that finds the first `taken` ids it is offered already taken. */
  function claims(taken: number) {
    const tried: string[] = [];
    const claim = async (id: string) => {
      tried.push(id);
      if (tried.length <= taken) throw new InstanceClash(`instance "${id}" already exists`);
      return id;
    };
    return { tried, claim };
  }
  let n = 0;
  const counter = () => (n++).toString(16).padStart(6, '0');

  it('draws a fresh random id after a clash (run)', async () => {
    const { tried, claim } = claims(2);
    const got = await reserveInstance(lab, { keep: false }, claim, counter);
    expect(tried).toHaveLength(3);
    expect(new Set(tried).size).toBe(3);
    expect(got).toBe(tried[2]);
  });

  it('tries `first` (an id drawn before, whose plan is made) first, and draws fresh ones after a clash', async () => {
    const { tried, claim } = claims(1);
    const got = await reserveInstance(lab, { keep: false }, claim, counter, 'lab-first1');
    expect(tried[0]).toBe('lab-first1');
    expect(tried).toHaveLength(2);
    expect(got).toBe(tried[1]);
    expect(got).not.toBe('lab-first1');
  });

  it('gives up after INSTANCE_ATTEMPTS clashes with the clash as the error', async () => {
    const { tried, claim } = claims(Infinity);
    await expect(reserveInstance(lab, { keep: false }, claim, counter)).rejects.toThrow(InstanceClash);
    expect(tried).toHaveLength(INSTANCE_ATTEMPTS);
  });

  it('never changes an id the user chose, nor up\'s lab name', async () => {
    for (const opts of [{ instance: 'mine', keep: false }, { keep: true }]) {
      const { tried, claim } = claims(1);
      await expect(reserveInstance(lab, opts, claim, counter)).rejects.toThrow('already exists');
      expect(tried).toEqual([opts.instance ?? 'lab']);
    }
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const claim = async () => {
      calls++;
      throw new UsageError('something else');
    };
    await expect(reserveInstance(lab, { keep: false }, claim, counter)).rejects.toThrow('something else');
    expect(calls).toBe(1);
  });

  it('makes a clash among 100 parallel runs rare, and a failed run after retries practically impossible', () => {
    // Birthday bound for 100 ids of 24 random bits: P(some clash) <= 100*99/2 / 2^24.
    const pClash = (100 * 99) / 2 / 2 ** (4 * RUN_SUFFIX_HEX);
    expect(pClash).toBeLessThan(0.001);
    // A run fails only if all its attempts clash with one of the 99 others.
    expect((99 / 2 ** (4 * RUN_SUFFIX_HEX)) ** INSTANCE_ATTEMPTS).toBeLessThan(1e-30);
  });
});
