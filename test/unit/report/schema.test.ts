// JSON report: a real report validates against schema/report.schema.json (ajv, draft 2020-12), and that file is what the code emits.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../../src/report/json.js';
import { reportJsonSchema, RunReportSchema } from '../../../src/report/schema.js';
import { fixtureReport } from './fixture.js';
import { matrixReport } from './matrix-fixture.js';

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; items?: JsonSchema };

const committed = JSON.parse(readFileSync('schema/report.schema.json', 'utf8')) as JsonSchema;
// The schema pins date-time with a pattern as well, so ajv need not know the format itself.
const validate = new Ajv2020({ allErrors: true, strict: true, formats: { 'date-time': true } }).compile(committed);

/** Paths of keys present in `value` that the schema does not describe. */
function undescribed(value: unknown, schema: JsonSchema, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => (schema.items ? undescribed(v, schema.items, `${path}[${i}]`) : []));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const sub = schema.properties?.[k];
    return sub ? undescribed(v, sub, `${path}.${k}`) : [`${path}.${k}`];
  });
}

describe('JSON report schema', () => {
  it('schema/report.schema.json is the schema the code emits', () => {
    expect(committed).toEqual(reportJsonSchema());
    expect(committed).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'netlab run report (schemaVersion 1)' });
  });

  it.each([
    ['complete', fixtureReport()],
    ['aborted', fixtureReport({ aborted: 'interrupted by SIGINT' })],
    ['matrix', matrixReport()],
  ])('a real %s report, as -f json writes it, validates', (_, report) => {
    const json = JSON.parse(renderJson(report)) as unknown;
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(RunReportSchema.safeParse(json).success).toBe(true);
    // Every field the report carries is described (the schema allows extra fields, so validation alone would not tell).
    expect(undescribed(json, committed)).toEqual([]);
  });

  it('docs/report-format.md: its example validates and it names every field of the schema', () => {
    const md = readFileSync('docs/report-format.md', 'utf8');
    const block = /### Example[\s\S]*?```json\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBeDefined();
    const example = JSON.parse(block ?? '') as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(undescribed(example, committed)).toEqual([]);
    const fields = (s: JsonSchema): string[] => [
      ...Object.entries(s.properties ?? {}).flatMap(([k, sub]) => [k, ...fields(sub)]),
      ...(s.items ? fields(s.items) : []),
    ];
    expect(fields(committed).length).toBeGreaterThan(25);
    expect(fields(committed).filter((f) => !md.includes(`\`${f}\``))).toEqual([]);
  });

  it('rejects a report that breaks the shape', () => {
    const json = JSON.parse(renderJson(fixtureReport())) as { schemaVersion: number; stages: { results: { got: string }[] }[]; summary?: unknown };
    const bad = structuredClone(json);
    bad.schemaVersion = 2;
    (bad.stages[0]?.results[0] ?? { got: '' }).got = 'maybe';
    delete bad.summary;
    expect(validate(bad)).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.keyword}`).sort()).toEqual([' required', '/schemaVersion const', '/stages/0/results/0/got enum']);
  });
});
