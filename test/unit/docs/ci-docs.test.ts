// The container image and docs/ci.md cannot drift into files that would not run: the Dockerfile passes the VS Code
// Dockerfile language server's validator (dockerfile-utils) and our own rules (entrypoint, packages, node 20); every
// GitHub Actions workflow in docs/ci.md passes @action-validator/core, every Kubernetes Job constructs and validates
// with kubernetes-models (the grading Job Indexed, with as many completions as shards), the GitLab file has what
// GitLab needs, and every netlab command in them uses only options netlab has. Each check is also shown failing on a
// broken copy. No root, no network, no container runtime needed.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { Job } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import yargs, { type Argv } from 'yargs';
import { CANNOT_PROBE_AS_ROOT, doctorCommand, privilegesLine } from '../../../src/commands/doctor.js';
import { gradeCommand, gradebookMergeCommand } from '../../../src/commands/grade.js';
import { withLimitOptions } from '../../../src/commands/limit-options.js';
import { testCommand } from '../../../src/commands/test.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const DOCKERFILE = read('Dockerfile');
const DOCKERIGNORE = read('.dockerignore');
const CI_MD = read('docs/ci.md');
const PKG = JSON.parse(read('package.json')) as { files: string[] };

/** The system packages the shared spec (issue 11) puts in the image. */
const SPEC_PACKAGES = ['iproute2', 'nftables', 'iputils-ping', 'curl', 'dnsmasq-base', 'tcpdump', 'socat', 'procps', 'util-linux', 'perl'];

// ---------------------------------------------------------------------------------------------------------------
// The Dockerfile

interface Instr {
  keyword: string;
  args: string;
  line: number;
  /** 0 for the first FROM's stage, 1 for the next, … */
  stage: number;
}

/** The instructions of a Dockerfile: continuation lines joined, comments dropped, each with its stage. */
function instructions(text: string): Instr[] {
  const out: Instr[] = [];
  let cur = '';
  let start = 0;
  let stage = -1;
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    if (!cur) start = i + 1;
    if (l.endsWith('\\')) {
      cur += `${l.slice(0, -1)} `;
      return;
    }
    cur += l;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(cur)!;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: m[2]!.replace(/\s+/g, ' ').trim(), line: start, stage });
    cur = '';
  });
  return out;
}

/** Whether .dockerignore (an allow-list: `*` then `!path`) lets a path of the build context through. */
function contextKeeps(ignore: string, path: string): boolean {
  let kept = true;
  for (const raw of ignore.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const neg = l.startsWith('!');
    const pat = (neg ? l.slice(1) : l).replace(/\/$/, '');
    const p = path.replace(/\/$/, '');
    if (pat === '*' || pat === p || p.startsWith(`${pat}/`)) kept = neg;
  }
  return kept;
}

