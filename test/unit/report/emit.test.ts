// Writing reports: repeatable --format/--output paired by position, the usage errors, files and stdout, GITHUB_STEP_SUMMARY.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { emitReport, reportTargets, withReportOptions, type ReportArgs } from '../../../src/commands/common.js';
import { EXIT, UsageError } from '../../../src/errors.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { fixtureReport } from './fixture.js';

/** Parses a command line the way a verb with report options does; returns the report targets. */
function targetsOf(...argv: string[]) {
  const args = withReportOptions(yargs(argv))
    .exitProcess(false)
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseSync();
  return reportTargets(args as ReportArgs);
}

function usageError(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(EXIT.invalid);
    return e as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('--format/--output', () => {
  it('defaults to the table on stdout', () => {
    expect(targetsOf()).toEqual([{ format: 'table' }]);
  });

  it('pairs repeated --format and --output by position; - is stdout', () => {
    expect(targetsOf('--format', 'table', '--format', 'junit', '--output', '-', '--output', 'report.xml')).toEqual([
      { format: 'table' },
      { format: 'junit', output: 'report.xml' },
    ]);
    expect(targetsOf('-f', 'csv', '-o', '-', '-f', 'json', '--output=r.json')).toEqual([{ format: 'csv' }, { format: 'json', output: 'r.json' }]);
    expect(targetsOf('-f', 'json', '-o', 'r.json', '-f', 'tap', '-o', 'r.tap', '-f', 'markdown')).toEqual([
      { format: 'json', output: 'r.json' },
      { format: 'tap', output: 'r.tap' },
      { format: 'markdown' },
    ]);
  });

  it('a format without an output goes to stdout; one --output alone keeps the table format', () => {
    expect(targetsOf('-f', 'junit', '-f', 'csv', '-o', 'r.xml')).toEqual([{ format: 'junit', output: 'r.xml' }, { format: 'csv' }]);
    expect(targetsOf('-o', 'report.txt')).toEqual([{ format: 'table', output: 'report.txt' }]);
  });

  it('more outputs than formats is a usage error', () => {
    expect(usageError(() => targetsOf('-f', 'json', '-o', 'a.json', '-o', 'b.json')).message).toBe('2 --output for 1 --format');
    expect(usageError(() => targetsOf('-o', 'a', '-o', 'b')).message).toBe('2 --output for 1 --format');
  });

  it('two formats to stdout is a usage error', () => {
    expect(usageError(() => targetsOf('-f', 'table', '-f', 'json')).message).toMatch(/^2 formats to stdout \(table, json\)/);
    expect(usageError(() => targetsOf('-f', 'table', '-f', 'csv', '-o', '-', '-o', '-')).message).toMatch(/^2 formats to stdout/);
    expect(usageError(() => reportTargets({ format: ['junit', 'tap', 'csv'], output: ['x.xml'] })).message).toMatch(/^2 formats to stdout \(tap, csv\)/);
  });

  it('two formats to one file is a usage error too', () => {
    expect(usageError(() => targetsOf('-f', 'json', '-f', 'csv', '-o', 'r', '-o', './r')).message).toMatch(/^two formats to one file/);
  });

  it('an unknown format or an --output without a file is refused by the options themselves', () => {
    expect(() => targetsOf('-f', 'xml')).toThrow(/Invalid values/);
    expect(() => targetsOf('--output', '--format', 'json')).toThrow(/Not enough arguments following: output/);
  });
});

describe('emitReport', () => {
  let dir: string;
  let stdout: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlab-report-'));
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    vi.stubEnv('GITHUB_STEP_SUMMARY', '');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each format to its file and the one without a file to stdout', async () => {
    const report = fixtureReport();
    await emitReport(report, [{ format: 'json', output: join(dir, 'r.json') }, { format: 'csv' }, { format: 'junit', output: join(dir, 'r.xml') }]);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toEqual(report);
    expect(readFileSync(join(dir, 'r.xml'), 'utf8')).toMatch(/^<\?xml /);
    expect(stdout.join('')).toMatch(/^stage,check,kind,/);
  });

  it('appends the Markdown report to GITHUB_STEP_SUMMARY as well, keeping what is there', async () => {
    const summary = join(dir, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    vi.stubEnv('GITHUB_STEP_SUMMARY', summary);
    const report = fixtureReport();
    await emitReport(report, [{ format: 'tap' }]);
    await emitReport(report, [{ format: 'json', output: join(dir, 'r.json') }]);
    expect(stdout.join('')).toMatch(/^TAP version 14\n/);
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n${renderMarkdown(report)}\n${renderMarkdown(report)}\n`);
  });

  it('without GITHUB_STEP_SUMMARY writes no summary; an unwritable one only warns', async () => {
    const summary = join(dir, 'no-such-dir', 'summary.md');
    await emitReport(fixtureReport(), [{ format: 'json', output: join(dir, 'r.json') }]);
    expect(existsSync(summary)).toBe(false);
    vi.stubEnv('GITHUB_STEP_SUMMARY', summary);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await emitReport(fixtureReport(), [{ format: 'json', output: join(dir, 'r.json') }]);
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/could not append the report to GITHUB_STEP_SUMMARY/);
  });
});
