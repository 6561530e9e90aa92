// Build step: writes schema/lab.schema.json, schema/rubric.schema.json and schema/report.schema.json from the zod schemas, so editors, readers and the repo never drift from the code.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labJsonSchema } from '../lab/schema.js';
import { reportJsonSchema } from '../report/schema.js';
import { rubricJsonSchema } from '../grade/rubric.js';

const dir = new URL('../../schema/', import.meta.url);
mkdirSync(fileURLToPath(dir), { recursive: true });
writeFileSync(fileURLToPath(new URL('lab.schema.json', dir)), JSON.stringify(labJsonSchema(), null, 2) + '\n');
writeFileSync(fileURLToPath(new URL('report.schema.json', dir)), JSON.stringify(reportJsonSchema(), null, 2) + '\n');
writeFileSync(fileURLToPath(new URL('rubric.schema.json', dir)), JSON.stringify(rubricJsonSchema(), null, 2) + '\n');
