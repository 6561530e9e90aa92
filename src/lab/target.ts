// How a lab file names where traffic goes: a node, node:ifname, or an address. Pure.
import { parseCidr } from './ip.js';
import type { Target } from './types.js';

/** A written target: a node, node:ifname, or (anything else) an address, checked by the rules. */
export function parseTarget(text: string): Target {
  if (parseCidr(text) === undefined && /^[A-Za-z][A-Za-z0-9_]*(:[A-Za-z0-9_.-]+)?$/.test(text)) {
    const [node, ifname] = text.split(':') as [string, string | undefined];
    return ifname === undefined ? { kind: 'node', node } : { kind: 'node', node, ifname };
  }
  return { kind: 'address', address: text };
}
