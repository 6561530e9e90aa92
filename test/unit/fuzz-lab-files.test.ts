// Fuzz: the repository's lab files (labs/*.yaml, test/fixtures/labs/*.yaml), mutated at the text level (lines
// deleted, duplicated, swapped, re-indented; random characters, control characters, unicode, huge numbers, very long
// strings inserted) and at the structure level (parsed with `yaml`, values and keys replaced by arbitrary JSON or
// deleted, stringified again). Property: validating the result ends like `netlab validate` exit 0 (a Lab) or exit 2
// (a ValidationError, i.e. located problems) within 2 s of CPU — never anything else (exit 3, "internal error").
// A Lab that validates must also plan: `netlab plan`/`run` of it must not be an internal error either.
//
// In-process (parseLab, the function `validate` uses) for speed: 500 cases by default, NETLAB_FUZZ_RUNS=20000 for
// more, NETLAB_FUZZ_SEED to replay a failure fast-check printed. A handful also go through the real CLI
// (`node dist/cli.js validate FILE`) to prove the exit codes end to end.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { NetlabError, ValidationError } from '../../src/errors.js';
import { parseLab } from '../../src/lab/load.js';
import type { Lab } from '../../src/lab/types.js';
import { planLab } from '../../src/plan/planner.js';
import { planScript } from '../../src/plan/script.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const RUNS = Number(process.env.NETLAB_FUZZ_RUNS ?? 500);
const SEED = process.env.NETLAB_FUZZ_SEED === undefined ? undefined : Number(process.env.NETLAB_FUZZ_SEED);
/** CPU time per case; parsing takes milliseconds, so this bounds pathological slowness (backtracking, blow-up). */
const BOUND_MS = 2000;

const SOURCES = [
  ...readdirSync(join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml')).map((f) => `labs/${f}`),
  ...readdirSync(join(ROOT, 'test/fixtures/labs')).filter((f) => f.endsWith('.yaml')).map((f) => `test/fixtures/labs/${f}`),
].sort();
const TEXT = new Map(SOURCES.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));

// ---------------------------------------------------------------- what goes in

/** Strings a hostile or careless author might put anywhere. */
const nasty: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', ' ', '\t', '\n', '\r\n', '\0', '\x07', '\x1b[31m', '\x7f', '\u0085', '\u2028', '\u202e', '\ufeff', '\ud800', '\udfff', '😀',
    '-', '- ', ':', ': ', '? ', '{', '}', '[', ']', ',', '#', '&a ', '*a', '<<: *a', '!!binary ', '!!int ', '!!str ', '!!map ', '!x ',
    '%YAML 1.1\n', '---\n', '...\n', '|', '>', '"', "'", '\\', '@', '`', '~', 'null', 'true', 'no', 'yes', 'NaN', '.inf', '-.inf',
    '0x10', '0o17', '1e999', '-1e999', '99999999999999999999999', '-0', '4294967296', '1_000', '0.5', '255.255.255.255', '::',
    '10.0.0.1/33', '0.0.0.0/0', 'default', 'fe80::1%eth0', '../../etc/passwd', '/proc/sys/kernel/x', '$(touch /tmp/x)', '; reboot',
    'a'.repeat(300), 'x'.repeat(100_000), '-'.repeat(5000), '['.repeat(2000), '{a: '.repeat(500), '- '.repeat(1000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
);

/** Arbitrary JSON values, and a few shapes lab files care about. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 64, 0.1, [], {}, [[]], [{}], { '': '' }) },
);

type TextMutation =
  | { op: 'delete' | 'duplicate' | 'indent' | 'dedent'; at: number; by?: number }
  | { op: 'swap'; at: number; other: number }
  | { op: 'insert'; at: number; what: string }
  | { op: 'replace'; at: number; len: number; what: string };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constantFrom('indent' as const, 'dedent' as const), at: fc.nat(), by: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), what: nasty }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }), what: nasty }),
);

function applyText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const i = m.at % lines.length;
  switch (m.op) {
    case 'delete':
      lines.splice(i, 1);
      return lines.join('\n');
    case 'duplicate':
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    case 'indent':
      lines[i] = ' '.repeat(m.by ?? 1) + (lines[i] ?? '');
      return lines.join('\n');
    case 'dedent':
      lines[i] = (lines[i] ?? '').replace(new RegExp(`^ {1,${m.by ?? 1}}`), '');
      return lines.join('\n');
    case 'swap': {
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      return lines.join('\n');
    }
    case 'insert': {
      const p = m.at % (text.length + 1);
      return text.slice(0, p) + m.what + text.slice(p);
    }
    case 'replace': {
      const p = m.at % (text.length + 1);
      return text.slice(0, p) + m.what + text.slice(p + m.len);
    }
  }
}

type TreeMutation =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'rename'; at: number; key: string }
  | { op: 'copy'; at: number; from: number };

const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: jsonish }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: nasty }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), at: fc.nat(), from: fc.nat() }) },
);

type Container = Record<string, unknown> | unknown[];
/** Every slot in the tree: its container and key (the root itself is not a slot). */
function slots(v: unknown, out: { parent: Container; key: string | number }[] = []) {
  if (Array.isArray(v)) v.forEach((c, i) => (out.push({ parent: v, key: i }), slots(c, out)));
  else if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) out.push({ parent: v as Record<string, unknown>, key: k }), slots(c, out);
  return out;
}

