// Rules over a stage's matrices, pointing at the groups, members and keys as written: unknown or empty groups,
// malformed keys, addresses and ports used as sources, keys that expand to no check, pairs expected twice; in a
// table, cells outside its columns and cells that mix yes and no without saying what they show.
import { isTargetOnly, resolveSide, splitMember } from './matrix.js';
import { parseTarget } from './target.js';
import type { RuleProblem } from './rules.js';
import type { Path } from './source.js';
import type { Matrix, Target } from './types.js';

/** What the matrix rules need from the lab-wide rules: the nodes, and the reference checks for members. */
export interface MatrixRuleContext {
  nodes: ReadonlySet<string>;
  /** A name the schema pass left out (a node): keys naming it are not reported. */
  dropped?: (name: string) => boolean;
  /** A member used as a source: the node (and interface) must exist. */
  source: (t: Target & { kind: 'node' }, at: Path) => void;
  /** A member used as a target: as any check target (an address, or a node/interface with an address). */
  target: (t: Target, text: string, at: Path) => void;
}

/** Every problem of the matrices of one stage. */
export function matrixProblems(matrices: readonly Matrix[], ctx: MatrixRuleContext): RuleProblem[] {
  const out: RuleProblem[] = [];
  const names = new Set<string>();
  for (const m of matrices) {
    if (names.has(m.name)) out.push({ at: [...m.at, 'name'], message: `a matrix named "${m.name}" already exists in this stage`, hint: 'give each matrix its own name' });
    names.add(m.name);
    out.push(...oneMatrix(m, ctx));
  }
  return out;
}

function oneMatrix(m: Matrix, ctx: MatrixRuleContext): RuleProblem[] {
  const out: RuleProblem[] = [];
  const targets = new Set(m.entries.flatMap((e) => e.pairs.map((p) => p.to)));
  const sides = `A and B are groups (${m.groups.map((g) => g.name).join(', ') || 'none yet'}), members of a group, or nodes`;
  for (const g of m.groups) {
    const at: Path = [...m.at, 'groups', g.name];
    if (g.members.length === 0) out.push({ at, message: `group "${g.name}" is empty`, hint: 'list its members: nodes, node:ifname or addresses' });
    g.members.forEach((member, i) => {
      const { target, port } = splitMember(member);
      const t = parseTarget(target);
      const where: Path = port === undefined ? [...at, i] : [...at, i, 'at'];
      if (t.kind === 'node' && !targets.has(member)) ctx.source(t, where);
      else ctx.target(t, target, where);
    });
  }
  if (m.entries.length === 0) out.push({ at: m.at, message: 'a matrix needs expect: ("A -> B": yes|no) or rows: (a table of such cells)' });
  const cells = new Set<string>();
  for (const e of m.entries) {
    if (!e.table) continue;
    const { row, column, label, at } = e.table;
    const id = JSON.stringify(at);
    if (cells.has(id)) continue;
    cells.add(id);
    if (m.columns && !m.columns.includes(column)) out.push({ at, key: true, message: `"${column}" is not one of the columns (${m.columns.join(', ')})`, hint: 'list it under columns:, or fix its spelling' });
    if (label === undefined) {
      out.push({ at, key: true, message: `the cell ${row} × ${column} expects yes of some pairs and no of others: say what it shows`, hint: 'write it as { is: LABEL, expect: { "A -> B": yes, ... } }, e.g. is: port forward' });
    }
  }
  const seen = new Map<string, string>();
  for (const e of m.entries) {
    if (!e.sides) {
      out.push({ at: e.at, key: true, message: `"${e.key}" is not "A -> B" or "A <-> B"`, hint: `write "A -> B" (one way) or "A <-> B" (both ways); ${sides}` });
      continue;
    }
    const { from, to, both } = e.sides;
    const resolved = [from, to].map((side) => [side, resolveSide(m, side, ctx.nodes)] as const);
    const unknown = resolved.filter(([, members]) => members === undefined).map(([side]) => side);
    for (const side of new Set(unknown)) if (!ctx.dropped?.(side)) out.push({ at: e.at, key: true, message: `unknown group or node "${side}" in "${e.key}"`, hint: sides });
    if (unknown.length) continue;
    const sourceSides = both ? resolved : resolved.slice(0, 1);
    const addressSources = [...new Set(sourceSides.flatMap(([, members]) => (members ?? []).filter(isTargetOnly)))];
    for (const a of addressSources) {
      const what = splitMember(a).port === undefined ? 'an address' : 'a target on a port';
      out.push({ at: e.at, key: true, message: `"${a}" is ${what} and cannot be a source in "${e.key}"`, hint: 'checks run inside a node: addresses and { at, port } members can only be targets (right of ->)' });
    }
    const emptySide = resolved.some(([, members]) => members?.length === 0);
    if (e.pairs.length === 0 && addressSources.length === 0 && !emptySide) {
      out.push({ at: e.at, key: true, message: `"${e.key}" expands to no check`, hint: 'a member is never checked against one in its own node' });
    }
    for (const p of e.pairs) {
      const pair = `${p.from} → ${p.to}`;
      const other = seen.get(pair);
      if (other === undefined) seen.set(pair, e.key);
      else if (other !== e.key) {
        out.push({ at: e.at, key: true, message: `${pair} is expected twice (also by "${other}")`, hint: 'each pair may appear under one key' });
        break;
      }
    }
  }
  return out;
}
