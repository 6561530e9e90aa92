// Docs stay true to the code: the complete example in docs/lab-format.md validates, and the README's commands match .ci/run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/lab/load.js';
import { labJsonSchema } from '../../src/lab/schema.js';

describe('docs', () => {
  it('the complete example of docs/lab-format.md is a valid lab', () => {
    const md = readFileSync('docs/lab-format.md', 'utf8');
    const block = /## A complete example\s+```yaml\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBeDefined();
    const lab = parseLab(block!, 'docs/lab-format.md');
    expect(lab.stages.map((s) => s.name)).toEqual(['setup', 'route-one-way']);
  });

  it('.ci/run runs the README test command', () => {
    const readme = readFileSync('README.md', 'utf8');
    const ci = readFileSync('.ci/run', 'utf8');
    expect(readme).toContain('bash scripts/setup.sh && npm test');
    expect(ci).toMatch(/^bash scripts\/setup.sh && npm test$/m);
  });

  it('schema/lab.schema.json is the schema the code emits', () => {
    const committed = JSON.parse(readFileSync('schema/lab.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(labJsonSchema());
  });
});
