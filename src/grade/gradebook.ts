// The gradebook: one row per submission, as CSV (formula-safe, for spreadsheets), JSON and a table; and the merge of
// the gradebooks of a class's shards into one. Rows are always in id order, never in the order grading finished.
import { UsageError } from '../errors.js';
import { csvText } from '../report/csv.js';
import { printable } from '../printable.js';

export interface GradeRow {
  id: string;
  /** graded: the rubric ran; error: the submission could not be graded (its script looped, did not parse…). */
  status: 'graded' | 'error';
  score: number;
  max: number;
  passed: number;
  failed: number;
  /** Checks that could not run. */
  errors: number;
  durationMs: number;
  /** The name of the first check (in report order) that did not hold. */
  firstFailing?: string;
  /** With status error: why (the student's feedback). */
  error?: string;
}

export const GRADEBOOK_VERSION = 1;

export interface Gradebook {
  version: typeof GRADEBOOK_VERSION;
  lab: string;
  rubric: string;
  /** The most points a submission can get. */
  max: number;
  /** How many submissions the whole class has (every shard's together). */
  class: number;
  /** Set on one shard's gradebook (`--shard I/N`); absent on a whole class's. */
  shard?: { index: number; count: number };
  rows: GradeRow[];
}

export const GRADEBOOK_COLUMNS = ['id', 'status', 'score', 'max', 'passed', 'failed', 'errors', 'duration_ms', 'first_failing_check', 'error'] as const;

const byId = (a: GradeRow, b: GradeRow) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const count = (n: number) => String(Math.max(0, Math.round(n)));
/** Points may be fractional (0.5): at most two decimals, never a formula. */
const points = (n: number) => String(Math.max(0, Math.round(n * 100) / 100));

/** The gradebook as CSV (RFC 4180, CRLF): a header, then one row per submission in id order. */
export function gradebookCsv(book: Pick<Gradebook, 'rows'>): string {
  const lines = [GRADEBOOK_COLUMNS.join(',')];
  for (const r of [...book.rows].sort(byId)) {
    lines.push(
      [csvText(r.id), r.status, points(r.score), points(r.max), count(r.passed), count(r.failed), count(r.errors), count(r.durationMs), csvText(r.firstFailing ?? ''), csvText(r.error ?? '')].join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

/** The gradebook as JSON, rows in id order. */
export function gradebookJson(book: Gradebook): string {
  return JSON.stringify({ ...book, rows: [...book.rows].sort(byId) }, null, 2) + '\n';
}

/** The gradebook as a plain table (stdout): id, score/max, checks, time, and the first failing check or the error. */
export function gradebookTable(book: Gradebook): string {
  const rows = [...book.rows].sort(byId).map((r) => [
    printable(r.id),
    r.status === 'error' ? `error (0/${points(r.max)})` : `${points(r.score)}/${points(r.max)}`,
    `${r.passed}✔ ${r.failed}✘${r.errors ? ` ${r.errors}!` : ''}`,
    `${(r.durationMs / 1000).toFixed(1)}s`,
    printable(r.status === 'error' ? (r.error ?? '').split('\n')[0] ?? '' : (r.firstFailing ?? '')),
  ]);
  const head = ['submission', 'score', 'checks', 'time', 'first failing check / error'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const graded = book.rows.filter((r) => r.status === 'graded');
  const mean = graded.length ? graded.reduce((s, r) => s + r.score, 0) / graded.length : 0;
  const errors = book.rows.length - graded.length;
  const shard = book.shard ? ` (shard ${book.shard.index}/${book.shard.count} of ${book.class})` : '';
  const foot = `${book.rows.length} submissions${shard}: ${graded.length} graded, mean ${points(mean)}/${points(book.max)}${errors ? `, ${errors} could not be graded` : ''}`;
  return [line(head), ...rows.map(line), '', foot, ''].join('\n');
}

/**
 * Joins the gradebooks of one class's shards (`--shard 1/N` … `N/N`) into the class's. They must be of one lab and
 * rubric, of one N, each shard once, and no submission twice; rows come out in id order, as one run gives them.
 */
export function mergeGradebooks(books: readonly { source: string; book: Gradebook }[]): Gradebook {
  const first = books[0]?.book;
  if (!first) throw new UsageError('nothing to merge', { hint: 'netlab gradebook merge grades-1 grades-2 …' });
  for (const { source, book } of books) {
    if (book.version !== GRADEBOOK_VERSION) throw new UsageError(`${source}: gradebook version ${String(book.version)}, this netlab reads ${GRADEBOOK_VERSION}`);
    if (book.lab !== first.lab || book.rubric !== first.rubric) {
      throw new UsageError(`${source} grades ${book.lab} with rubric ${book.rubric}, ${books[0]?.source} ${first.lab} with ${first.rubric}`, { hint: 'merge the shards of one class' });
    }
  }
  const shards = books.map((b) => b.book.shard);
  const count = shards[0]?.count;
  if (shards.some((s) => s === undefined || s.count !== count)) {
    throw new UsageError('every gradebook merged must be one shard of the same --shard I/N split', { hint: books.map((b) => `${b.source}: ${b.book.shard ? `${b.book.shard.index}/${b.book.shard.count}` : 'not a shard'}`).join('; ') });
  }
  const seen = new Set(shards.map((s) => s?.index));
  const missing = Array.from({ length: count ?? 0 }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (seen.size !== books.length) throw new UsageError('a shard is given twice', { hint: books.map((b) => `${b.source}: ${b.book.shard?.index}/${count}`).join('; ') });
  if (missing.length) throw new UsageError(`shard ${missing.join(', ')} of ${count} is missing`, { hint: 'every shard 1…N must be merged, or the gradebook would lack its submissions' });
  const rows = books.flatMap((b) => b.book.rows).sort(byId);
  for (let i = 1; i < rows.length; i++) if (rows[i]?.id === rows[i - 1]?.id) throw new UsageError(`submission "${rows[i]?.id}" is in two shards`);
  if (rows.length !== first.class) throw new UsageError(`the shards hold ${rows.length} submissions, the class has ${first.class}`);
  const { shard: _shard, ...rest } = first;
  return { ...rest, rows };
}

/** A gradebook read from JSON text: its shape checked enough that merging cannot go wrong silently. */
export function parseGradebook(text: string, source: string): Gradebook {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source}: not JSON (${(e as Error).message})`);
  }
  const b = v as Partial<Gradebook>;
  if (typeof b !== 'object' || b === null || typeof b.lab !== 'string' || typeof b.rubric !== 'string' || typeof b.max !== 'number' || typeof b.class !== 'number' || !Array.isArray(b.rows)) {
    throw new UsageError(`${source}: not a netlab gradebook (gradebook.json written by netlab grade)`);
  }
  for (const r of b.rows as unknown[]) {
    const row = r as Partial<GradeRow>;
    if (typeof row?.id !== 'string' || (row.status !== 'graded' && row.status !== 'error') || typeof row.score !== 'number') throw new UsageError(`${source}: a row is not a gradebook row`);
  }
  return b as Gradebook;
}
