// The Markdown page of a lab (docs/labs/<name>.md) and the index of all of them (docs/labs/README.md), made from the
// lab file alone: title, difficulty, the seed passage it reproduces, description, goals, the topology as a Mermaid
// diagram (src/graph), each step with its explanation, what it adds, the commands of `netlab plan` and the expected
// results. Pure: scripts/gen-lab-docs writes the pages, test/unit/docs/lab-pages.test.ts checks they are current.
// Lab text is escaped for Markdown (markdownText); code from the lab's explanations stays a code span.
import { graphModel } from '../graph/model.js';
import { builtinLabs, loadLab } from '../lab/catalog.js';
import { renderMermaid } from '../graph/mermaid.js';
import { configLines, expectationWords } from '../lab/show.js';
import { describeRoute } from '../lab/describe.js';
import type { Check, Lab, Matrix, Stage } from '../lab/types.js';
import { SERVER_JS, UDHCPC_HOOK, shellLine } from '../plan/argv.js';
import { planLab } from '../plan/planner.js';
import { printable } from '../printable.js';
import { markdownText } from '../report/markdown.js';

/** The source documents the labs reproduce (shared/seeds/), by the number labs cite them with ("seed 004"). */
export const SEED_FILES: Record<string, string> = {
  '001': 'seeds/001_031dd1d5a5a1289a.txt',
  '002': 'seeds/002_5b2d0d972e9351c9.txt',
  '003': 'seeds/003_47df29a69f6f689f.txt',
  '004': 'seeds/004_fc53e30d51fbab0f.txt',
};

/** The command that writes the pages; the test that checks them names it. */
export const REGENERATE = 'npm run build && npm run docs:labs';

/**
 * Prose from the lab: Markdown-escaped (markdownText), but `code` written in backticks stays a code span (its text
 * taken literally by Markdown; a `|` escaped so it cannot split a table cell).
 */
export function prose(s: string): string {
  return s
    .trim()
    .split(/(`[^`\n]+`)/)
    .map((part, i) => (i % 2 ? `\`${printable(part.slice(1, -1)).replace(/\|/g, '\\|')}\`` : markdownText(part)))
    .join('');
}

/** A fenced code block whose fence no line of the content can close. */
export function fenced(lang: string, body: string): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, ...body.replace(/\n$/, '').split('\n'), fence];
}

/** The seed files a lab's `source` cites ("seed 004, section 3.2.2", "seeds 002 and 003"). */
export function citedSeeds(source: string): string[] {
  return [...new Set([...source.matchAll(/\b(\d{3})\b/g)].map((m) => SEED_FILES[m[1]!]).filter((f): f is string => f !== undefined))];
}

const cell = (s: string): string => markdownText(s);
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;

/** A matrix as a grid: rows the source sides, columns the target sides, cells yes/no (a <-> entry fills both). */
/** A matrix written as a table (`rows:` × `columns:`): one row per row, its cells' labels (yes, no, or `is:`). */
function matrixTable(m: Matrix): string[] {
  const rows: string[] = [];
  const cells = new Map<string, Set<string>>();
  for (const e of m.entries) {
    if (!e.table) continue;
    if (!rows.includes(e.table.row)) rows.push(e.table.row);
    const key = `${e.table.row}\u0000${e.table.column}`;
    const words = cells.get(key) ?? new Set<string>();
    words.add(e.table.label ?? (e.expect === 'pass' ? 'yes' : 'no'));
    cells.set(key, words);
  }
  const cols = m.columns ?? [...new Set(m.entries.flatMap((e) => (e.table ? [e.table.column] : [])))];
  return [
    row(['', ...cols.map(cell)]),
    `|---|${cols.map(() => ':---:|').join('')}`,
    ...rows.map((r) => row([cell(r), ...cols.map((c) => [...(cells.get(`${r}\u0000${c}`) ?? [])].map(cell).join(' / '))])),
    '',
  ];
}