/** Everything wrong with a Dockerfile: the validator's diagnostics, then our rules. Empty when it is right. */
function dockerfileProblems(text: string, ignore = DOCKERIGNORE): string[] {
  const problems = validateDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  const all = instructions(text);
  const last = Math.max(...all.map((i) => i.stage));
  const runtime = all.filter((i) => i.stage === last);
  const at = (i: Instr, msg: string) => problems.push(`line ${i.line}: ${msg}`);
  for (const from of all.filter((i) => i.keyword === 'FROM')) {
    const image = from.args.split(' ').find((a) => !a.startsWith('--'))!;
    const tag = /:([^/@]+)$/.exec(image)?.[1];
    if (!tag) at(from, `${image}: no tag (that is latest)`);
    else if (tag === 'latest') at(from, `${image}: the latest tag`);
    else if (image.startsWith('node:') && !/^20(\.|-|$)/.test(tag)) at(from, `${image}: not node 20`);
  }
  if (!/^node:20[-.\w]*-bookworm-slim$/.test(runtime[0]?.args ?? '')) problems.push(`runtime stage: FROM ${runtime[0]?.args}, not node:20-bookworm-slim`);
  const entry = runtime.filter((i) => i.keyword === 'ENTRYPOINT');
  if (entry.length !== 1 || entry[0]!.args !== '["netlab"]') problems.push(`runtime stage: ENTRYPOINT ${entry.map((e) => e.args).join(', ') || 'missing'}, not ["netlab"]`);
  if (!runtime.some((i) => i.keyword === 'CMD' && i.args.startsWith('['))) problems.push('runtime stage: no CMD in JSON form');
  if (!runtime.some((i) => i.keyword === 'RUN' && /ln -s \S*\/dist\/cli\.js \/usr\/local\/bin\/netlab\b/.test(i.args))) problems.push('runtime stage: netlab is not put on PATH (a link of dist/cli.js in /usr/local/bin)');
  const workdirs = runtime.filter((i) => i.keyword === 'WORKDIR');
  if (workdirs.at(-1)?.args !== '/work') problems.push('runtime stage: the last WORKDIR is not /work');
  const apt = runtime.filter((i) => i.keyword === 'RUN' && /apt-get install/.test(i.args));
  if (apt.length !== 1) problems.push(`runtime stage: ${apt.length} RUNs install packages, not 1`);
  for (const a of apt) {
    const words = a.args.split(' ');
    for (const p of SPEC_PACKAGES) if (!words.includes(p)) at(a, `package ${p} is not installed`);
    if (!/apt-get update/.test(a.args)) at(a, 'apt-get install without apt-get update in the same RUN');
    if (!words.includes('--no-install-recommends')) at(a, 'apt-get install without --no-install-recommends');
    if (!words.includes('-y')) at(a, 'apt-get install without -y');
    if (!/rm -rf \/var\/lib\/apt\/lists\/\*/.test(a.args)) at(a, 'the apt lists are not removed in the same RUN');
  }
  if (!all.some((i) => i.keyword === 'ARG' && /^DEBIAN_FRONTEND=noninteractive$/.test(i.args)) && !apt.some((a) => a.args.includes('DEBIAN_FRONTEND=noninteractive'))) {
    problems.push('apt-get is not made non-interactive (DEBIAN_FRONTEND=noninteractive)');
  }
  if (!runtime.some((i) => i.keyword === 'RUN' && /npm ci --omit=dev\b/.test(i.args))) problems.push('runtime stage: no `npm ci --omit=dev`');
  const build = all.filter((i) => i.stage < last);
  if (!build.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args) && !/--omit=dev/.test(i.args))) problems.push('build stage: no `npm ci` with the devDependencies');
  if (!build.some((i) => i.keyword === 'RUN' && /npm run build\b/.test(i.args))) problems.push('build stage: no `npm run build`');
  // What package.json "files" ships is what the runtime stage must hold, next to dist/cli.js.
  const copies = runtime.filter((i) => i.keyword === 'COPY');
  // An entry that starts with ! leaves files out of the package (libexec/__pycache__): nothing to copy.
  for (const f of PKG.files.filter((x) => !x.startsWith('!'))) {
    if (!copies.some((c) => c.args.split(' ').some((a) => a.replace(/\/$/, '').endsWith(`/${f}`) || a === f) && new RegExp(`/opt/netlab/${f}$|\\./${f}$`).test(c.args))) problems.push(`runtime stage: ${f} (package.json "files") is not copied`);
  }
  for (const i of all.filter((x) => x.keyword === 'LABEL')) if (!/org\.opencontainers\.image\.title=/.test(i.args)) at(i, 'LABEL without org.opencontainers.image.title');
  if (!all.some((i) => i.keyword === 'LABEL')) problems.push('no org.opencontainers.image.* LABEL');
  // Every COPY from the build context must get through .dockerignore.
  for (const c of all.filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))) {
    const srcs = c.args.split(' ').filter((a) => !a.startsWith('--')).slice(0, -1);
    for (const s of srcs) if (!contextKeeps(ignore, s)) at(c, `COPY ${s}: left out of the build context by .dockerignore`);
  }
  return problems;
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils validate() with no diagnostic at all', () => {
    expect(validateDockerfile(DOCKERFILE)).toEqual([]);
  });

  it('passes our rules: entrypoint netlab, the spec\'s packages, node 20 bookworm-slim, no latest, what "files" ships', () => {
    expect(instructions(DOCKERFILE).filter((i) => i.keyword === 'FROM')).toHaveLength(2);
    expect(dockerfileProblems(DOCKERFILE)).toEqual([]);
  });

  it('a broken copy fails: the validator and each of our rules catch their mistake', () => {
    const broken = (from: string, to: string) => {
      expect(DOCKERFILE, from).toContain(from);
      return dockerfileProblems(DOCKERFILE.replace(from, to));
    };
    // The validator's own findings.
    expect(broken('COPY --from=build /src/dist', 'COPY --frm=build /src/dist')).toEqual(expect.arrayContaining([expect.stringMatching(/Unknown flag: frm/)]));
    expect(broken('ENTRYPOINT ["netlab"]', "ENTRYPOINT ['netlab']").join('\n')).toMatch(/single quotes/);
    // Ours.
    expect(broken('FROM node:20-bookworm-slim AS build', 'FROM node:latest AS build')).toEqual([expect.stringMatching(/node:latest: the latest tag/)]);
    expect(broken('FROM node:20-bookworm-slim\n', 'FROM node:22-bookworm-slim\n').join('\n')).toMatch(/not node 20/);
    expect(broken('ENTRYPOINT ["netlab"]', 'ENTRYPOINT ["node", "/opt/netlab/dist/cli.js"]')).toEqual([expect.stringMatching(/ENTRYPOINT .* not \["netlab"\]/)]);
    expect(broken(' tcpdump ', ' ')).toEqual([expect.stringMatching(/package tcpdump is not installed/)]);
    expect(broken(' --no-install-recommends', '')).toEqual([expect.stringMatching(/--no-install-recommends/)]);
    expect(broken(' \\\n && rm -rf /var/lib/apt/lists/*', '')).toEqual([expect.stringMatching(/apt lists are not removed/)]);
    expect(broken('npm ci --omit=dev', 'npm ci')).toEqual([expect.stringMatching(/npm ci --omit=dev/)]);
    expect(broken('COPY libexec ./libexec\n# `netlab`', '# `netlab`')).toEqual([expect.stringMatching(/libexec .* is not copied/)]);
    expect(dockerfileProblems(DOCKERFILE, DOCKERIGNORE.replace('!libexec/\n', ''))).toEqual([
      expect.stringMatching(/COPY libexec: left out of the build context/),
      expect.stringMatching(/COPY libexec: left out of the build context/),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// docs/ci.md

interface Block {
  lang: string;
  title: string | undefined;
  body: string;
  line: number;
}

/** The fenced blocks of a Markdown page, with the title of their info string (```yaml title="…"). */
function blocks(md: string): Block[] {
  return [...md.matchAll(/^(`{3,})(\w*)([^\n]*)\n([\s\S]*?)^\1$/gm)].map((m) => ({
    lang: m[2]!,
    title: /\btitle="([^"]+)"/.exec(m[3]!)?.[1],
    body: m[4]!,
    line: md.slice(0, m.index).split('\n').length,
  }));
}

const BLOCKS = blocks(CI_MD);
const yamlBlocks = BLOCKS.filter((b) => b.lang === 'yaml');
const workflows = yamlBlocks.filter((b) => b.title?.startsWith('.github/workflows/'));
const k8s = yamlBlocks.filter((b) => b.title?.startsWith('k8s/'));
const gitlab = yamlBlocks.filter((b) => b.title === '.gitlab-ci.yml');

/** The errors @action-validator gives a workflow, as short lines. */
function workflowErrors(text: string): string[] {
  const flat = (e: { code: string; path?: string; title: string; detail?: string; states?: { errors: unknown[] }[] }): string[] =>
    e.states ? e.states.flatMap((s) => (s.errors as Parameters<typeof flat>[0][]).flatMap(flat)) : [`${e.path ?? ''} ${e.title}${e.detail ? `: ${e.detail}` : ''}`];
  return validateWorkflow(text).errors.flatMap((e) => flat(e as Parameters<typeof flat>[0]));
}

/** The N of `--shard I/N` in a text, every one (a Job's args, a workflow step). */
const shardNs = (text: string) => [...text.matchAll(/--shard\s+(?:(?!\s--)[^\n])*?\/(\d+)\b/g)].map((m) => Number(m[1]));

/** What is wrong with a Kubernetes Job block: kubernetes-models' validation, and for a grading Job the Indexed shape. */
function jobProblems(text: string): string[] {
  const problems: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as Record<string, unknown>;
    const job = new Job(obj as never);
    try {
      job.validate();
    } catch (e) {
      problems.push(`kubernetes-models: ${(e as Error).message}`);
      continue;
    }
    const spec = job.spec!;
    const pod = spec.template.spec!;
    const cmd = pod.containers.map((c) => [...(c.command ?? []), ...(c.args ?? [])].join(' ')).join(' ');
    const ns = shardNs(cmd);
    if (!ns.length) continue;
    if (spec.completionMode !== 'Indexed') problems.push(`completionMode ${spec.completionMode}, not Indexed`);
    if (ns.some((n) => n !== spec.completions)) problems.push(`completions ${spec.completions} but --shard …/${ns.join(', ')}`);
    if (!/--shard "?\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\//.test(cmd)) problems.push('--shard is not JOB_COMPLETION_INDEX + 1 (--shard is 1-based, the index 0-based)');
    if (!pod.containers.every((c) => c.securityContext?.privileged === true)) problems.push('a container is not privileged');
    if (pod.restartPolicy !== 'Never' && pod.restartPolicy !== 'OnFailure') problems.push(`restartPolicy ${pod.restartPolicy}`);
    const vols = new Set((pod.volumes ?? []).map((v) => v.name));
    for (const m of pod.containers.flatMap((c) => c.volumeMounts ?? [])) if (!vols.has(m.name)) problems.push(`volume ${m.name} is mounted but not defined`);
    if (!vols.size) problems.push('no volume for the submissions and results');
  }
  return problems;
}

/** The keys of .gitlab-ci.yml that are not jobs. */
const GITLAB_GLOBAL = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script', 'pages']);

/** What GitLab would refuse or ignore in a .gitlab-ci.yml (no GitLab CI schema is installed to validate against). */
function gitlabProblems(text: string): string[] {
  const problems: string[] = [];
  const ci = parse(text) as Record<string, unknown>;
  const stages = ci.stages as string[] | undefined;
  if (!Array.isArray(stages) || !stages.length) problems.push('no stages list');
  const jobs = Object.entries(ci).filter(([k]) => !GITLAB_GLOBAL.has(k) && !k.startsWith('.')) as [string, Record<string, unknown> | null][];
  if (!jobs.length) problems.push('no job');
  for (const [name, job] of jobs) {
    if (typeof job !== 'object' || job === null) { problems.push(`${name}: not a mapping`); continue; }
    if (!stages?.includes(job.stage as string)) problems.push(`${name}: stage ${String(job.stage)} is not in stages`);
    const script = job.script as unknown;
    if (!Array.isArray(script) || !script.length || !script.every((l) => typeof l === 'string')) problems.push(`${name}: script is not a list of commands`);
    const image = job.image as string | { name?: string; entrypoint?: unknown } | undefined;
    if (image === undefined) problems.push(`${name}: no image`);
    const lines = (Array.isArray(script) ? script : []).join('\n');
    // netlab's image has netlab as its entrypoint: GitLab needs a shell to run the script with.
    if (typeof image === 'object' && /netlab/.test(image.name ?? '') && JSON.stringify(image.entrypoint) !== '[""]') problems.push(`${name}: the netlab image without entrypoint [""]`);
    if (typeof image === 'string' && /netlab/.test(image)) problems.push(`${name}: the netlab image without entrypoint [""]`);
    const junit = /--junit\s+(\S+)/.exec(lines)?.[1];
    if (junit) {
      const art = job.artifacts as { when?: string; reports?: { junit?: string | string[] } } | undefined;
      const reports = [art?.reports?.junit ?? []].flat();
      if (!reports.includes(junit)) problems.push(`${name}: --junit ${junit} is not in artifacts:reports:junit`);
      if (art?.when !== 'always') problems.push(`${name}: artifacts are not kept when the job fails (when: always)`);
    }
    if (/\bdocker (build|push|run)\b/.test(lines) && !((job.services as unknown[] | undefined) ?? []).some((s) => /dind/.test(JSON.stringify(s)))) problems.push(`${name}: docker without a docker:dind service`);
  }
  return problems;
}

/** The option names (and aliases) a command's yargs builder defines, as they are typed: -x, --long. */
function optionsOf(builder: (y: Argv) => Argv): string[] {
  const o = (builder(yargs([])) as unknown as { getOptions: () => unknown }).getOptions() as { key: Record<string, unknown>; alias: Record<string, string[]> };
  const names = Object.keys(o.key).flatMap((k) => [k, ...(o.alias[k] ?? [])]);
  return [...new Set(names)].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
}
/** What each netlab command the docs use accepts: read from the commands' own definitions, so the docs cannot drift. */
const OPTIONS: Record<string, string[]> = {
  test: optionsOf((y) => withLimitOptions(testCommand.builder(y))),
  grade: optionsOf(gradeCommand.builder),
  'gradebook merge': optionsOf(gradebookMergeCommand.builder),
  doctor: optionsOf(doctorCommand.builder),
  '': [],
};
const GLOBAL_OPTIONS = ['-v', '--verbose', '--help', '--version'];

/** Every string of a YAML document (run steps, scripts, args), folded scalars already joined. */
function yamlStrings(text: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const d of parseAllDocuments(text)) walk(d.toJS());
  return out;
}

/** The shell command lines of the blocks: YAML strings, and sh blocks' lines (continuations joined, comments cut). */
function commandLines(bs: Block[]): string[] {
  return bs.flatMap((b) =>
    b.lang === 'yaml' ? yamlStrings(b.body).flatMap((s) => s.split('\n')) : b.lang === 'sh' ? b.body.replace(/\\\n/g, ' ').split('\n').map((l) => l.replace(/\s#.*$/, '')) : [],
  );
}

interface NetlabCommand {
  sub: string;
  options: string[];
  text: string;
}

/**
 * The netlab invocations in command lines: `netlab …`, `node dist/cli.js …`, or an image of netlab run by docker
 * (`netlab:TAG …`, `…/netlab:TAG …`, `"$NETLAB_IMAGE" …`), up to a shell operator.
 */
function netlabCommands(lines: string[]): NetlabCommand[] {
  const out: NetlabCommand[] = [];
  // Not an image name being given (`docker build -t netlab:ci .`).
  const INVOKE = /(?:^|(?<!-t|--tag)\s)(?:sudo\s+(?:env\s+"PATH=\$PATH"\s+)?)?(?:netlab|node\s+dist\/cli\.js|\S*netlab:[\w.-]+|"\$NETLAB_IMAGE")(?=\s|$)([^;&|]*)/g;
  for (const line of lines) {
    for (const m of line.matchAll(INVOKE)) {
      const words = m[1]!.trim().split(/\s+/).filter(Boolean);
      const first = words[0] ?? '';
      const sub = first.startsWith('-') || !first ? '' : first === 'gradebook' ? `gradebook ${words[1] ?? ''}` : first;
      const options = words.filter((w) => /^--?[A-Za-z]/.test(w)).map((w) => w.replace(/=.*$/, ''));
      out.push({ sub, options, text: m[0].trim() });
    }
  }
  return out;
}

/** Options netlab does not have (and subcommands it does not have) in the commands of some blocks. */
function optionProblems(bs: Block[]): string[] {
  return netlabCommands(commandLines(bs)).flatMap((c) => {
    const known = OPTIONS[c.sub];
    if (!known) return [`unknown command "netlab ${c.sub}" in: ${c.text}`];
    return c.options.filter((o) => !known.includes(o) && !GLOBAL_OPTIONS.includes(o)).map((o) => `netlab ${c.sub} has no option ${o}: ${c.text}`);
  });
}

describe('docs/ci.md', () => {
  it('every YAML block names what it is (title="…"), and the page has each kind the issue asks for', () => {
    expect(yamlBlocks.filter((b) => !b.title).map((b) => `line ${b.line}`)).toEqual([]);
    expect(workflows.map((b) => b.title)).toEqual(expect.arrayContaining(['.github/workflows/labs.yml', '.github/workflows/labs-container.yml', '.github/workflows/grade.yml']));
    expect(k8s.map((b) => b.title)).toEqual(expect.arrayContaining(['k8s/grade-job.yaml']));
    expect(gitlab).toHaveLength(1);
  });

  it.each(workflows.map((b) => [b.title!, b] as const))('%s: @action-validator/core finds no error', (_t, b) => {
    expect(workflowErrors(b.body)).toEqual([]);
  });

  it('a broken workflow fails @action-validator (so the check above is not vacuous)', () => {
    const labs = workflows.find((b) => b.title === '.github/workflows/labs.yml')!.body;
    expect(workflowErrors(labs.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest')).join('\n')).toMatch(/runs_on/);
    expect(workflowErrors(labs.replace('\non:\n', '\nonn:\n')).length).toBeGreaterThan(0);
  });

  it('the workflows verify labs with netlab test --junit and upload the JUnit file; one runs netlab as root via sudo, one the image privileged', () => {
    const text = (t: string) => workflows.find((b) => b.title === t)!.body;
    for (const t of ['.github/workflows/labs.yml', '.github/workflows/labs-container.yml']) {
      const junit = /\btest labs\/ .*--junit (\S+)/.exec(text(t))?.[1];
      expect(junit, t).toBeDefined();
      const wf = parse(text(t)) as { jobs: Record<string, { steps: { uses?: string; if?: string; with?: { path?: string } }[] }> };
      const upload = Object.values(wf.jobs).flatMap((j) => j.steps).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
      expect(upload?.with?.path, t).toBe(junit);
      // Uploaded when the tests fail too.
      expect(upload?.if, t).toMatch(/always\(\)|!cancelled\(\)/);
    }
    expect(text('.github/workflows/labs.yml')).toMatch(/run: sudo .*dist\/cli\.js test labs\//);
    expect(text('.github/workflows/labs-container.yml')).toMatch(/docker run --rm --privileged -v "\$PWD:\/work" -w \/work \S+ test labs\//);
  });

  it('the grading matrix: as many shards as the N of --shard, each uploading its --out, then a merge of all of them', () => {
    const body = workflows.find((b) => b.title === '.github/workflows/grade.yml')!.body;
    const wf = parse(body) as { jobs: Record<string, { needs?: string | string[]; strategy?: { matrix: { shard: number[] } }; steps: { run?: string; uses?: string; with?: Record<string, string> }[] }> };
    const grade = Object.values(wf.jobs).find((j) => j.strategy)!;
    const shards = grade.strategy!.matrix.shard;
    const run = grade.steps.map((s) => s.run ?? '').join('\n');
    expect(shardNs(run)).toEqual([shards.length]);
    expect(shards).toEqual(Array.from({ length: shards.length }, (_, i) => i + 1));
    expect(run).toMatch(/--shard \$\{\{ matrix\.shard \}\}\//);
    const out = /--out ((?:\$\{\{[^}]*\}\}|\S)+)/.exec(run)?.[1];
    expect(grade.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))?.with?.path).toBe(out);
    const [mergeName, merge] = Object.entries(wf.jobs).find(([, j]) => j.steps.some((s) => /gradebook merge/.test(s.run ?? '')))!;
    expect([merge.needs].flat(), mergeName).toContain(Object.entries(wf.jobs).find(([, j]) => j === grade)![0]);
    expect(merge.steps.some((s) => s.uses?.startsWith('actions/download-artifact@'))).toBe(true);
    const mergeRun = merge.steps.map((s) => s.run ?? '').join('\n');
    expect(mergeRun.match(/shards\/grades-shard-\d+/g)).toHaveLength(shards.length);
  });

  it.each(k8s.map((b) => [b.title!, b] as const))('%s: kubernetes-models constructs and validates it; a grading Job is Indexed with completions = N', (_t, b) => {
    expect(jobProblems(b.body)).toEqual([]);
  });

  it('k8s/grade-job.yaml shards with the completion index, and a broken copy fails', () => {
    const body = k8s.find((b) => b.title === 'k8s/grade-job.yaml')!.body;
    const job = new Job(parse(body) as never);
    expect(job.spec?.completionMode).toBe('Indexed');
    expect(shardNs(body)).toEqual([job.spec!.completions]);
    // kubernetes-models' own validation.
    expect(jobProblems(body.replace('completions: 8', 'completions: eight')).join('\n')).toMatch(/kubernetes-models: .*completions/);
    // Ours.
    expect(jobProblems(body.replace('completions: 8', 'completions: 4'))).toEqual(['completions 4 but --shard …/8']);
    expect(jobProblems(body.replace('completionMode: Indexed', 'completionMode: NonIndexed'))).toEqual(['completionMode NonIndexed, not Indexed']);
    expect(jobProblems(body.replace('JOB_COMPLETION_INDEX + 1))/8', 'JOB_COMPLETION_INDEX))/8'))).toEqual(['--shard is not JOB_COMPLETION_INDEX + 1 (--shard is 1-based, the index 0-based)']);
    expect(jobProblems(body.replace('privileged: true', 'privileged: false'))).toEqual(['a container is not privileged']);
  });

  it('.gitlab-ci.yml parses and has what GitLab needs; a broken copy fails', () => {
    const body = gitlab[0]!.body;
    expect(gitlabProblems(body)).toEqual([]);
    const ci = parse(body) as Record<string, { script?: string[] }>;
    expect(Object.values(ci).some((j) => j.script?.some((l) => /^netlab test labs\/ .*--junit /.test(l)))).toBe(true);
    expect(gitlabProblems(body.replace('      junit: junit.xml', '      junit: report.xml'))).toEqual(['labs: --junit junit.xml is not in artifacts:reports:junit']);
    expect(gitlabProblems(body.replace('    entrypoint: [""]\n', ''))).toEqual(['labs: the netlab image without entrypoint [""]']);
    expect(gitlabProblems(body.replace('  stage: test', '  stage: tests'))).toEqual(['labs: stage tests is not in stages']);
    expect(gitlabProblems(body.replace('    - docker:27-dind\n', ''))).toEqual(['build-image: docker without a docker:dind service']);
  });

  it('every netlab command in the YAML and sh blocks uses only options netlab has', () => {
    const cmds = netlabCommands(commandLines(BLOCKS));
    // The page shows each of these (not vacuous: the parser finds them).
    expect(new Set(cmds.map((c) => c.sub))).toEqual(new Set(['test', 'grade', 'gradebook merge', 'doctor', '']));
    expect(cmds.filter((c) => c.sub === 'grade').flatMap((c) => c.options)).toEqual(expect.arrayContaining(['--rubric', '--shard', '--jobs', '--resume', '--out']));
    expect(optionProblems(BLOCKS)).toEqual([]);
  });

  it('what it quotes of doctor as root without capabilities is what doctor says now', () => {
    const capless = { root: true, netAdmin: false, sysAdmin: false, setuid: false };
    expect(CI_MD).toContain(`✘ privileges: ${privilegesLine(capless, false)}\n`);
    expect(CI_MD).toContain(`? unprivileged user namespaces: ${CANNOT_PROBE_AS_ROOT} — `);
  });

  it('an option netlab does not have, or a command it does not have, is found', () => {
    const mutate = (from: string, to: string) => {
      expect(CI_MD).toContain(from);
      return optionProblems(blocks(CI_MD.replace(from, to)));
    };
    expect(mutate('--jobs 4 --junit junit.xml', '--jobs 4 --junit-file junit.xml')).toEqual([expect.stringMatching(/^netlab test has no option --junit-file/)]);
    expect(mutate('--shard ${{ matrix.shard }}/4', '--shards ${{ matrix.shard }}/4')).toEqual([expect.stringMatching(/^netlab grade has no option --shards/)]);
    expect(mutate('gradebook merge /class', 'gradebook merge --into x /class')).toEqual([expect.stringMatching(/^netlab gradebook merge has no option --into/)]);
    expect(mutate('netlab test labs/ --jobs 4 --junit junit.xml\n', 'netlab tests labs/\n')).toEqual([expect.stringMatching(/^unknown command "netlab tests"/)]);
  });
});
