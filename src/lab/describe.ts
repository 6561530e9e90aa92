// Checks in words, for default names, `netlab show` and the comments of `netlab plan`.
import type { Check, StateQuery } from './types.js';

/** A state query in words, for default check names. */
export function describeQuery(q: StateQuery): string {
  switch (q.what) {
    case 'address':
      return `${q.cidr} on ${q.dev}`;
    case 'address-range':
      return `an address ${q.range[0]}–${q.range[1]} on ${q.dev}`;
    case 'route':
      return `route ${q.dst}${q.via ? ` via ${q.via}` : ''}${q.dev ? ` dev ${q.dev}` : ''}`;
    case 'link':
      return `${q.dev}${q.up === undefined ? '' : q.up ? ' up' : ' down'}${q.carrier === undefined ? '' : q.carrier ? ' with carrier' : ' without carrier'}`;
    case 'sysctl':
      return `${q.key} = ${q.value}`;
    case 'nft':
      return `nft ruleset contains "${q.contains}"`;
  }
}

/** What a check expects, e.g. "must fail (no-route)" or "must pass, TTL 63". */
export function describeExpectation(c: Check): string {
  if (c.expect === 'fail') return `must fail${c.kind === 'ping' && c.reason ? ` (${c.reason})` : ''}`;
  return `must pass${c.kind === 'ping' && c.ttl ? `, TTL ${c.ttl}` : ''}`;
}

/** Where a check goes, e.g. "ns1 → 10.10.20.2" or, for state and cmd checks, just the node. */
export function describeRoute(c: Check): string {
  return 'toText' in c ? `${c.from} → ${c.toText}` : c.from;
}
