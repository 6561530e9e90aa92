// Verbs that read labs without building anything: list, show, plan, validate, schema.
import { builtinLabs, labFile, loadLab, LABS_DIR } from '../lab/catalog.js';
import { readFile } from 'node:fs/promises';
import { isRubricText, loadRubric, rubricJsonSchema } from '../grade/rubric.js';
import { loadLabFile } from '../lab/load.js';
import { labJsonSchema } from '../lab/schema.js';
import type { Lab } from '../lab/types.js';
import { NetlabError, ValidationError, formatProblem, type Problem } from '../errors.js';
import { describeLab } from '../lab/show.js';
import { validInstance } from '../plan/naming.js';
import { planLab } from '../plan/planner.js';
import { nftCheck } from '../runner/nft-check.js';
import { pcapFilterCheck } from '../runner/pcap-filter-check.js';
import { rootOnlyLines } from '../runner/preflight.js';
import { planScript, teardownScript } from '../plan/script.js';
import { printable } from '../printable.js';
import { printJson, type Command } from './common.js';

export const listCommand: Command<{ json: boolean }> = {
  builder: (y) => y.option('json', { type: 'boolean', default: false }) as never,
  handler: async (a) => {
    const labs = await Promise.all(builtinLabs().map((n) => loadLab(n)));
    const rows = labs.map((l) => ({ name: l.name, title: l.title, difficulty: l.difficulty ?? '-', nodes: l.nodes.length, steps: l.stages.length - 1, checks: l.stages.reduce((n, s) => n + s.checks.length, 0) }));
    if (a.json) printJson(rows);
    else {
      const w = Math.max(4, ...rows.map((r) => r.name.length));
      const d = Math.max(...rows.map((r) => r.difficulty.length));
      process.stdout.write(rows.map((r) => `${printable(r.name).padEnd(w)}  ${r.difficulty.padEnd(d)}  ${printable(r.title)}`).join('\n') + `\n\n${rows.length} labs in ${LABS_DIR}; \`netlab show NAME\` for details\n`);
    }
    return 0;
  },
};