function matrixGrid(m: Matrix, probe: Check | undefined): string[] {
  if (m.entries.some((e) => e.table)) {
    const groups = m.groups.map((g) => `${cell(g.name)}: ${g.members.map(cell).join(', ')}`).join('; ');
    return [`Matrix **${cell(m.name)}** (probe ${probe ? probe.kind : '?'}; every cell expands to checks between these groups — ${groups}):`, '', ...matrixTable(m)];
  }
  const cells = new Map<string, string>();
  const rows: string[] = [];
  const cols: string[] = [];
  const add = (from: string, to: string, v: string) => {
    if (!rows.includes(from)) rows.push(from);
    if (!cols.includes(to)) cols.push(to);
    cells.set(`${from}\u0000${to}`, v);
  };
  for (const e of m.entries) {
    if (!e.sides) continue;
    const v = e.expect === 'pass' ? 'yes' : 'no';
    add(e.sides.from, e.sides.to, v);
    if (e.sides.both) add(e.sides.to, e.sides.from, v);
  }
  const groups = m.groups.map((g) => `${cell(g.name)}: ${g.members.map(cell).join(', ')}`).join('; ');
  return [
    `Matrix **${cell(m.name)}** (groups — ${groups}; probe ${probe ? `${probe.kind}${'port' in probe ? ` port ${probe.port}` : ''}` : '?'}): must the source reach the target?`,
    '',
    row(['from \\ to', ...cols.map(cell)]),
    `|---|${cols.map(() => ':---:|').join('')}`,
    ...rows.map((r) => row([cell(r), ...cols.map((c) => cells.get(`${r}\u0000${c}`) ?? '')])),
    '',
  ];
}

/** The expected results of a stage: one row per check (matrices as grids), with the reason and hint. */
function expectedResults(s: Stage): string[] {
  const out: string[] = [];
  const plain = s.checks.filter((c) => !c.matrix);
  if (plain.length) {
    out.push(row(['check', 'kind', 'from → to', 'expected', 'hint']), '|---|---|---|---|---|');
    for (const c of plain) out.push(row([prose(c.name), c.kind, cell(describeRoute(c)), cell(expectationWords(c)), c.hint ? prose(c.hint) : '']));
    out.push('');
  }
  for (const m of s.matrices) out.push(...matrixGrid(m, s.checks.find((c) => c.matrix?.name === m.name)));
  const hints = s.matrices.map((m) => ({ m, hint: s.checks.find((c) => c.matrix?.name === m.name)?.hint })).filter((x) => x.hint);
  for (const { m, hint } of hints) out.push(`Hint for ${cell(m.name)}: ${cell(hint!)}`, '');
  return out;
}

