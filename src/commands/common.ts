// Helpers shared by command modules: options, output and instance lookup.
import { writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { FORMATS, type Format } from '../report/formats.js';
import { useColor } from '../report/color.js';
import type { RunReport } from '../report/model.js';
import { readRecord, readRecords, type StateRecord } from '../runner/state.js';

/** A verb's options (yargs builder) and its handler, which returns the exit code; cli.ts holds usage and summary. */
export interface Command<A = Record<string, unknown>> {
  builder: (y: Argv) => Argv<A>;
  handler: (args: A) => Promise<number>;
}

/** Adds --format/--output. */
export function withReportOptions<T>(y: Argv<T>) {
  return y
    .option('format', { alias: 'f', choices: FORMATS, default: 'table' as Format, describe: 'Report format' })
    .option('output', { alias: 'o', type: 'string', describe: 'Write the report to this file instead of stdout' });
}

/** Writes a report in the chosen format to stdout or --output. */
export async function emitReport(report: RunReport, format: Format, output?: string): Promise<void> {
  const { render } = await import('../report/index.js');
  const text = render(format, report, output === undefined && useColor(process.stdout));
  if (output !== undefined) await writeFile(output, text);
  else process.stdout.write(text);
}

/** The state record of an instance, or a UsageError naming the running ones. */
export async function requireRecord(instance: string): Promise<StateRecord> {
  const rec = await readRecord(instance);
  if (rec) return rec;
  const names = (await readRecords()).map((r) => r.instance);
  throw new UsageError(`no running instance "${instance}"`, {
    hint: names.length ? `running: ${names.join(', ')}` : 'nothing is running; `netlab up LAB` starts one',
  });
}

/** Prints JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
