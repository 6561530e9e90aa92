// Pure IPv4/IPv6 address and prefix arithmetic: validation, subnet membership, canonical form.

/** A parsed address with its prefix length (a plain address has the full length). */
export interface Cidr {
  family: 4 | 6;
  /** The address as written, canonicalised (IPv6 lower-case, compressed as given). */
  address: string;
  value: bigint;
  prefix: number;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseV4(s: string): bigint | undefined {
  if (!V4.test(s)) return undefined;
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  let text = s;
  let tail: bigint[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    text = text.slice(0, lastColon + 1) + (text.endsWith('::') ? '' : '0');
    text = text.replace(/:0$/, '');
  }
  const [headText, tailText] = text.split('::') as [string, string | undefined];
  const groups = (t: string): bigint[] | undefined => {
    if (t === '') return [];
    const out: bigint[] = [];
    for (const g of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(parseInt(g, 16)));
    }
    return out;
  };
  const head = groups(headText);
  const rest = tailText === undefined ? [] : groups(tailText);
  if (!head || !rest) return undefined;
  const all = [...head, ...rest, ...tail];
  const total = tailText === undefined ? head.length + tail.length : 8;
  if (tailText === undefined && total !== 8) return undefined;
  if (all.length > (tailText === undefined ? 8 : 7)) return undefined;
  const zeros = 8 - head.length - rest.length - tail.length;
  const full = [...head, ...Array<bigint>(Math.max(zeros, 0)).fill(0n), ...rest, ...tail];
  return full.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, or an IPv6 address with optional `/n`; undefined when invalid. */
export function parseCidr(text: string, requirePrefix = false): Cidr | undefined {
  const [addr, prefixText, extra] = text.split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  if (requirePrefix && prefixText === undefined) return undefined;
  const v4 = parseV4(addr);
  const family: 4 | 6 = v4 !== undefined ? 4 : 6;
  const value = v4 ?? parseV6(addr);
  if (value === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > max) return undefined;
  }
  return { family, address: family === 4 ? addr : addr.toLowerCase(), value, prefix };
}

/** True when `addr` lies inside the subnet of `net` (same family, same network bits). */
export function inSubnet(addr: Cidr, net: Cidr): boolean {
  if (addr.family !== net.family) return false;
  const bits = BigInt((net.family === 4 ? 32 : 128) - net.prefix);
  return addr.value >> bits === net.value >> bits;
}

/** The network address of a prefix, e.g. 10.10.10.2/24 → 10.10.10.0/24. */
export function networkOf(c: Cidr): string {
  const width = c.family === 4 ? 32 : 128;
  const bits = BigInt(width - c.prefix);
  const net = (c.value >> bits) << bits;
  return `${formatValue(net, c.family)}/${c.prefix}`;
}

/** Formats a numeric address (IPv6 uncompressed but without leading zeros). */
export function formatValue(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** True when the address is the network or (IPv4) broadcast address of its own prefix. */
export function isNetworkOrBroadcast(c: Cidr): boolean {
  if (c.family !== 4 || c.prefix >= 31) return false;
  const host = (1n << BigInt(32 - c.prefix)) - 1n;
  const low = c.value & host;
  return low === 0n || low === host;
}

/** One key per address whatever its spelling (2001:db8::1 = 2001:0db8:0::1); the text itself when it is no address. */
export function addressKey(text: string): string {
  const c = parseCidr(text);
  return c ? `${c.family}/${c.value}` : text;
}

/** Two addresses in any spelling are the same. */
export function sameAddress(a: string, b: string): boolean {
  return addressKey(a) === addressKey(b);
}
