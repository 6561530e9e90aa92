// Naming scheme — every name netlab gives the kernel, in one place.
//
//   namespace   netlab-<instance>-<node>     e.g. netlab-veth-routing-ns1
//   state       /run/netlab/<instance>.json   (NETLAB_STATE_DIR overrides the directory)
//   instance    defaults to the lab name for `up`, <lab>-<4 hex> for `run`; --instance sets it
//
// Node names cannot contain "-", so the node is always the part after the last dash, and
// everything netlab owns is recognisable by the "netlab-" prefix.

export const NS_PREFIX = 'netlab-';
/** Instance ids: lower-case words joined by dashes. */
export const INSTANCE = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** The namespace a node of an instance lives in. */
export function nsName(instance: string, node: string): string {
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
