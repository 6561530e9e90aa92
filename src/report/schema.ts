// The JSON report (`-f json`, RunReport schemaVersion 1) as a zod schema; the build writes its JSON Schema to schema/report.schema.json.
import { z } from '../lab/zod.js';
import { REPORT_SCHEMA_VERSION, type RunReport } from './model.js';

const EvidenceSchema = z
  .object({
    argv: z.array(z.string()).describe('The command the check ran, as an argument vector'),
    exitCode: z.number().int().optional().describe('Its exit status; absent when it did not exit by itself (timed out, killed, or could not start)'),
    stdout: z.string(),
    stderr: z.string(),
  })
  .describe('What the check ran and what it printed');

const CheckResultSchema = z
  .object({
    id: z.string().describe('Id within the lab: <stage>/<n>'),
    stage: z.string().describe('Name of the stage the check belongs to'),
    name: z.string().describe('What the check asserts, in words'),
    kind: z.string().describe('Check kind (ping, tcp, udp, http, …)'),
    from: z.string().describe('Node the check runs in'),
    to: z.string().describe('What it aims at, as written in the lab'),
    target: z.string().describe('The address actually targeted'),
    expected: z.enum(['pass', 'fail']),
    expectedReason: z
      .string()
      .exactOptional()
      .describe('With expected fail: how the check must fail (its reason, e.g. refused, timeout; mismatch for nat-source); absent when any failure will do'),
    got: z.enum(['pass', 'fail', 'error', 'skipped']).describe('pass (reachable), fail (not), error (the check could not run), or skipped (not run: a gate before it in its stage did not hold)'),
    gotReason: z
      .string()
      .exactOptional()
      .describe('With got fail: how it failed, in the words reason uses (e.g. timeout), when the check kind can tell; a check whose expectedReason differs is not ok'),
    ok: z.boolean().describe('True when got matches expected (and any further assertion of the check holds, e.g. gotReason is expectedReason)'),
    detail: z.string().describe('Short description of the outcome, e.g. "reply, TTL 63"'),
    durationMs: z.number().nonnegative(),
    hint: z.string().exactOptional().describe('What to look at when the check is not as expected'),
    attempts: z.number().int().min(2).exactOptional().describe('How many times the check ran, when retries or within made it run more than once'),
    findings: z
      .array(z.string())
      .exactOptional()
      .describe('For a check that did not hold: what the lab\'s state shows, e.g. a missing route or an nftables rule that dropped packets'),
    matrix: z
      .object({
        name: z.string().describe('The matrix\'s name (per stage)'),
        from: z.string().describe('Source side of the cell as written in the matrix: a group or a member'),
        to: z.string().describe('Target side of the cell as written in the matrix: a group or a member'),
        row: z.string().exactOptional().describe('In a matrix table (rows:): the row of the cell the pair belongs to'),
        column: z.string().exactOptional().describe('In a matrix table: the column of the cell'),
        cell: z.string().exactOptional().describe('In a matrix table: what the cell says — yes, no, or its is: label (e.g. port forward)'),
      })
      .exactOptional()
      .describe('Set when the check is one pair of a reachability matrix (kind: matrix in the lab file)'),
    points: z.number().nonnegative().exactOptional().describe('What the check is worth; in a scored report (score present) every result has it (default 1)'),
    score: z.number().nonnegative().exactOptional().describe('In a scored report: the points the check earned (points when ok, else 0)'),
    gate: z.literal(true).exactOptional().describe('The check is a gate: when it did not hold, the checks after it in its stage were skipped'),
    hidden: z.literal(true).exactOptional().describe('The check is hidden: left out of the learner\'s report (grader\'s reports only)'),
    evidence: EvidenceSchema,
  })
  .describe('One check: what was expected, what happened, and the evidence');

const ScoreSchema = z
  .object({ points: z.number().nonnegative().describe('Points earned'), max: z.number().nonnegative().describe('Points there were to earn') })
  .describe('Score: the points of the checks that held, out of the points of all of them');

const StageReportSchema = z.object({
  name: z.string().describe('Stage name; the first stage is the setup'),
  title: z.string(),
  explain: z.string().exactOptional(),
  results: z.array(CheckResultSchema),
  score: ScoreSchema.exactOptional().describe('In a scored report: the stage\'s score'),
});

/** The run report as zod: the source of schema/report.schema.json. */
export const RunReportSchema = z
  .object({
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION).describe('Shape version; changes only when a field changes meaning or is removed'),
    lab: z.string().describe('Lab name'),
    title: z.string().describe('Lab title'),
    instance: z.string().describe('Instance id (namespaces are netlab-<instance>-<node>)'),
    startedAt: z.iso.datetime().describe('When the run started (UTC, ISO 8601)'),
    durationMs: z.number().nonnegative(),
    aborted: z.string().exactOptional().describe('Why the run was cut short (build failure or signal); absent when it ran to the end'),
    stages: z.array(StageReportSchema),
    summary: z
      .object({
        total: z.number().int().nonnegative(),
        passed: z.number().int().nonnegative().describe('Checks whose result was as expected'),
        failed: z.number().int().nonnegative().describe('Checks that ran and were not as expected'),
        errors: z.number().int().nonnegative().describe('Checks that could not run'),
        skipped: z.number().int().min(1).exactOptional().describe('Checks not run because a gate before them did not hold; absent when none'),
      })
      .describe('total = passed + failed + errors (+ skipped)'),
    score: ScoreSchema.exactOptional().describe('Set when the run is scored (a check carries points, or a rubric is in use): the total score'),
    hiddenChecks: z
      .number()
      .int()
      .min(1)
      .exactOptional()
      .describe('In a learner\'s report: how many hidden checks are graded besides the ones shown (their names and results are left out)'),
  })
  .describe('netlab run report');

// Compile-time guard: every report the code builds is one the schema describes.
type Assert<T extends true> = T;
export type ModelFitsSchema = Assert<RunReport extends z.input<typeof RunReportSchema> ? true : false>;

/** The JSON Schema (draft 2020-12) of the JSON report. */
export function reportJsonSchema(): unknown {
  // io 'input' leaves additionalProperties open: readers validating with this file keep working when fields are added.
  const schema = z.toJSONSchema(RunReportSchema, { io: 'input' }) as Record<string, unknown>;
  return { ...schema, title: `netlab run report (schemaVersion ${REPORT_SCHEMA_VERSION})` };
}
