// The expected and got cells show how a must-fail check must fail and how it did.
import { describe, expect, it } from 'vitest';
import { expectedText, gotText } from '../../../src/report/model.js';

describe('expected and got text', () => {
  it('names the reasons beside pass/fail, and leaves checks without them as they were', () => {
    expect(expectedText({ expected: 'fail', expectedReason: 'refused' })).toBe('fail (refused)');
    expect(expectedText({ expected: 'pass' })).toBe('pass');
    expect(gotText({ got: 'fail', gotReason: 'timeout', detail: 'no answer in time, expected refused' })).toBe('fail: timeout (no answer in time, expected refused)');
    expect(gotText({ got: 'pass', detail: 'connected to port 80' })).toBe('pass: connected to port 80');
    // The reason is not said twice when the detail already says it.
    expect(gotText({ got: 'fail', gotReason: 'no-route', detail: 'no route (Network is unreachable)' })).toBe('fail: no route (Network is unreachable)');
    expect(gotText({ got: 'fail', gotReason: 'no-reply', detail: 'no reply in time' })).toBe('fail: no reply in time');
  });
});
