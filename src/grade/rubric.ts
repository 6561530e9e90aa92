// Rubric files: a check suite kept apart from the lab (students never see it) that names a lab, adds checks to its
// setup and steps, and re-weighs the lab's own checks (points, gate, hidden). The rubric's checks are merged into
// the lab's written data and validated with it (normalize and rules), every problem located in the file it is in.
import { gradedChecks } from '../checks/graded.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { z } from '../lab/zod.js';
import { ValidationError, type Problem } from '../errors.js';
import { labFile } from '../lab/catalog.js';
import { parseDuration } from '../lab/duration.js';
import { Dropped } from '../lab/dropped.js';
import { limitProblems, readLabText } from '../lab/limits.js';
import { parseLab, schemaProblems, sortProblems } from '../lab/load.js';
import { normalize } from '../lab/normalize.js';
import { parseValidPart } from '../lab/repair.js';
import { checkRules } from '../lab/rules.js';
import { CheckSchema, LabSchema, MatrixCheckSchema, SLUG, scoring, type WrittenCheck, type WrittenLab } from '../lab/schema.js';
import { dotted, LabSource, type Path } from '../lab/source.js';
import type { Check, Lab, Stage } from '../lab/types.js';

/** A duration as lab files write them (500ms, 90s, 2m, or a number of seconds). */
const duration = z.union([z.number(), z.string()]).refine((v) => parseDuration(v) !== undefined, {
  error: (iss) => `"${String(iss.input)}" is not a duration: write e.g. 90s, 2m or a number of seconds`,
});

/** A rubric file as written (top-level key `rubric:` tells it from a lab file). */
export const RubricSchema = z.strictObject({
  $schema: z.string().optional(),
  rubric: z.string().regex(SLUG, 'rubric names are lower-case words joined by dashes, e.g. host-only-internet').describe('The rubric\'s name (a slug); this key tells a rubric from a lab file.'),
  title: z.string().optional(),
  lab: z.string().min(1).describe('A built-in lab name, or a lab file path relative to this rubric.'),
  exercise: z.string().regex(SLUG, 'a step name').optional().describe('The step the submissions do (default: the lab\'s first exercise step; a lab without one: its last step).'),
  time_limit: duration.optional().describe('Time limit per submission, e.g. 2m (netlab grade --time-limit overrides it).'),
  lab_checks: z
    .record(z.string().min(1), z.strictObject(scoring))
    .optional()
    .describe('The lab\'s own checks (or matrices) by name → points, gate, hidden.'),
  checks: z.array(CheckSchema).optional().describe('Checks added to the lab\'s setup checks.'),
  steps: z.record(z.string(), z.array(CheckSchema)).optional().describe('Step name → checks added to that step\'s checks.'),
});

export type WrittenRubric = z.infer<typeof RubricSchema>;

/** The JSON Schema editors use (schema/rubric.schema.json, `netlab schema --rubric`). */
export function rubricJsonSchema(): unknown {
  const schema = z.toJSONSchema(RubricSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'netlab rubric file (v1)' };
}

export interface Rubric {
  name: string;
  title?: string;
  file: string;
  /** The lab as written (`lab:`). */
  lab: string;
  timeLimitMs?: number;
}

/** A loaded rubric: the rubric, the lab it names with the rubric's checks merged in, and the exercise stage index. */
export interface LoadedRubric {
  rubric: Rubric;
  lab: Lab;
  exercise: number;
}

/** Whether YAML data is a rubric (a map with a top-level `rubric:` key) rather than a lab. */
export function isRubricData(data: unknown): boolean {
  return data !== null && typeof data === 'object' && !Array.isArray(data) && 'rubric' in data;
}

/** Whether YAML text is a rubric (one rule for `validate`, `netlab test` and this loader: src/lab/discover.ts). */
export { isRubricText } from '../lab/discover.js';

