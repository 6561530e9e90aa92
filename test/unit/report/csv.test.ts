// CSV renderer: RFC 4180, parsed back with csv-parse; a field with a comma, a quote and a newline survives.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvField, renderCsv } from '../../../src/report/csv.js';
import { erroring, failing, fixtureReport, passing } from './fixture.js';

describe('csv', () => {
  const csv = renderCsv(fixtureReport());

  it('has the header row and one row per check, CRLF line ends', () => {
    expect(csv.split('\r\n')[0]).toBe('stage,check,kind,from,to,target,expected,got,ok,detail,duration_ms,hint,attempts,findings');
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parse(csv, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0] ?? {})).toEqual([...CSV_COLUMNS]);
    expect(rows.map((r) => [r.stage, r.check, r.got, r.ok, r.duration_ms])).toEqual([
      ['setup', passing.name, 'pass', 'true', '10'],
      ['route-one-way', failing.name, 'fail', 'false', '508'],
      ['route-one-way', erroring.name, 'error', 'false', '2'],
    ]);
  });

  it('round-trips a field holding a comma, a quote and a newline', () => {
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(failing.detail).toMatch(/,[\s\S]*"[\s\S]*\n/);
    expect(rows[1]).toEqual({
      stage: 'route-one-way',
      check: failing.name,
      kind: 'ping',
      from: 'ns1',
      to: '10.10.20.2',
      target: '10.10.20.2',
      expected: 'pass',
      got: 'fail',
      ok: 'false',
      detail: failing.detail,
      duration_ms: '508',
      hint: failing.hint,
      attempts: '3',
      findings: failing.findings?.join('; '),
    });
    expect(rows[0]?.hint).toBe('');
    expect(rows[0]?.attempts).toBe('1');
  });

  it('quotes exactly the fields that need it', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('lf\nhere')).toBe('"lf\nhere"');
  });
});
