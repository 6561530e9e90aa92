// `netlab test`'s discovery: lab files under directories (nested, sorted, each once), rubrics and other files left
// out, and every path it cannot use — missing, a loop, a broken link, unreadable — a usage error naming it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { builtinLabs, LABS_DIR } from '../../../src/lab/catalog.js';
import { declaredName, discoverLabs, isRubricText } from '../../../src/lab/discover.js';
import { validateLabFile } from '../../../src/commands/test.js';

const root = mkdtempSync(join(tmpdir(), 'netlab-discover-'));
afterAll(() => {
  if (existsSync(join(root, 'locked'))) chmodSync(join(root, 'locked'), 0o755);
  rmSync(root, { recursive: true, force: true });
});

/** Writes files (path relative to `dir` → text), making directories on the way; returns `dir`. */
function tree(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const LAB = 'name: a\nnodes: { n1: {} }\n';
const RUBRIC = '# a rubric\nrubric: host-only-internet\nlab: host-only\nchecks: []\n';

function refusal(paths: string[]): string {
  try {
    discoverLabs(paths);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).message;
  }
  throw new Error(`${paths.join(' ')} was accepted`);
}

describe('discoverLabs', () => {
  const d = tree(join(root, 'labs'), {
    'b.yaml': LAB,
    'a.yml': LAB,
    'nested/deeper/c.yaml': LAB,
    'nested/rubric.yaml': RUBRIC,
    'nested/notes.md': '# not a lab',
    'nested/lab.yaml.bak': LAB,
    'README.txt': 'x',
    '.hidden/d.yaml': LAB,
    'node_modules/pkg/e.yaml': LAB,
    'Z.yaml': LAB,
  });

  it('finds *.yaml and *.yml in nested directories, sorted by code point, and nothing else', () => {
    const found = discoverLabs([d]);
    expect(found.labs).toEqual([join(d, 'Z.yaml'), join(d, 'a.yml'), join(d, 'b.yaml'), join(d, 'nested/deeper/c.yaml')]);
  });

  it('skips a rubric file (top-level rubric: key) and says why', () => {
    const found = discoverLabs([d]);
    expect(found.labs).not.toContain(join(d, 'nested/rubric.yaml'));
    expect(found.skipped).toEqual([{ file: join(d, 'nested/rubric.yaml'), why: 'a rubric (top-level rubric: key)' }]);
  });

  it('does not enter hidden directories or node_modules, unless one is named', () => {
    expect(discoverLabs([d]).labs.some((f) => f.includes('.hidden') || f.includes('node_modules'))).toBe(false);
    expect(discoverLabs([join(d, '.hidden')]).labs).toEqual([join(d, '.hidden/d.yaml')]);
  });

  it('takes files named on the command line; a file reached twice is tested once', () => {
    const found = discoverLabs([join(d, 'b.yaml'), d, join(d, 'a.yml')]);
    expect(found.labs).toEqual([join(d, 'Z.yaml'), join(d, 'a.yml'), join(d, 'b.yaml'), join(d, 'nested/deeper/c.yaml')]);
  });

  it('follows a symlink to a file or a directory elsewhere, once', () => {
    const other = tree(join(root, 'other'), { 'x.yaml': LAB });
    const links = join(root, 'links');
    mkdirSync(links);
    symlinkSync(other, join(links, 'to-other'));
    symlinkSync(join(other, 'x.yaml'), join(links, 'x-again.yaml'));
    expect(discoverLabs([links]).labs).toEqual([join(links, 'to-other/x.yaml')]);
  });

  it('no paths: the built-in labs', () => {
    const found = discoverLabs([]);
    expect(found.labs).toEqual(builtinLabs().map((n) => join(LABS_DIR, `${n}.yaml`)));
    expect(found.labs.length).toBeGreaterThan(3);
  });

  it('a missing path, an empty one, or a file that is no *.yaml is a usage error', () => {
    expect(refusal([join(root, 'nope')])).toBe(`no such file or directory: ${join(root, 'nope')}`);
    expect(refusal([d, join(root, 'nope.yaml')])).toMatch(/^no such file or directory: /);
    expect(refusal([''])).toBe('an empty path');
    expect(refusal([join(d, 'README.txt')])).toMatch(/README\.txt is not a lab file/);
  });

  it('nothing found (only rubrics and other files) is a usage error that counts the rubrics', () => {
    const only = tree(join(root, 'only-rubrics'), { 'r.yaml': RUBRIC, 'x.json': '{}' });
    try {
      discoverLabs([only]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).message).toBe(`no lab files found in ${only}`);
      expect((e as UsageError).hint).toMatch(/^1 rubric file\(s\) skipped/);
    }
  });

  it('a symlink loop is a usage error naming the link, not endless recursion', () => {
    const loop = tree(join(root, 'loop'), { 'sub/a.yaml': LAB });
    symlinkSync('..', join(loop, 'sub/back'));
    expect(refusal([loop])).toMatch(new RegExp(`^symlink loop: ${join(loop, 'sub/back')} leads back to `));
    const self = join(root, 'self');
    mkdirSync(self);
    symlinkSync('me.yaml', join(self, 'me.yaml'));
    expect(refusal([self])).toBe(`symlink loop at ${join(self, 'me.yaml')}`);
  });

  it('a broken symlink is a usage error naming it', () => {
    const broken = join(root, 'broken');
    mkdirSync(broken);
    symlinkSync(join(root, 'gone.yaml'), join(broken, 'l.yaml'));
    expect(refusal([broken])).toBe(`broken symlink ${join(broken, 'l.yaml')}: what it points to does not exist`);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable directory or file is a usage error naming it (not as root: root reads everything)', () => {
    const locked = tree(join(root, 'locked'), { 'a.yaml': LAB });
    chmodSync(join(locked, 'a.yaml'), 0);
    expect(refusal([join(locked, 'a.yaml')])).toMatch(/^cannot read .*a\.yaml: EACCES/);
    chmodSync(locked, 0);
    expect(refusal([locked])).toMatch(/^cannot read the directory .*locked: EACCES/);
  });
});

