// printable: every character a terminal or viewer acts on becomes a visible escape; the rest is left alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeChar, isPrintable, printable } from '../../../src/printable.js';
import { jsonText } from '../../../src/report/json.js';
import { RAW_UNSAFE } from './hostile.js';

describe('printable', () => {
  it('shows C0, DEL, C1, bidi controls and line separators as escapes', () => {
    expect(printable('a\u001b[31mb')).toBe('a\\x1b[31mb');
    expect(printable('t\u001b]0;x\u0007')).toBe('t\\x1b]0;x\\x07');
    expect(printable('nl\ncr\rtab\t')).toBe('nl\\ncr\\rtab\\t');
    expect(printable('nul\u0000del\u007fcsi\u009b')).toBe('nul\\x00del\\x7fcsi\\x9b');
    expect(printable('\u202aa\u202eb\u2066c\u2069d')).toBe('\\u202aa\\u202eb\\u2066c\\u2069d');
    expect(printable('ls\u2028ps\u2029')).toBe('ls\\u2028ps\\u2029');
    expect(printable('lone \ud800 surrogate')).toBe('lone \\ud800 surrogate');
  });

  it('keeps what the format needs, and all other text, as it is', () => {
    expect(printable('a\nb\tc\r', '\n')).toBe('a\nb\\tc\\r');
    expect(printable('a\nb\tc', '\n\t')).toBe('a\nb\tc');
    const plain = 'ns1 → ns2 ✔ 中文 😀 é \\x1b [x] <b> | # "q" \u200b';
    expect(printable(plain)).toBe(plain);
    expect(isPrintable(plain)).toBe(true);
    expect(isPrintable('\u001b')).toBe(false);
    expect(escapeChar('\u001b')).toBe('\\x1b');
  });

  it('leaves nothing unsafe in any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(printable(s)).not.toMatch(RAW_UNSAFE);
        expect(printable(s)).not.toMatch(/[\n\r\t]/);
        expect(printable(s, '\n')).not.toMatch(/[\r\t]/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('jsonText', () => {
  it('escapes DEL, C1 and bidi controls that JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { a: 'x\u007fy\u009bz\u202ew\u2066\u2028', b: ['\u001b[31m'] };
    const text = jsonText(value);
    expect(text).not.toMatch(RAW_UNSAFE);
    expect(text).toContain('x\\u007fy\\u009bz\\u202ew\\u2066\\u2028');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('is lossless for any value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (v, s) => {
        const text = jsonText({ v, s });
        expect(text).not.toMatch(RAW_UNSAFE);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify({ v, s })));
      }),
      { numRuns: 300 },
    );
  });
});
