// What the user sees when something fails: validation problems, a NetlabError with its hint, and for a bug one line
// plus how to get the stack (never the stack unless NETLAB_DEBUG); a closed pipe is quiet.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT, UsageError, ValidationError } from '../../src/errors.js';
import { debugEnabled, quietBrokenPipe, reportError } from '../../src/exit.js';

function reported(e: unknown, debug = false): { text: string; code: number } {
  let text = '';
  const code = reportError(e, { debug, write: (t) => void (text += t) });
  return { text, code };
}

describe('reportError', () => {
  it('prints an unexpected error as one line and a pointer to NETLAB_DEBUG, exit 3', () => {
    const { text, code } = reported(new TypeError("Cannot read properties of undefined (reading 'x')\nsecond line"));
    expect(code).toBe(EXIT.environment);
    expect(text).toBe("netlab: internal error: TypeError: Cannot read properties of undefined (reading 'x')\n  run with NETLAB_DEBUG=1 for details\n");
    expect(text).not.toMatch(/^\s+at /m);
  });

  it('shows control characters in a message or hint (text the user gave) as escapes', () => {
    const { text, code } = reported(new UsageError('no running instance "a\x1b[2Jb"', { hint: 'x\u202ey' }));
    expect(code).toBe(EXIT.invalid);
    expect(text).toBe('netlab: no running instance "a\\x1b[2Jb"\n  hint: x\\u202ey\n');
    expect(reported(new Error('boom\x07')).text).toContain('internal error: boom\\x07\n');
  });

  it('prints the stack with NETLAB_DEBUG', () => {
    const e = new RangeError('Maximum call stack size exceeded');
    const { text, code } = reported(e, true);
    expect(code).toBe(EXIT.environment);
    expect(text).toContain('netlab: internal error: RangeError: Maximum call stack size exceeded');
    expect(text).toMatch(/^\s+at /m);
  });

  it('handles things thrown that are not errors', () => {
    expect(reported('a string').text).toBe('netlab: internal error: a string\n  run with NETLAB_DEBUG=1 for details\n');
    expect(reported(undefined).code).toBe(EXIT.environment);
  });

  it('keeps the message and hint of a NetlabError and every problem of a ValidationError, with their exit codes', () => {
    expect(reported(new UsageError('no lab "x"', { hint: 'see netlab list' }))).toEqual({ text: 'netlab: no lab "x"\n  hint: see netlab list\n', code: 2 });
    const v = reported(new ValidationError([{ file: 'a.yaml', line: 3, col: 5, path: 'nodes', message: 'bad', hint: 'fix it' }]));
    expect(v).toEqual({ text: 'a.yaml:3:5  nodes  bad\n    hint: fix it\n1 problem in a.yaml; nothing was created\n', code: 2 });
  });

  it('reads NETLAB_DEBUG as on for 1, true or yes only', () => {
    expect(debugEnabled({ NETLAB_DEBUG: '1' })).toBe(true);
    expect(debugEnabled({ NETLAB_DEBUG: 'yes' })).toBe(true);
    expect(debugEnabled({ NETLAB_DEBUG: '0' })).toBe(false);
    expect(debugEnabled({})).toBe(false);
  });
});

describe('quietBrokenPipe', () => {
  const failing = (code: string) =>
    new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error(`write ${code}`), { code }));
      },
    });

  it('swallows EPIPE (and writes after it) without reporting', async () => {
    const s = failing('EPIPE');
    const other: Error[] = [];
    quietBrokenPipe(s, (e) => other.push(e));
    s.write('a');
    s.write('b');
    await new Promise((r) => setImmediate(r));
    expect(other).toEqual([]);
  });

  it('reports any other stream error once', async () => {
    const s = failing('EIO');
    const other: Error[] = [];
    quietBrokenPipe(s, (e) => other.push(e));
    s.write('a');
    await new Promise((r) => setImmediate(r));
    expect(other.map((e) => e.message)).toEqual(['write EIO']);
  });
});
