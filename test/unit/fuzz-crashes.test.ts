// Inputs the lab-file fuzz (fuzz-lab-files.test.ts) found crashing validation (an internal error, exit 3), kept as
// regular tests: each must now be a ValidationError with a located problem (exit 2).
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/lab/load.js';
import { problemLines } from './lab/problems.js';

/** The problem lines of a lab text that is meant to be invalid. */
function problems(text: string): string[] {
  const lines = problemLines(text, 'fuzz.yaml');
  return lines.length ? lines : expect.fail('the lab validated, but it is meant to be invalid');
}

describe('crashes the fuzz found', () => {
  // Found as a mutation of test/fixtures/labs/slow-check.yaml (`*a""` inserted): the YAML parser accepts an alias
  // with no anchor, and Document.toJS() then threw "ReferenceError: Unresolved alias" — an internal error, exit 3.
  it('an alias with no anchor before it is a located problem, not a ReferenceError', () => {
    expect(problems('name: x\nnodes:\n  a: *n\n')).toEqual(['3:6  nodes.a  YAML: alias *n has no anchor &n before it']);
    expect(problems('name: x\nnodes:\n  a: { description: [1, *a""] }\n')).toEqual([
      '3:25  nodes.a.description[1]  YAML: alias *a"" has no anchor &a"" before it',
    ]);
    // The anchor must come first; one defined after the alias does not count.
    expect(problems('name: x\nnodes: { a: { description: *d } }\ntitle: &d T\n')).toEqual([
      '2:28  nodes.a.description  YAML: alias *d has no anchor &d before it',
    ]);
  });

  it('an alias after its anchor still works', () => {
    const lab = parseLab('name: x\ntitle: &t Title\nnodes: { a: { description: *t } }\n', 'fuzz.yaml');
    expect(lab.nodes[0]?.description).toBe('Title');
  });
});
