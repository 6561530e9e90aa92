// Sysctls: only allow-listed keys (matched exactly) with integers in the key's documented range reach the
// `sysctl -p` job file and the plan script; the docs table is the code's table.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { parseLab } from '../../../src/lab/load.js';
import { problemsOf } from '../lab/problems.js';
import { SYSCTLS, describeValues, isAllowedSysctl, sysctlKeyProblem, sysctlValue } from '../../../src/lab/sysctls.js';
import { jobText } from '../../../src/plan/argv.js';
import type { Op } from '../../../src/plan/ops.js';
import { planLab } from '../../../src/plan/planner.js';

/** A lab whose node r has the given sysctls (YAML lines) and an interface eth0. */
const labText = (lines: string[]) => `name: s\nnodes:\n  x: {}\n  r:\n    sysctls:\n${lines.map((l) => `      ${l}`).join('\n')}\nlinks:\n  - endpoints: [r:eth0, x:eth0]\n`;

const problems = (text: string): ValidationError['problems'] => problemsOf(text);

describe('the allow-list table', () => {
  it('is what docs/lab-format.md#sysctls shows', () => {
    const md = readFileSync('docs/lab-format.md', 'utf8');
    const section = /### Sysctls\n([\s\S]*?)\n## /.exec(md)?.[1] ?? '';
    const table = ['| key | values | what it sets |', '|---|---|---|', ...SYSCTLS.map((s) => `| \`${s.key}\` | ${describeValues(s)} | ${s.about} |`)].join('\n');
    expect(section).toContain(table);
    expect(section.split('\n').filter((l) => l.startsWith('| `')).length).toBe(SYSCTLS.length);
  });

  it('only has keys under net.ipv4/net.ipv6 with sane ranges', () => {
    for (const s of SYSCTLS) {
      expect(s.key).toMatch(/^net\.ipv[46]\.[a-z0-9_.]*(IF\.)?[a-z0-9_]+$/);
      for (const [lo, hi] of s.values) expect(lo <= hi && lo >= 0, s.key).toBe(true);
    }
  });

  it('has the kernel\'s documented ranges for the usual suspects', () => {
    const range = (key: string) => describeValues(SYSCTLS.find((s) => s.key === key)!);
    expect(range('net.ipv4.ip_forward')).toBe('0..1');
    expect(range('net.ipv4.conf.IF.rp_filter')).toBe('0..2');
    expect(range('net.ipv4.conf.IF.arp_ignore')).toBe('0..3 or 8');
    expect(range('net.ipv4.ip_default_ttl')).toBe('1..255');
    expect(range('net.ipv6.conf.IF.accept_ra')).toBe('0..2');
  });
});