/** Locates a path of the merged lab data: in the rubric file for what the rubric added, else in the lab file. */
type Locator = (path: Path, message: string, hint?: string, key?: boolean) => Problem;

/** Where each merged lab's problems go (gradedLab needs them for the reference's checks). */
const LOCATORS = new WeakMap<Lab, Locator>();

const MAX_HINT_NAMES = 12;
const nameList = (names: readonly string[]): string => {
  const shown = names.slice(0, MAX_HINT_NAMES).map((n) => JSON.stringify(n));
  return shown.join(', ') + (names.length > MAX_HINT_NAMES ? `, … (${names.length} in all)` : '');
};

/** The lab file a rubric's `lab:` names: a built-in lab name, or a path relative to the rubric. */
function rubricLabFile(lab: string, rubricFile: string): string | undefined {
  if (!lab.includes('/') && !/\.ya?ml$/.test(lab)) {
    try {
      return labFile(lab);
    } catch {
      return undefined;
    }
  }
  const path = isAbsolute(lab) ? lab : resolve(dirname(rubricFile), lab);
  return existsSync(path) ? path : undefined;
}

/** A rubric's text through the schema: its problems, and (as for lab files) the valid rest with the paths it came from. */
export interface ParsedRubric {
  src: LabSource;
  rubric: WrittenRubric;
  problems: Problem[];
  /** Maps a path in `rubric` (whose lists lack left-out items) to the path in the file. */
  original: (p: Path) => Path;
}

/**
 * Parses rubric text through the schema. A YAML syntax error, or a rubric with nothing valid left, throws
 * ValidationError; other schema problems are returned with the valid rest, so the merge can still report its own.
 */
export function parseRubricText(text: string, file: string): ParsedRubric {
  const src = new LabSource(file, text);
  const syntax = src.syntaxProblems();
  if (syntax.length) throw new ValidationError(syntax);
  const data: unknown = src.toJS() ?? {};
  // An invalid name does not take the rubric with it: nothing refers to it, so a stand-in will do.
  const placeholder = (path: Path) => (path.length === 1 && path[0] === 'rubric' ? 'invalid-name' : undefined);
  const pass = parseValidPart(RubricSchema, data, { whole: new Set<z.core.$ZodType>([MatrixCheckSchema]), placeholder });
  const problems = schemaProblems(src, data, pass.issues, RubricSchema);
  if (pass.value === undefined) throw new ValidationError(sortProblems(problems));
  return { src, rubric: pass.value, problems, original: pass.original };
}

/** The written items a lab_checks name picks: ordinary checks by name, matrices by name; their paths in the lab file. */
function namedItems(lab: Lab, name: string): Path[] {
  const out: Path[] = [];
  for (const s of lab.stages) {
    for (const c of s.checks) if (!c.matrix && c.name === name) out.push(c.at);
    for (const m of s.matrices) if (m.name === name) out.push(m.at);
  }
  return out;
}

/** Every name lab_checks may use (for the hint). */
function checkNames(lab: Lab): string[] {
  return lab.stages.flatMap((s) => [...s.checks.filter((c) => !c.matrix).map((c) => c.name), ...s.matrices.map((m) => m.name)]);
}

/** The item at a path of plain data. */
function itemAt(data: unknown, path: Path): Record<string, unknown> | undefined {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Merges a validated rubric into a lab's text: the rubric's checks appended to the lab's setup and step checks,
 * lab_checks' scoring keys set on the lab's checks; then the merged data goes through the lab's passes (schema,
 * limits, normalize, rules), with every problem located where it was written (the rubric or the lab file).
 */
