// Build step: writes schema/lab.schema.json from the zod schema, so editors and the repo never drift from the code.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labJsonSchema } from '../lab/schema.js';

const out = fileURLToPath(new URL('../../schema/lab.schema.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('../../schema/', import.meta.url)), { recursive: true });
writeFileSync(out, JSON.stringify(labJsonSchema(), null, 2) + '\n');
