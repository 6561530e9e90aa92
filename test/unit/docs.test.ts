// Docs stay true to the code: the complete example in docs/lab-format.md validates, its kernel table is features.ts's,
// and the README's commands match .ci/run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/lab/load.js';
import { labJsonSchema } from '../../src/lab/schema.js';
import { kernelTableMarkdown } from '../../src/runner/features.js';

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
    const command = /^(bash scripts\/setup\.sh && npm test.*)$/m.exec(ci)?.[1];
    expect(command).toBe('bash scripts/setup.sh && npm test && npm run test:kernel');
    expect(readme).toContain(`\`\`\`sh\n${command}\n\`\`\``);
  });

  it('docs/lab-format.md\'s kernel table is what src/runner/features.ts says (the table doctor and the kernel VM use)', () => {
    const md = readFileSync('docs/lab-format.md', 'utf8');
    const table = /<!-- kernel-features: generated from src\/runner\/features\.ts -->\n([\s\S]*?)\n<!-- \/kernel-features -->/.exec(md)?.[1];
    expect(table).toBe(kernelTableMarkdown());
  });

  it('schema/lab.schema.json is the schema the code emits', () => {
    const committed = JSON.parse(readFileSync('schema/lab.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(labJsonSchema());
  });
});
