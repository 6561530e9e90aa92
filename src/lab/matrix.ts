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

/** The node a member lives in (`node` or `node:ifname`), or undefined for an address. */
export function memberNode(member: string): string | undefined {
  const t = parseTarget(member);
  return t.kind === 'node' ? t.node : undefined;
}

/** True when a member is an address (which can only be a target). */
export function isAddressMember(member: string): boolean {
  return parseCidr(member) !== undefined;
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
    if (isAddressMember(from)) continue;
    for (const to of targets) if (memberNode(from) !== memberNode(to)) out.push({ from, to, fromSide, toSide });
  }
  return out;
}

/** The written matrix as the model: sides resolved against its groups and the lab's nodes, pairs expanded. */
export function expandMatrix(w: WrittenMatrix, defaultName: string, nodes: ReadonlySet<string>, at: Path): Matrix {
  const groups = Object.entries(w.groups).map(([name, members]) => ({ name, members }));
  const entries = Object.entries(w.expect).map(([key, value]): MatrixEntry => {
    const sides = parseMatrixKey(key);
    const expect = value === 'yes' || value === true ? 'pass' : 'fail';
    const entry: MatrixEntry = { key, expect, pairs: [], at: [...at, 'expect', key], ...(sides ? { sides } : {}) };
    if (!sides) return entry;
    const a = resolveSide({ groups }, sides.from, nodes);
    const b = resolveSide({ groups }, sides.to, nodes);
    if (!a || !b) return entry;
    entry.pairs = pairsOf(a, b, sides.from, sides.to);
    if (sides.both && sides.from !== sides.to) entry.pairs.push(...pairsOf(b, a, sides.to, sides.from));
    return entry;
  });
  return { name: w.name ?? defaultName, groups, entries, at };
}