describe('keys', () => {
  it.each(['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.arp_ignore', 'net.ipv4.conf.eth0.proxy_arp', 'net.ipv6.conf.v_1-a.accept_dad'])('allows %s', (key) => {
    expect(isAllowedSysctl(key)).toBe(true);
    expect(sysctlKeyProblem(key)).toBeUndefined();
  });

  it.each([
    'net.ipv4.conf.../../x',
    'net.ipv4.conf.all/../../../kernel.rp_filter',
    'net/ipv4/ip_forward',
    'net.ipv4.conf.eth0/10.rp_filter',
    'net.ipv4.conf..rp_filter',
    'kernel.hostname',
    'kernel.x',
    'net.ipv4.ip_forward.',
    '.net.ipv4.ip_forward',
    'net.ipv4.ip_forward\n',
    'net.ipv4.ip_forward = 1\nkernel.hostname',
    'NET.IPV4.IP_FORWARD',
    'net.ipv4.conf.a_very_long_ifname.rp_filter',
    'net.ipv4.tcp_syncookies',
  ])('refuses %j', (key) => {
    expect(isAllowedSysctl(key)).toBe(false);
    expect(sysctlKeyProblem(key)).toMatch(/^sysctl ".*" (is not on netlab's allow-list|contains "\/")/);
  });

  it('allows no key with a separator, a blank, a control character or a dot run, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom(...SYSCTLS.map((s) => s.key)), (junk, pattern) => {
        for (const key of [junk, pattern.replace('IF', junk), `${pattern.replace('IF', 'all')}${junk}`, `${junk}${pattern.replace('IF', 'all')}`]) {
          if (!isAllowedSysctl(key)) continue;
          expect(key).toMatch(/^net\.ipv[46]\.[A-Za-z0-9_.-]+$/);
          expect(key).not.toMatch(/\.\./);
          expect(SYSCTLS.some((s) => new RegExp(`^${s.key.replace(/\./g, '\\.').replace('IF', '(all|default|[A-Za-z0-9_-]{1,15})')}$`).test(key))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('values', () => {
  it('reads booleans, integers and strings of digits, and writes a canonical integer', () => {
    expect(sysctlValue('net.ipv4.ip_forward', true)).toEqual({ text: '1' });
    expect(sysctlValue('net.ipv4.ip_forward', false)).toEqual({ text: '0' });
    expect(sysctlValue('net.ipv4.ip_default_ttl', 64)).toEqual({ text: '64' });
    expect(sysctlValue('net.ipv4.ip_default_ttl', '064')).toEqual({ text: '64' });
    expect(sysctlValue('net.ipv4.conf.all.arp_ignore', 8)).toEqual({ text: '8' });
  });

  it.each([
    ['net.ipv4.ip_forward', 2, '2 is out of range for net.ipv4.ip_forward: it takes 0..1'],
    ['net.ipv4.ip_default_ttl', 0, '0 is out of range for net.ipv4.ip_default_ttl: it takes 1..255'],
    ['net.ipv4.ip_default_ttl', 256, '256 is out of range for net.ipv4.ip_default_ttl: it takes 1..255'],
    ['net.ipv4.conf.all.arp_ignore', 4, '4 is out of range for net.ipv4.conf.all.arp_ignore: it takes 0..3 or 8'],
    ['net.ipv4.ip_forward', '1; touch /tmp/x', '"1; touch /tmp/x" is not a value for net.ipv4.ip_forward: it takes an integer, 0..1'],
    ['net.ipv4.ip_forward', '1\nkernel.hostname = x', '"1\\nkernel.hostname = x" is not a value for net.ipv4.ip_forward: it takes an integer, 0..1'],
    ['net.ipv4.ip_default_ttl', 1.5, '1.5 is not a value for net.ipv4.ip_default_ttl: it takes an integer, 1..255'],
    ['net.ipv4.ip_default_ttl', '99999999999999999999', '"99999999999999999999" is not a value for net.ipv4.ip_default_ttl: it takes an integer, 1..255'],
  ] as const)('refuses %s = %j', (key, value, message) => {
    const v = sysctlValue(key, value);
    expect(v).toEqual({ problem: message, hint: expect.stringContaining(`${key} takes `) });
  });

  it('whatever is written, the value it accepts is digits only and inside the range', () => {
    const anyValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.stringMatching(/^-?[0-9]{1,4}$/));
    fc.assert(
      fc.property(fc.constantFrom(...SYSCTLS), anyValue, (spec, value) => {
        const key = spec.key.replace('IF', 'all');
        const v = sysctlValue(key, value);
        if ('problem' in v) return;
        expect(v.text).toMatch(/^[0-9]{1,3}$/);
        expect(spec.values.some(([lo, hi]) => Number(v.text) >= lo && Number(v.text) <= hi)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('validation of a lab', () => {
  it('locates a bad value, says what is wrong and hints at the range', () => {
    const ps = problems(labText(['net.ipv4.ip_forward: "1; touch /tmp/x"', 'net.ipv4.conf.all.rp_filter: 7']));
    expect(ps.map((p) => [p.line, p.col, p.path, p.hint])).toEqual([
      [6, 28, 'nodes.r.sysctls.net.ipv4.ip_forward', 'net.ipv4.ip_forward takes 0..1 (or true/false): forward IPv4 between all interfaces'],
      [7, 36, 'nodes.r.sysctls.net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.all.rp_filter takes 0..2: reverse-path filter: 0 off, 1 strict, 2 loose'],
    ]);
  });

  it('reports a bad key and a bad value of the same node together', () => {
    const ps = problems(labText(['kernel.hostname: 1', 'net.ipv4.ip_default_ttl: 0']));
    expect(ps.map((p) => p.path)).toEqual(['nodes.r.sysctls.kernel.hostname', 'nodes.r.sysctls.net.ipv4.ip_default_ttl']);
  });

  it('puts the canonical value into the model and the job file', () => {
    const model = parseLab(labText(['net.ipv4.conf.eth0.rp_filter: "02"', 'net.ipv4.conf.all.proxy_arp: true', 'net.ipv4.ip_default_ttl: 64']), 'lab.yaml');
    const ops = planLab(model, 't').stages[0]!.ops.filter((o) => o.kind === 'sysctl' && o.ns === 'netlab-t-r');
    expect(jobText('sysctl', ops)).toBe(
      'net.ipv4.ip_forward = 0\nnet.ipv4.conf.eth0.rp_filter = 2\nnet.ipv4.conf.all.proxy_arp = 1\nnet.ipv4.ip_default_ttl = 64\n',
    );
  });
});

describe('the sysctl job file (sysctl -qp FILE)', () => {
  const op = (key: string, value: string): Op => ({ kind: 'sysctl', ns: 'netlab-t-r', key, value });

  it('is one `key = integer` line per op', () => {
    expect(jobText('sysctl', [op('net.ipv4.ip_forward', '1'), op('net.ipv6.conf.all.forwarding', '0')])).toBe('net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 0\n');
  });

  it.each([
    ['net.ipv4.ip_forward', '1\nkernel.hostname = pwned'],
    ['net.ipv4.ip_forward', '1; touch /tmp/x'],
    ['net.ipv4.ip_forward', '7'],
    ['kernel.hostname', '1'],
    ['net.ipv4.conf.../../x', '1'],
    ['net.ipv4.ip_forward = 1\nkernel.core_pattern', '|/tmp/x'],
  ])('refuses to write %j = %j (an internal error, never a line)', (key, value) => {
    expect(() => jobText('sysctl', [op(key, value)])).toThrow(/^internal: refusing sysctl line/);
  });

  it('never holds more lines than ops, nor a key off the allow-list, whatever the op says', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.constantFrom(...SYSCTLS.map((s) => s.key.replace('IF', 'all'))), fc.string({ unit: 'binary' })), fc.oneof(fc.string({ unit: 'binary' }), fc.integer({ min: -2, max: 300 }).map(String))), { maxLength: 5 }), (pairs) => {
        let text: string;
        try {
          text = jobText('sysctl', pairs.map(([k, v]) => op(k, v)));
        } catch (e) {
          expect(String(e)).toMatch(/internal: refusing sysctl line/);
          return;
        }
        const lines = text.split('\n').slice(0, -1);
        expect(lines.length).toBe(pairs.length);
        for (const l of lines) {
          const [key, value] = l.split(' = ');
          expect(isAllowedSysctl(key!)).toBe(true);
          expect(value).toMatch(/^[0-9]+$/);
        }
      }),
      { numRuns: 300 },
    );
  });
});