/** The Markdown page of one lab; `file` is its path in the repository. */
export function labPage(lab: Lab, file: string): string {
  const plan = planLab(lab, lab.name);
  const graph = graphModel(lab);
  const out = [
    `<!-- Generated from ${printable(file)} by \`${REGENERATE}\`; do not edit by hand. -->`,
    '',
    `# ${cell(lab.title || lab.name)}`,
    '',
    [`**Lab:** \`${lab.name}\` ([${printable(file)}](../../${printable(file)}))`, lab.difficulty ? `**Difficulty:** ${lab.difficulty}` : '', `**Run it:** \`sudo netlab run ${lab.name}\``].filter(Boolean).join(' · '),
    '',
  ];
  if (lab.source) {
    const seeds = citedSeeds(lab.source);
    out.push(`**Reproduces:** ${prose(lab.source)}${seeds.length ? ` — ${seeds.map((f) => `\`${f}\``).join(', ')}` : ''}`, '');
  }
  if (lab.description) out.push(prose(lab.description), '');
  if (lab.goals.length) out.push('## Goals', '', ...lab.goals.map((g) => `- ${prose(g)}`), '');
  out.push(
    '## Topology',
    '',
    `After the last step (\`netlab graph ${lab.name} -f mermaid\`; \`--step N\` draws an earlier one). Thick lines are veth pairs, thin ones bridge ports, dotted ones a device on its parent; the notes say what a namespace does to traffic.`,
    '',
    ...fenced('mermaid', renderMermaid(graph)),
    '',
  );
  if (lab.nodes.some((n) => n.description)) {
    out.push(row(['node', 'what it stands for']), '|---|---|', ...lab.nodes.map((n) => row([`\`${n.name}\``, n.description ? cell(n.description) : ''])), '');
  }
  lab.stages.forEach((s, i) => {
    out.push(i === 0 ? '## Setup' : `## Step ${i}: ${cell(s.title)}`, '');
    if (i > 0) out.push(`Step name: \`${s.name}\` (\`netlab up ${lab.name} --step ${s.name}\` builds up to here).`, '');
    if (s.explain) out.push(prose(s.explain), '');
    const adds = configLines(s.config);
    if (adds.length) out.push(i === 0 ? 'Besides the namespaces, veth pairs and devices of the diagram, the setup configures:' : 'This step adds:', '', ...fenced('text', printable(adds.join('\n'), '\n')), '');
    // netlab's own programs' paths are the checkout's: written as where an installed netlab has them, so pages match on any clone.
    const ops = plan.stages[i]!.ops.map(shellLine).join('\n').split(SERVER_JS).join('<netlab>/dist/services/server.js').split(UDHCPC_HOOK).join('<netlab>/libexec/udhcpc-hook');
    out.push(
      '<details>',
      `<summary>Commands (<code>netlab plan ${lab.name}</code>, ${i === 0 ? 'setup' : `step ${i}`})</summary>`,
      '',
      ...(ops ? fenced('sh', ops) : ['No commands: this step only runs checks.']),
      '',
      '</details>',
      '',
    );
    if (s.exercise) {
      const first = lab.stages.findIndex((x) => x.exercise) === i;
      out.push(
        `**Exercise** (\`netlab up ${lab.name} --exercise${first ? '' : ` ${s.name}`}\` builds everything before this step; \`netlab check ${lab.name}\` grades it, \`netlab solve ${lab.name}\` applies it): ${prose(s.exercise.task)}`,
        '',
        '<details>',
        '<summary>Reference solution (<code>netlab solve --show</code>)</summary>',
        '',
        ...fenced('sh', printable(s.exercise.solution.flatMap(({ node, commands }) => [`# in ${node} (netlab exec ${lab.name} ${node})`, ...commands]).join('\n'), '\n')),
        '',
        '</details>',
        '',
      );
    }
    if (s.checks.length) out.push(`**Expected results** (\`netlab run ${lab.name}\`${i ? ` or \`netlab check ${lab.name} --step ${s.name}\`` : ''}):`, '', ...expectedResults(s));
  });
  return out.join('\n').replace(/\n+$/, '\n');
}

const LEVELS = ['beginner', 'intermediate', 'advanced'];
const level = (lab: Lab): number => (lab.difficulty ? LEVELS.indexOf(lab.difficulty) : LEVELS.length);

/** docs/labs/README.md: every lab with its difficulty, source and size, easiest first. */
export function labIndex(labs: { lab: Lab; file: string }[]): string {
  const out = [
    `<!-- Generated from labs/*.yaml by \`${REGENERATE}\`; do not edit by hand. -->`,
    '',
    '# Labs',
    '',
    'One page per built-in lab (`netlab list`), generated from its lab file: what it reproduces, its topology, each step with the commands it runs and the results it expects. `netlab show NAME` prints the same in a terminal, `netlab graph NAME` draws it.',
    '',
    row(['lab', 'difficulty', 'title', 'reproduces', 'steps', 'checks']),
    '|---|---|---|---|---:|---:|',
    ...[...labs].sort((a, b) => level(a.lab) - level(b.lab) || a.lab.name.localeCompare(b.lab.name)).map(({ lab }) =>
      row([`[\`${lab.name}\`](${lab.name}.md)`, lab.difficulty ?? '', cell(lab.title), lab.source ? cell(lab.source) : '', String(lab.stages.length - 1), String(lab.stages.reduce((n, s) => n + s.checks.length, 0))]),
    ),
  ];
  return out.join('\n') + '\n';
}

/** Every page of docs/labs/ (file name → content), for the built-in labs. */
export async function labDocs(): Promise<Map<string, string>> {
  const labs = await Promise.all(builtinLabs().map(async (name) => ({ lab: await loadLab(name), file: `labs/${name}.yaml` })));
  return new Map([...labs.map(({ lab, file }) => [`${lab.name}.md`, labPage(lab, file)] as const), ['README.md', labIndex(labs)]]);
}
