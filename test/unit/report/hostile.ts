// A report whose every text comes from a hostile lab file or tool: a newline, ESC sequences (colour, window title),
// a bare CR, a bidi override, a CSV formula, Markdown and HTML punctuation, and a TAP directive.
import type { CheckResult } from '../../../src/checks/result.js';
import { makeReport, type RunReport } from '../../../src/report/model.js';

export const ESC_RED = '\u001b[31m';
export const TITLE_SEQ = '\u001b]0;pwned\u0007';
export const RLO = '\u202e';
export const FORMULA = '=HYPERLINK("http://x","y")';

/** A check name with everything at once. */
export const hostileName = `${FORMULA} ${ESC_RED}red | <b>&amp; # TODO\nsecond\rline ${RLO}txt.exe`;

/** Every character a hostile text above must not let through raw. */
export const RAW_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const base = { kind: 'ping', from: 'ns1', to: '10.0.0.2', target: '10.0.0.2', durationMs: 12, expected: 'pass' as const };

export const hostilePass: CheckResult = {
  ...base,
  id: 'setup/1',
  stage: 'setup',
  name: hostileName,
  got: 'pass',
  ok: true,
  detail: `reply ${ESC_RED}TTL 64`,
  evidence: { argv: ['ping', `x${TITLE_SEQ}`], exitCode: 0, stdout: `ok${ESC_RED}\n`, stderr: '' },
};

export const hostileFail: CheckResult = {
  ...base,
  id: 'setup/2',
  stage: 'setup',
  name: `+1 ${RLO}evil`,
  got: 'fail',
  ok: false,
  detail: `-no reply\u009b31m`,
  hint: `@SUM(A1) ${TITLE_SEQ}\nsecond line`,
  findings: [`\tfound ${ESC_RED}x`],
  evidence: { argv: ['ping'], exitCode: 1, stdout: `\u001b[2J${RLO}cleared\n`, stderr: 'a\u0000b' },
};

/** One pair of a matrix whose name and sides are hostile too. */
export const hostileMatrix: CheckResult = {
  ...base,
  id: 'setup/3.1',
  stage: 'setup',
  name: `pair ${ESC_RED}`,
  got: 'fail',
  ok: false,
  detail: `no reply ${TITLE_SEQ}`,
  hint: `=cmd|' /C calc'!A0`,
  matrix: { name: `m ${ESC_RED}| <i>`, from: `g${RLO}1`, to: 'g|2\nx' },
  evidence: { argv: ['ping'], exitCode: 1, stdout: '', stderr: '' },
};

/** Three hostile checks under a hostile title, stopped early for a hostile reason. */
export function hostileReport(): RunReport {
  const report = makeReport({
    lab: 'hostile',
    title: `Evil ${ESC_RED}title${TITLE_SEQ}\n# not a heading`,
    instance: 'hostile-1',
    startedAt: new Date('2025-01-02T03:04:05.678Z'),
    stages: [{ name: 'setup', title: `Setup ${ESC_RED}`, results: [hostilePass, hostileFail, hostileMatrix] }],
    aborted: `build failed: ${ESC_RED}boom\nBail out! fake`,
  });
  return { ...report, durationMs: 100 };
}