export const showCommand: Command<{ lab: string; json: boolean }> = {
  builder: (y) =>
    y
      .positional('lab', { type: 'string', demandOption: true, describe: 'Built-in lab name or path to a lab file' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the normalized lab model as JSON' })
      .example('netlab show host-only', 'What the lab builds in the setup and each step, and the checks it runs')
      .example('netlab graph host-only', 'The same lab drawn (also -f mermaid, -f dot)') as never,
  handler: async (a) => {
    const lab = await loadLab(a.lab);
    if (a.json) printJson(lab);
    else process.stdout.write(describeLab(lab));
    return 0;
  },
};

export const planCommand: Command<{ lab: string; instance?: string; teardown: boolean; json: boolean }> = {
  builder: (y) =>
    y
      .positional('lab', { type: 'string', demandOption: true })
      .option('instance', { alias: 'i', type: 'string', describe: 'Instance id used in namespace names (default: the lab name)' })
      .option('teardown', { type: 'boolean', default: false, describe: 'Print the teardown script instead' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the plan (ops per stage) as JSON' })
      .example('netlab plan veth-routing > lab.sh && bash lab.sh', 'Build the lab by hand, command by command') as never,
  handler: async (a) => {
    if (a.instance !== undefined) validInstance(a.instance);
    const lab = await loadLab(a.lab);
    const plan = planLab(lab, a.instance ?? lab.name);
    if (a.json) printJson(plan);
    else process.stdout.write(a.teardown ? teardownScript(plan) : planScript(plan, { title: lab.title }));
    return 0;
  },
};

/** `1 problem`, `2 problems`. */
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const validateCommand: Command<{ labs: string[]; json: boolean }> = {
  builder: (y) =>
    y
      .positional('labs', { type: 'string', array: true, demandOption: true })
      .option('json', { type: 'boolean', default: false })
      .example('netlab validate my-lab.yaml', '')
      .example('netlab validate labs/*.yaml', '') as never,
  handler: async (a) => {
    const results: { file: string; ok: boolean; problems: Problem[] }[] = [];
    for (const arg of a.labs) {
      let file = arg;
      try {
        file = labFile(arg);
        // A rubric (top-level `rubric:` key) is validated as one, with the lab it names.
        if (isRubricText(await readFile(file, 'utf8').catch(() => ''))) {
          const { rubric, lab, exercise } = await loadRubric(file);
          results.push({ file, ok: true, problems: [], rubric: rubric.name, lab: lab.name } as (typeof results)[number]);
          const checks = lab.stages.flatMap((s) => s.checks);
          const graded = [...(lab.stages[0]?.checks ?? []), ...(exercise > 0 ? (lab.stages[exercise]?.checks ?? []) : [])];
          const max = graded.reduce((n, c) => n + (c.points ?? 1), 0);
          const where = exercise > 0 ? `setup and ${printable(lab.stages[exercise]?.name ?? '?')}` : 'setup';
          if (!a.json) process.stderr.write(`ok  ${file}  (rubric ${printable(rubric.name)} for lab ${printable(lab.name)}: ${checks.length} checks; ${graded.length} in ${where} worth ${Math.round(max * 100) / 100} points)\n`);
          continue;
        }
        const lab = await loadLabFile(file);
        const plan = planLab(lab, 'validate');
        const nft = await nftCheck(lab, plan);
        if (nft?.problems.length) {
          const problems = nft.problems.map((p) => ({ file, line: 0, col: 0, path: `nodes.${p.node}`, message: `nftables rejects the ruleset of step "${p.stage}": ${p.message}` }));
          results.push({ file, ok: false, problems });
          if (!a.json) process.stderr.write(problems.map((p) => `${file}  ${p.path}  ${p.message}`).join('\n') + '\n');
          continue;
        }
        const filters = await pcapFilterCheck(lab);
        if (filters?.problems.length) {
          results.push({ file, ok: false, problems: filters.problems });
          if (!a.json) process.stderr.write(filters.problems.map(formatProblem).join('\n') + '\n');
          continue;
        }
        results.push({ file, ok: true, problems: [] });
        const extras = [nft?.checked ? `nft -c accepted its ${nft.checked} ruleset(s)` : '', filters?.checked ? `tcpdump compiled its ${filters.checked} capture filter(s)` : ''].filter(Boolean);
        if (!a.json) process.stderr.write(`ok  ${file}  (${lab.nodes.length} nodes, ${lab.veths.length} links, ${lab.stages.length - 1} steps, ${lab.stages.reduce((n, s) => n + s.checks.length, 0)} checks${extras.map((e) => `; ${e}`).join('')})\n`);
        // Without root: what `run` would refuse (it boxes the lab in a user namespace), said now, with why.
        const rootOnly = rootOnlyLines(lab, plan);
        if (rootOnly.length) {
          (results.at(-1) as { needsRoot?: string[] }).needsRoot = rootOnly;
          if (!a.json) process.stderr.write(rootOnly.map((l) => `    ${l}`).join('\n') + '\n');
        }
      } catch (e) {
        if (e instanceof ValidationError) {
          results.push({ file, ok: false, problems: e.problems });
          if (!a.json) process.stderr.write(e.problems.map(formatProblem).join('\n') + '\n');
        } else if (e instanceof NetlabError) {
          results.push({ file, ok: false, problems: [{ file, line: 0, col: 0, path: '', message: e.message, ...(e.hint ? { hint: e.hint } : {}) }] });
          if (!a.json) process.stderr.write(`${file}: ${e.message}${e.hint ? `\n    hint: ${e.hint}` : ''}\n`);
        } else throw e;
      }
    }
    if (a.json) printJson(results);
    const bad = results.filter((r) => !r.ok);
    if (bad.length && !a.json) process.stderr.write(`${bad.length} of ${results.length} lab file${results.length === 1 ? '' : 's'} invalid (${plural(bad.reduce((n, r) => n + r.problems.length, 0), 'problem')})\n`);
    return bad.length ? 2 : 0;
  },
};

export const schemaCommand: Command<{ rubric?: boolean }> = {
  builder: (y) => y.option('rubric', { type: 'boolean', describe: 'The JSON Schema of rubric files instead (docs/grading.md)' }) as never,
  handler: async (a) => {
    printJson(a.rubric ? rubricJsonSchema() : labJsonSchema());
    return 0;
  },
};
