import { describe, expect, it } from 'vitest';
import { gradebookCsv, gradebookJson, gradebookTable, mergeGradebooks, parseGradebook, type Gradebook, type GradeRow } from '../../../src/grade/gradebook.js';
import { UsageError } from '../../../src/errors.js';

const row = (id: string, score: number, extra: Partial<GradeRow> = {}): GradeRow => ({ id, status: 'graded', score, max: 10, passed: score, failed: 10 - score, errors: 0, durationMs: 1234.5, ...extra });
const book = (rows: GradeRow[], shard?: { index: number; count: number }, cls = 4): Gradebook => ({ version: 1, lab: 'host-only', rubric: 'r', max: 10, class: cls, ...(shard ? { shard } : {}), rows });

describe('gradebook', () => {
  it('CSV: a header, rows in id order whatever order grading finished in, CRLF', () => {
    const csv = gradebookCsv(book([row('zed', 3), row('amy', 10), row('bo', 4, { firstFailing: 'vm1 now reaches the internet server' })]));
    expect(csv.split('\r\n')).toEqual([
      'id,status,score,max,passed,failed,errors,duration_ms,first_failing_check,error',
      'amy,graded,10,10,10,0,0,1235,,',
      'bo,graded,4,10,4,6,0,1235,vm1 now reaches the internet server,',
      'zed,graded,3,10,3,7,0,1235,,',
      '',
    ]);
  });

  it('CSV cells are formula-safe and printable: a student cannot plant a formula or a line break', () => {
    const csv = gradebookCsv(book([row('x', 0, { status: 'error', error: '=HYPERLINK("http://evil")\nsecond line', firstFailing: '@SUM(A1)' })]));
    const line = csv.split('\r\n')[1] as string;
    expect(line).toContain(`"'@SUM(A1)"`);
    expect(line).toContain(`"'=HYPERLINK(""http://evil"")`);
    expect(line.split(',').length).toBeGreaterThanOrEqual(10);
    expect(csv.split('\r\n')).toHaveLength(3);
  });

  it('JSON and the table keep id order; the table says errors apart from scores', () => {
    const b = book([row('b', 4), row('a', 0, { status: 'error', error: 'host.sh does not parse (sh -n): line 1: syntax error' })]);
    expect((JSON.parse(gradebookJson(b)) as Gradebook).rows.map((r) => r.id)).toEqual(['a', 'b']);
    const t = gradebookTable(b);
    expect(t).toMatch(/^a\s+error \(0\/10\).*host\.sh does not parse/m);
    expect(t).toMatch(/^b\s+4\/10/m);
    expect(t).toMatch(/2 submissions: 1 graded, mean 4\/10, 1 could not be graded/);
  });

  it('merges shards into the class\'s gradebook, in id order, without the shard mark', () => {
    const m = mergeGradebooks([
      { source: 's2', book: book([row('b', 2), row('d', 4)], { index: 2, count: 2 }) },
      { source: 's1', book: book([row('a', 1), row('c', 3)], { index: 1, count: 2 }) },
    ]);
    expect(m.rows.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(m.shard).toBeUndefined();
    expect(m.class).toBe(4);
  });

  it('refuses merges that would lose or double a submission', () => {
    const s1 = { source: 's1', book: book([row('a', 1), row('c', 3)], { index: 1, count: 2 }) };
    const s2 = { source: 's2', book: book([row('b', 2), row('d', 4)], { index: 2, count: 2 }) };
    expect(() => mergeGradebooks([s1])).toThrow(/shard 2 of 2 is missing/);
    expect(() => mergeGradebooks([s1, s1])).toThrow(/given twice/);
    expect(() => mergeGradebooks([s1, { source: 's3', book: book([row('b', 2)], { index: 2, count: 3 }) }])).toThrow(UsageError);
    expect(() => mergeGradebooks([s1, { ...s2, book: { ...s2.book, rubric: 'other' } }])).toThrow(/rubric other/);
    expect(() => mergeGradebooks([s1, { ...s2, book: { ...s2.book, rows: [row('a', 2), row('d', 4)] } }])).toThrow(/"a" is in two shards/);
    expect(() => mergeGradebooks([s1, { ...s2, book: { ...s2.book, rows: [row('d', 4)] } }])).toThrow(/hold 3 submissions, the class has 4/);
    expect(() => mergeGradebooks([{ source: 'x', book: book([row('a', 1)]) }])).toThrow(/one shard of the same/);
  });

  it('reads back only what netlab wrote', () => {
    const b = book([row('a', 1)], { index: 1, count: 1 }, 1);
    expect(parseGradebook(gradebookJson(b), 'g.json')).toEqual(b);
    expect(() => parseGradebook('nope', 'g.json')).toThrow(/not JSON/);
    expect(() => parseGradebook('{"rows": []}', 'g.json')).toThrow(/not a netlab gradebook/);
  });
});
