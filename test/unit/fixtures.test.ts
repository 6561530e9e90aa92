// Broken lab files (test/fixtures/invalid/NAME.yaml) each report exactly the problems in NAME.expected.txt,
// at the right line and column; every built-in lab and every lab the e2e tests build validates.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseLab } from '../../src/lab/load.js';

const ROOT = resolve(import.meta.dirname, '../..');
const INVALID = join(ROOT, 'test/fixtures/invalid');
const LABS = join(ROOT, 'labs');

const fixtures = readdirSync(INVALID)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** The expected lines of a fixture: `LINE:COL  PATH  MESSAGE`, one per problem, in reported order. */
function expectedLines(fixture: string): string[] {
  const text = readFileSync(join(INVALID, fixture.replace(/\.yaml$/, '.expected.txt')), 'utf8');
  return text.split('\n').filter((l) => l !== '');
}

/** The problems parseLab reports for a file (fails the test when it does not throw a ValidationError). */
function problemsOf(file: string): ValidationError['problems'] {
  try {
    parseLab(readFileSync(file, 'utf8'), file);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems;
  }
  expect.fail(`${file} validated, but it is meant to be invalid`);
}

describe('invalid lab fixtures', () => {
  it('has at least 15 fixtures, each with an expected-output file and a comment saying what is wrong', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
    for (const f of fixtures) {
      expect(existsSync(join(INVALID, f.replace(/\.yaml$/, '.expected.txt'))), `${f} has no .expected.txt`).toBe(true);
      expect(readFileSync(join(INVALID, f), 'utf8'), `${f} starts with a comment`).toMatch(/^# \S/);
    }
  });

  it.each(fixtures)('%s reports exactly the expected problems', (fixture) => {
    const file = join(INVALID, fixture);
    const problems = problemsOf(file);
    const expected = expectedLines(fixture);
    expect(expected.length).toBeGreaterThan(0);
    expect(problems.map((p) => `${p.line}:${p.col}  ${p.path}  ${p.message}`)).toEqual(expected);
    for (const p of problems) {
      expect(p.file).toBe(file);
      expect(p.line, `${p.path}: line`).toBeGreaterThanOrEqual(1);
      expect(p.col, `${p.path}: col`).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('built-in labs', () => {
  // The e2e tests' labs too; bad-*.yaml ones are meant to fail (at build or at validate).
  it.each([LABS, join(ROOT, 'test/fixtures/labs')])('every lab in %s validates', (dir) => {
    const labs = readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.startsWith('bad-'));
    expect(labs.length).toBeGreaterThan(0);
    const problems: Record<string, string[]> = {};
    for (const lab of labs) {
      const file = join(dir, lab);
      try {
        parseLab(readFileSync(file, 'utf8'), file);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        problems[lab] = e.problems.map((p) => `${p.line}:${p.col}  ${p.path}  ${p.message}`);
      }
    }
    expect(problems).toEqual({});
  });
});
