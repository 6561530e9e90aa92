// A reachability matrix (`kind: matrix`) as the model keeps it: groups, "A -> B" keys split into sides, and the
// source × target pairs each key expands to. Pure; normalize turns every pair into an ordinary check.
import { parseCidr } from './ip.js';
import { parseTarget } from './target.js';
import type { WrittenMatrix } from './schema.js';
import type { Path } from './source.js';
import type { Matrix, MatrixEntry } from './types.js';

/** Splits a key "A -> B" or "A <-> B"; undefined when it is neither. */
export function parseMatrixKey(key: string): { from: string; to: string; both: boolean } | undefined {
  const m = /^\s*(\S+?)\s*(<->|->)\s*(\S+)\s*$/.exec(key);
  if (!m || m[1]!.includes('->') || m[3]!.includes('->')) return undefined;
  return { from: m[1]!, to: m[3]!, both: m[2] === '<->' };
}

/** A member as text: as written, or `AT port N` for one written { at, port }. */
export function memberText(w: string | { at: string; port: number }): string {
  return typeof w === 'string' ? w : `${w.at} port ${w.port}`;
}

/** A member's target and, for one written { at, port }, the port it is probed on. */
export function splitMember(member: string): { target: string; port?: number } {
  const m = / port (\d+)$/.exec(member);
  return m ? { target: member.slice(0, m.index), port: Number(m[1]) } : { target: member };
}

/** The node a member lives in (`node` or `node:ifname`), or undefined for an address. */
export function memberNode(member: string): string | undefined {
  const t = parseTarget(splitMember(member).target);
  return t.kind === 'node' ? t.node : undefined;
}

/** True when a member is an address (which can only be a target). */
export function isAddressMember(member: string): boolean {
  return parseCidr(splitMember(member).target) !== undefined;
}

/** True when a member can only be a target: an address, or a target on a port. */
export function isTargetOnly(member: string): boolean {
  return isAddressMember(member) || splitMember(member).port !== undefined;
}

/** The members a side of a key stands for: a group's members, one member of a group, or a node; undefined when unknown. */
export function resolveSide(m: Pick<Matrix, 'groups'>, side: string, nodes: ReadonlySet<string>): string[] | undefined {
  const group = m.groups.find((g) => g.name === side);
  if (group) return group.members;
  if (m.groups.some((g) => g.members.includes(side)) || nodes.has(side)) return [side];
  return undefined;
}

/** Source × target pairs of one direction: address sources and pairs within one node are left out. */
function pairsOf(sources: string[], targets: string[], fromSide: string, toSide: string): MatrixEntry['pairs'] {
  const out: MatrixEntry['pairs'] = [];
  for (const from of sources) {
    if (isTargetOnly(from)) continue;
    for (const to of targets) if (memberNode(from) !== memberNode(to)) out.push({ from, to, fromSide, toSide });
  }
  return out;
}

/** Every "A -> B" key of a written matrix: its `expect:` and the cells of its table. */
export function writtenKeys(w: Pick<WrittenMatrix, 'expect' | 'rows'>): string[] {
  const cells = Object.values(w.rows ?? {}).flatMap((r) => Object.values(r));
  return [...Object.keys(w.expect ?? {}), ...cells.flatMap((c) => Object.keys('is' in c && typeof c.is === 'string' && typeof c.expect === 'object' ? c.expect : c))];
}

/** One "A -> B": yes|no entry at `at`, its pairs expanded against the groups and the lab's nodes. */
function entryOf(key: string, value: 'yes' | 'no' | boolean, at: Path, groups: Matrix['groups'], nodes: ReadonlySet<string>): MatrixEntry {
  const sides = parseMatrixKey(key);
  const expect = value === 'yes' || value === true ? 'pass' : 'fail';
  const entry: MatrixEntry = { key, expect, pairs: [], at, ...(sides ? { sides } : {}) };
  if (!sides) return entry;
  const a = resolveSide({ groups }, sides.from, nodes);
  const b = resolveSide({ groups }, sides.to, nodes);
  if (!a || !b) return entry;
  entry.pairs = pairsOf(a, b, sides.from, sides.to);
  if (sides.both && sides.from !== sides.to) entry.pairs.push(...pairsOf(b, a, sides.to, sides.from));
  return entry;
}

/** A table cell's label: its `is:`, else yes or no when all its keys agree; undefined when they do not. */
function cellLabel(values: readonly ('yes' | 'no' | boolean)[], is: string | undefined): string | undefined {
  if (is !== undefined) return is;
  const pass = values.map((v) => v === 'yes' || v === true);
  return pass.every((p) => p) ? 'yes' : pass.every((p) => !p) ? 'no' : undefined;
}

/** The written matrix as the model: sides resolved against its groups and the lab's nodes, pairs expanded. */
export function expandMatrix(w: WrittenMatrix, defaultName: string, nodes: ReadonlySet<string>, at: Path): Matrix {
  const groups = Object.entries(w.groups).map(([name, members]) => ({ name, members: members.map(memberText) }));
  const entries = Object.entries(w.expect ?? {}).map(([key, value]) => entryOf(key, value, [...at, 'expect', key], groups, nodes));
  const columns = w.columns ?? [];
  for (const [row, cells] of Object.entries(w.rows ?? {})) {
    // Cells in the order of `columns:`, any others after them as written.
    const order = [...columns.filter((c) => c in cells), ...Object.keys(cells).filter((c) => !columns.includes(c))];
    for (const column of order) {
      const cell = cells[column]!;
      const named = 'is' in cell && typeof cell.is === 'string' && typeof cell.expect === 'object';
      const keys = (named ? cell.expect : cell) as Record<string, 'yes' | 'no' | boolean>;
      const cellAt: Path = [...at, 'rows', row, column];
      const label = cellLabel(Object.values(keys), named ? (cell.is as string) : undefined);
      for (const [key, value] of Object.entries(keys)) {
        const e = entryOf(key, value, [...cellAt, ...(named ? ['expect'] : []), key], groups, nodes);
        entries.push({ ...e, table: { row, column, label, at: cellAt } });
      }
    }
  }
  return { name: w.name ?? defaultName, groups, entries, at, ...(w.columns ? { columns: w.columns } : {}) };
}
