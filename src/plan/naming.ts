// Naming scheme — every name netlab gives the kernel, in one place.
//
//   namespace   netlab-<instance>-<node>     e.g. netlab-veth-routing-ns1
//   state       /run/netlab/<instance>.json   (NETLAB_STATE_DIR overrides the directory)
//   instance    defaults to the lab name for `up`, <lab>-<6 hex> for `run`; --instance sets it
//
// Node names cannot contain "-", so the node is always the part after the last dash, and
// everything netlab owns is recognisable by the "netlab-" prefix. Lab names are at most 40
// characters, so <lab>-<6 hex> is at most 47 and always a valid instance id; the longest
// namespace name is 7 + 48 + 1 + 32 = 88 characters (a file under /run/netns: 255 allowed).
import { UsageError } from '../errors.js';

export const NS_PREFIX = 'netlab-';
/** Instance ids: lower-case letters, digits and dashes, starting with a letter or digit, at most 48 characters. */
export const INSTANCE = /^[a-z0-9][a-z0-9-]{0,47}$/;
/** Hex digits of the random suffix `run` appends to the lab name (24 bits; clashes are retried too). */
export const RUN_SUFFIX_HEX = 6;

/** Why `id` is not a valid instance id, or undefined when it is. */
export function instanceProblem(id: unknown): string | undefined {
  if (Array.isArray(id)) return 'give the instance id once';
  if (typeof id !== 'string') return 'the instance id must be a string';
  if (INSTANCE.test(id)) return undefined;
  return `instance id ${JSON.stringify(id)} is not valid`;
}

/**
 * The one validator of instance ids for every command that takes one (run, up, plan, check, down, exec):
 * returns the id, or throws a UsageError (exit 2) before anything is read, built or printed.
 */
export function validInstance(id: unknown): string {
  const problem = instanceProblem(id);
  if (problem !== undefined) {
    throw new UsageError(problem, { hint: 'use lower-case letters, digits and dashes (not first), at most 48 characters, e.g. lab1' });
  }
  return id as string;
}

/** The namespace a node of an instance lives in; both parts are validated names, so this is one safe word. */
export function nsName(instance: string, node: string): string {
  // Commands validate ids before planning; this guards the invariant where every namespace name is made.
  if (!INSTANCE.test(instance)) throw new Error(`internal: instance id ${JSON.stringify(instance)} reached the planner unvalidated`);
  return `${NS_PREFIX}${instance}-${node}`;
}

/** Splits a namespace name netlab made into instance and node; undefined when it is not netlab's. */
export function parseNsName(ns: string): { instance: string; node: string } | undefined {
  if (!ns.startsWith(NS_PREFIX)) return undefined;
  const rest = ns.slice(NS_PREFIX.length);
  const i = rest.lastIndexOf('-');
  if (i <= 0) return undefined;
  return { instance: rest.slice(0, i), node: rest.slice(i + 1) };
}

/** The bind-mount file of a named namespace, as `nsenter --net=` wants it. */
export function nsPath(ns: string): string {
  return `/run/netns/${ns}`;
}