function applyTree(root: unknown, m: TreeMutation): unknown {
  const all = slots(root);
  if (!all.length) return m.op === 'set' ? m.value : root;
  const s = all[m.at % all.length];
  if (!s) return root;
  const { parent, key } = s;
  const get = () => (parent as Record<string | number, unknown>)[key];
  const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v);
  switch (m.op) {
    case 'set':
      set(structuredClone(m.value));
      break;
    case 'copy':
      set(structuredClone(all[m.from % all.length] ? (all[m.from % all.length]!.parent as Record<string | number, unknown>)[all[m.from % all.length]!.key] : null));
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        const v = get();
        delete parent[key as string];
        parent[m.key] = v;
      } else set({ [m.key]: get() });
      break;
  }
  return root;
}

/** One fuzz case: a source file and either text mutations or tree mutations (then maybe a text one on top). */
const caseArb = fc.record({
  source: fc.constantFrom(...SOURCES),
  level: fc.constantFrom('text' as const, 'tree' as const, 'both' as const),
  text: fc.array(textMutation, { minLength: 1, maxLength: 4 }),
  tree: fc.array(treeMutation, { minLength: 1, maxLength: 4 }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** The mutated lab text of a case. */
function mutate(c: Case): string {
  const original = TEXT.get(c.source) ?? '';
  let text = original;
  if (c.level !== 'text') {
    const tree = c.tree.reduce((t, m) => applyTree(t, m), parseYaml(original) as unknown);
    text = stringifyYaml(tree);
  }
  if (c.level !== 'tree') text = c.text.reduce(applyText, text);
  return text;
}

// ---------------------------------------------------------------- what must come out

type Outcome = { exit: 0; lab: Lab } | { exit: 2 } | { exit: 3; error: unknown };

/** What `netlab validate` would exit with for this text (without the nft -c pass, which needs nft). */
function validateInProcess(text: string, file = 'fuzz.yaml'): Outcome {
  try {
    return { exit: 0, lab: parseLab(text, file) };
  } catch (e) {
    // A ValidationError carries located problems; another NetlabError with exit 2 is what validate also maps to 2.
    if (e instanceof ValidationError || (e instanceof NetlabError && e.exitCode === 2)) return { exit: 2 };
    return { exit: 3, error: e };
  }
}

const stats = { cases: 0, valid: 0, invalid: 0, slowestMs: 0, totalMs: 0 };

function check(c: Case): void {
  const text = mutate(c);
  // CPU time of this process, not wall time: other programs loading the machine do not count against the bound.
  const t0 = process.cpuUsage();
  const out = validateInProcess(text);
  const used = process.cpuUsage(t0);
  const ms = (used.user + used.system) / 1000;
  stats.cases++;
  stats.totalMs += ms;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  if (out.exit === 3) {
    const e = out.error as Error;
    throw new Error(`validate would exit 3 (internal error) on a mutation of ${c.source}: ${e?.stack ?? String(e)}\n--- text ---\n${text.slice(0, 2000)}`);
  }
  if (ms > BOUND_MS) throw new Error(`validate took ${ms.toFixed(0)} ms of CPU (bound ${BOUND_MS}) on a mutation of ${c.source}`);
  if (out.exit === 0) {
    stats.valid++;
    // A lab that validates must plan too (plan and run would otherwise end in an internal error).
    planScript(planLab(out.lab, 'fuzz'));
  } else stats.invalid++;
}

describe('fuzz: mutated lab files', () => {
  afterAll(() => {
    if (stats.cases) {
      process.stdout.write(
        `fuzz: ${stats.cases} cases (${stats.valid} valid, ${stats.invalid} invalid), ` +
          `validate took ${(stats.totalMs / stats.cases).toFixed(2)} ms of CPU on average, ${stats.slowestMs.toFixed(0)} ms at most\n`,
      );
    }
  });

  it('has lab files to mutate, and every one of them validates as it is', () => {
    expect(SOURCES.length).toBeGreaterThanOrEqual(5);
    for (const f of SOURCES) expect(validateInProcess(TEXT.get(f) ?? '').exit, f).toBe(0);
  });

  it('the mutations change the files (most cases are not the original text)', () => {
    const samples = fc.sample(caseArb, { numRuns: 200, seed: 1 });
    const changed = samples.filter((c) => mutate(c) !== TEXT.get(c.source)).length;
    expect(changed).toBeGreaterThan(150);
    // Both outcomes occur, so the property below is not vacuously about one of them.
    const exits = new Set(samples.map((c) => validateInProcess(mutate(c)).exit));
    expect([...exits].sort()).toEqual([0, 2]);
  });

  it(`validate ends with exit 0 or 2 within ${BOUND_MS} ms, never an internal error (${RUNS} cases)`, () => {
    fc.assert(fc.property(caseArb, check), { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) });
  }, Math.max(60_000, RUNS * 50));

  describe('through the real CLI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-fuzz-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('`netlab validate FILE` exits 0 or 2 as the in-process verdict says, never 3 (10 cases)', async () => {
      const cases = fc.sample(caseArb, { numRuns: 10, seed: SEED ?? 8 });
      const seen = new Set<number>();
      for (const [i, c] of cases.entries()) {
        const file = join(dir, `case-${i}.yaml`);
        const text = mutate(c);
        writeFileSync(file, text);
        const expected = validateInProcess(text, file).exit;
        const r = await execa('node', [CLI, 'validate', file], { reject: false, env: { NO_COLOR: '1' }, timeout: 30_000 });
        expect(r.stderr, `case ${i} (${c.source})`).not.toContain('internal error');
        // validate also asks `nft -c` about valid labs' rulesets; a ruleset nft refuses makes it exit 2.
        expect(expected === 2 ? [2] : [0, 2], `case ${i} (${c.source}): ${r.stderr}`).toContain(r.exitCode);
        seen.add(r.exitCode ?? -1);
      }
      expect(seen.has(2)).toBe(true);
    }, 300_000);
  });
});