export function mergeRubric(parsed: ParsedRubric, labText: string, labPath: string): { lab: Lab; exercise: number } {
  const { rubric, original } = parsed;
  // The rubric's valid rest is merged: a path in it is mapped to the file's before it is located.
  const rubricSrc = { problem: (path: Path, message: string, hint?: string, key = false) => parsed.src.problem(original(path), message, hint, key) };
  const labModel = parseLab(labText, labPath); // the lab alone must be valid: its problems are its own
  const labSrc = new LabSource(labPath, labText);
  const merged = structuredClone(labSrc.toJS()) as Record<string, unknown> & { checks?: WrittenCheck[]; steps?: { name: string; checks?: WrittenCheck[] }[] };
  const problems: Problem[] = [...parsed.problems];
  const steps = merged.steps ?? [];
  const stepNames = steps.map((s) => s.name);

  const setupBase = merged.checks?.length ?? 0;
  if (rubric.checks?.length) merged.checks = [...(merged.checks ?? []), ...rubric.checks];
  const stepBase = new Map<number, { name: string; base: number }>();
  for (const [name, checks] of Object.entries(rubric.steps ?? {})) {
    const si = stepNames.indexOf(name);
    if (si < 0) {
      problems.push(rubricSrc.problem(['steps', name], `lab ${labModel.name} has no step "${name}"`, `its steps: ${nameList(stepNames)}`, true));
      continue;
    }
    const step = steps[si] as { checks?: WrittenCheck[] };
    stepBase.set(si, { name, base: step.checks?.length ?? 0 });
    step.checks = [...(step.checks ?? []), ...checks];
  }
  for (const [name, keys] of Object.entries(rubric.lab_checks ?? {})) {
    const items = namedItems(labModel, name);
    if (!items.length) {
      problems.push(rubricSrc.problem(['lab_checks', name], `lab ${labModel.name} has no check or matrix named "${name}"`, `its checks: ${nameList(checkNames(labModel))}`, true));
      continue;
    }
    for (const at of items) {
      const item = itemAt(merged, at);
      if (!item) continue;
      for (const k of ['points', 'gate', 'hidden'] as const) if (keys[k] !== undefined) item[k] = keys[k];
    }
  }

  const locate: Locator = (path, message, hint, key = false) => {
    const [a, b, c, d, ...rest] = path;
    if (a === 'checks' && typeof b === 'number' && b >= setupBase) return rubricSrc.problem(['checks', b - setupBase, ...(c !== undefined ? [c] : []), ...(d !== undefined ? [d] : []), ...rest], message, hint, key);
    if (a === 'steps' && typeof b === 'number' && c === 'checks' && typeof d === 'number') {
      const s = stepBase.get(b);
      if (s && d >= s.base) return rubricSrc.problem(['steps', s.name, d - s.base, ...rest], message, hint, key);
    }
    return labSrc.problem(path, message, hint, key);
  };

  let exercise: number;
  if (rubric.exercise !== undefined) {
    const si = stepNames.indexOf(rubric.exercise);
    exercise = si + 1;
    if (si < 0) problems.push(rubricSrc.problem(['exercise'], `lab ${labModel.name} has no step "${rubric.exercise}"`, `its steps: ${nameList(stepNames)}`));
  } else {
    const first = labModel.stages.findIndex((s) => s.exercise !== undefined);
    exercise = first >= 0 ? first : labModel.stages.length - 1;
  }

  const pass = parseValidPart(LabSchema, merged, { whole: new Set<z.core.$ZodType>([MatrixCheckSchema]) });
  // What the rubric added was valid on its own: a problem here is one of the merge (reported where it points).
  for (const iss of pass.issues) problems.push(locate(iss.path.filter((p): p is string | number => typeof p !== 'symbol'), iss.message));
  if (pass.value === undefined) throw new ValidationError(sortProblems(problems));
  const value: WrittenLab = pass.value;
  const limits = limitProblems({ problem: (path, message, hint, key) => locate(path, message, hint, key) }, value);
  // A lab beyond a limit stops here, before normalize expands anything.
  if (limits.length) throw new ValidationError(sortProblems([...problems, ...limits]));
  const lab = normalize(value, labPath);
  for (const p of checkRules(lab, Dropped.none)) problems.push(locate(pass.original(p.at), p.message, p.hint, p.key ?? false));
  if (problems.length) throw new ValidationError(sortProblems(problems));
  lab.scored = true;
  LOCATORS.set(lab, locate);
  return { lab, exercise };
}

