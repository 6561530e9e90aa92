// Shell text netlab prints: quoting that bash reads back word for word, comments no text can end, heredoc
// delimiters no text can match, and every plan of the repository's labs clean under shellcheck.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { planLab } from '../../../src/plan/planner.js';
import { planScript, teardownScript } from '../../../src/plan/script.js';
import { commentLines, heredocDelimiter, shellCommand, shellQuote, wrappedComment } from '../../../src/plan/shell.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The words bash makes of `line` (run as `printf '%s\0' LINE` in a clean environment). */
function bashWords(line: string): string[] {
  const r = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', `printf '%s\\0' ${line}`], { env: {}, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it.each([
    ['eth0', 'eth0'],
    ['10.0.0.1/24', '10.0.0.1/24'],
    ['--net=/run/netns/a', '--net=/run/netns/a'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$(id)', "'$(id)'"],
    ['--local=/#/', "'--local=/#/'"],
    ['a\nb', "'a\nb'"],
    ['~root', "'~root'"],
    ['*', "'*'"],
  ])('%j → %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it('bash reads every quoted word back unchanged, whatever it holds', () => {
    // One bash for a whole batch of words: each case is a line of words; bash splits them back.
    const words = fc.sample(fc.string({ unit: 'binary', maxLength: 20 }).filter((w) => !w.includes('\0') && !/[\ud800-\udfff]/.test(w)), { numRuns: 300, seed: 8 });
    const hostile = ["'", "''", "'\\''", '"', '\\', '$', '`', '$(touch x)', '`touch x`', '!', '!!', '\n', '\r', '#', '-e', '*', '?', '[a]', '{a,b}', '~', '=', ';', '&', '|', '<', '>', ' ', '\t', '\x1b'];
    const all = [...hostile, ...words];
    expect(bashWords(shellCommand(all))).toEqual(all);
  });
});

describe('comments', () => {
  it('make every line of lab text its own comment line, control characters escaped', () => {
    expect(commentLines('title\ntouch /tmp/x')).toEqual(['# title', '# touch /tmp/x']);
    expect(commentLines('red \x1b[31m\r\x00\x7f\x85 end')).toEqual(['# red \\x1b[31m\\r\\x00\\x7f\\x85 end']);
    expect(commentLines('a\u2028b\u202ec\ufeff')).toEqual(['# a\\u2028b\\u202ec\\ufeff']);
    expect(commentLines('ünïcødé ✓ 网段')).toEqual(['# ünïcødé ✓ 网段']);
  });

  it('no text yields a line that is not a comment or holds a control character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        for (const line of [...commentLines(a), ...wrappedComment(`${a} ${b}`)]) {
          expect(line).toMatch(/^#( |$)/);
          expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('wrap explanations at 78 characters and keep paragraphs', () => {
    const lines = wrappedComment(`${'word '.repeat(40)}\n\nsecond paragraph`);
    expect(lines.every((l) => l.length <= 78)).toBe(true);
    expect(lines.at(-2)).toBe('#');
    expect(lines.at(-1)).toBe('# second paragraph');
  });
});

describe('heredocDelimiter', () => {
  it('is a delimiter no line of the body equals', () => {
    expect(heredocDelimiter('table inet netlab {}\n', 'NFT')).toBe('NFT');
    expect(heredocDelimiter('a\nNFT\nNFT_1\n', 'NFT')).toBe('NFT_2');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('NFT', 'NFT_1', 'NFT_2', 'NFT_3'), fc.string())), (lines) => {
        expect(lines).not.toContain(heredocDelimiter(lines.join('\n'), 'NFT'));
      }),
    );
  });
});

describe('shellcheck on every plan of the repository\'s labs', () => {
  const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  const have = shellcheck.status === 0;
  // bash scripts/setup.sh installs it; where the suite runs as root or in CI, a missing shellcheck is a failure.
  const required = process.getuid?.() === 0 || process.env.CI !== undefined;
  const labs = [join(ROOT, 'labs'), join(ROOT, 'test/fixtures/labs')].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f)));

  it('is installed (bash scripts/setup.sh)', () => {
    if (!have && !required) return void console.warn('shellcheck is not installed: plan scripts are not linted (bash scripts/setup.sh installs it)');
    expect(have, 'shellcheck is missing: bash scripts/setup.sh installs it').toBe(true);
  });

  it.skipIf(!have).each(labs.map((f) => [f.slice(ROOT.length + 1), f]))('%s: plan and teardown pass with no finding', (_, file) => {
    const lab = parseLab(readFileSync(file, 'utf8'), file);
    const plan = planLab(lab, 'sc-test');
    for (const script of [planScript(plan, { ...(lab.title !== undefined ? { title: lab.title } : {}) }), teardownScript(plan)]) {
      const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '-'], { input: script, encoding: 'utf8' });
      expect(r.stdout + r.stderr, script).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it.skipIf(!have)('also passes for a lab full of hostile text', () => {
    const hostile = `name: hostile\ntitle: "a\\n$(touch x)\\n\`id\`"\nnodes:\n  a: { forwarding: true }\n  b: {}\nlinks:\n  - endpoints: [{ at: a:eth0, address: 10.0.0.1/24 }, { at: b:eth0, address: 10.0.0.2/24 }]\nsteps:\n  - name: s\n    title: "';\\nrm -rf /"\n    explain: "x\\u001b[2J\\n\\nNFT"\n    checks: [{ kind: ping, from: a, to: b, name: "\\"; eval x #" }]\n`;
    const plan = planLab(parseLab(hostile, 'hostile.yaml'), 'sc-test');
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '-'], { input: planScript(plan, { title: 'a\n$(touch x)' }), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
  });
});