describe('isRubricText', () => {
  it.each([
    ['a top-level rubric: key', RUBRIC, true],
    ['rubric: after other keys, with a schema comment', '# yaml-language-server: $schema=../schema/rubric.schema.json\ntitle: x\nrubric: y\n', true],
    ['a lab', LAB, false],
    ['rubric: nested deeper', 'name: a\nmeta: { rubric: x }\n', false],
    ['a list', '- rubric: x\n', false],
    ['empty text', '', false],
    ['broken YAML', 'rubric: [\n', true],
    ['not YAML at all', '\t{{{', false],
    // The word-and-backslash pre-check must not hide these: the key is `rubric` only after YAML's escapes.
    ['a key spelled with a \\x escape', '"\\x72ubric": x\n', true],
    ['a key spelled with a \\u escape', 'title: t\n"rub\\u0072ic": x\n', true],
    ['a quoted key', "'rubric': x\n", true],
  ])('%s', (_, text, expected) => {
    expect(isRubricText(text)).toBe(expected);
  });
});

describe('an invalid lab is still called by its name', () => {
  it.each([
    ['a valid slug', 'name: my-lab\nnodes: 3\n', 'my-lab'],
    ['not a slug', 'name: "My Lab!"\n', undefined],
    ['no name', 'nodes: {}\n', undefined],
    ['a number', 'name: 42\n', undefined],
    ['broken YAML after it', 'name: half\nnodes: [\n', 'half'],
  ])('declaredName: %s', (_, text, expected) => {
    expect(declaredName(text)).toBe(expected);
  });

  it('validateLabFile: every problem at file:line:col, and the declared name', async () => {
    const file = join(tree(join(root, 'invalid'), { 'x.yaml': 'name: lt-x\nnodes:\n  a: {}\nlinks:\n  - endpoints: ["a:eth0", "nosuch:eth0"]\n' }), 'x.yaml');
    const v = await validateLabFile(file);
    expect(v.name).toBe('lt-x');
    expect(v.problems.map((p) => [p.file, p.line, p.path, p.message])).toEqual([[file, 5, 'links[0].endpoints[1]', 'unknown node "nosuch"']]);
    expect(v.problems[0]?.col).toBeGreaterThan(0);
  });
});