/** Loads a rubric file and the lab it names, with the rubric's checks merged in (points/gate/hidden set). */
export async function loadRubric(file: string): Promise<LoadedRubric> {
  const parsed = parseRubricText(await readLabText(file), file);
  const { src, rubric } = parsed;
  const labPath = rubricLabFile(rubric.lab, file);
  if (labPath === undefined) {
    const missing = src.problem(['lab'], `no lab "${rubric.lab}": neither a built-in lab nor a lab file`, 'a built-in lab name (netlab list), or a path to a lab file relative to this rubric');
    throw new ValidationError(sortProblems([...parsed.problems, missing]));
  }
  const { lab, exercise } = mergeRubric(parsed, await readLabText(labPath), labPath);
  const timeLimitMs = rubric.time_limit !== undefined ? parseDuration(rubric.time_limit) : undefined;
  return {
    rubric: {
      name: rubric.rubric,
      ...(rubric.title !== undefined ? { title: rubric.title } : {}),
      file,
      lab: rubric.lab,
      ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
    },
    lab,
    exercise,
  };
}

/** The name of the one stage gradedLab puts every graded check in. */
export const GRADED_STAGE = 'graded';

/**
 * The same merge onto a student's own lab: the reference's graded checks of the setup and the exercise stage (the lab's and
 * the rubric's, with points/gate/hidden) put in ONE final stage "graded" of `studentLab`, in that order. The student
 * lab's own checks are left out (a submission does not write its own grading). A graded check naming what the
 * student lab lacks (a node, an address) throws ValidationError listing every such problem, located in the rubric
 * or reference lab file, never a crash.
 */
export function gradedLab(ref: LoadedRubric, studentLab: Lab): Lab {
  const picked: Stage[] = [ref.lab.stages[0], ...(ref.exercise > 0 ? [ref.lab.stages[ref.exercise]] : [])].filter((s): s is Stage => s !== undefined);
  // Matrix names are per stage ("matrix 1"): in the one graded stage each says which stage it came from.
  // The setup's must-fail checks are left out when a step is graded too, as everywhere grading runs (gradedChecks).
  const later = picked.length > 1;
  const checks: Check[] = picked.flatMap((s, i) => gradedChecks(s.checks, i, later).map((c) => (c.matrix ? { ...c, matrix: { ...c.matrix, name: `${s.name}: ${c.matrix.name}` } } : { ...c })));
  checks.forEach((c, i) => (c.id = `${GRADED_STAGE}/${i + 1}`));
  const graded: Stage = {
    name: GRADED_STAGE,
    title: 'Graded checks',
    config: { nodes: [], addresses: [], routes: [], sysctls: [], links: [], nat: [], forwards: [], firewall: [], services: [], dhcpServers: [], dhcpClients: [] },
    checks,
    matrices: [],
  };
  // The student's stages are built whole, without their own checks, and none is an exercise (nothing is held back).
  const lab: Lab = { ...studentLab, stages: [...studentLab.stages.map(({ exercise: _x, ...s }) => ({ ...s, checks: [], matrices: [] })), graded], scored: true };
  const locate = LOCATORS.get(ref.lab);
  const problems = checkRules(lab, Dropped.none).map((p): Problem => {
    const hint = `the submitted lab ${studentLab.file} must have what the rubric's checks name${p.hint ? ` (${p.hint})` : ''}`;
    const message = `in the submitted lab: ${p.message}`;
    // The student lab was valid alone and its checks are gone: every problem is one of the graded checks.
    return locate ? locate(p.at, message, hint, p.key ?? false) : { file: ref.rubric.file, line: 0, col: 0, path: dotted(p.at), message, hint };
  });
  if (problems.length) throw new ValidationError(sortProblems(problems));
  return lab;
}
