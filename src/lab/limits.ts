// Input limits: how big a lab file may be before netlab refuses it. One table says each limit, its default, why,
// and the option that raises it; the command-line options, `--help` and the docs all derive from it.
import { open } from 'node:fs/promises';
import type { Problem } from '../errors.js';
import { UsageError } from '../errors.js';
import { isTargetOnly, memberNode, memberText, parseMatrixKey, resolveSide, writtenKeys } from './matrix.js';
import type { WrittenCheck, WrittenLab, WrittenNodeConfig } from './schema.js';
import type { LabSource, Path } from './source.js';

/** One limit: its default, what it counts, and why the default is what it is. */
export interface LimitSpec {
  default: number;
  /** What is counted, as the docs and `--help` say it. */
  counts: string;
  /** Why the default is where it is. */
  why: string;
}

/** Every limit a lab file is held to; each can be raised with `--max-<key>` (see `limitOption`). */
export const LIMITS = {
  'file-size': {
    default: 1024 * 1024,
    counts: 'bytes of the lab file',
    why: 'a 500-node lab written out in full is about 150 KiB; reading and parsing stay well under a second',
  },
  aliases: {
    default: 10_000,
    counts: 'YAML values that aliases (*name) add when expanded, aliases inside aliased values included',
    why: 'anchors save repetition; an alias bomb ("billion laughs") expands a few lines into billions of values',
  },
  nodes: {
    default: 500,
    counts: 'nodes (network namespaces)',
    why: 'each node costs ~350 KiB of kernel memory and ~50 ms to build; a Linux bridge holds at most 1023 ports',
  },
  links: {
    default: 1000,
    counts: 'veth links',
    why: 'two per node: a ring or a star of 500 nodes, each link two kernel interfaces',
  },
  addresses: {
    default: 2000,
    counts: 'interface addresses (on link ends, interfaces, bridges and devices, in every step)',
    why: 'four per node; the rules compare addresses pairwise (duplicates, overlaps), so 20,000 take seconds to check',
  },
  devices: {
    default: 1000,
    counts: 'bridges and devices (bridges:, devices:)',
    why: 'each is a kernel interface; two per node',
  },
  services: {
    default: 500,
    counts: 'services and DHCP servers, in every node and step (each runs a process, or joins one per node)',
    why: 'up to one process each, kept running for the life of the lab',
  },
  checks: {
    default: 5000,
    counts: 'checks of all steps, each matrix counted as the checks it expands to (sources × targets)',
    why: 'a ping check is a line to netlab\'s prober (a 50 × 50 all-pairs matrix, 2,450 pings, takes about a second); other kinds cost a process or more (~15 ms each): 5000 of those is over a minute of checks',
  },
  steps: {
    default: 100,
    counts: 'steps',
    why: 'each step is built, settled and checked in turn; lessons have a handful',
  },
} as const satisfies Record<string, LimitSpec>;

export type LimitKey = keyof typeof LIMITS;
export type Limits = Record<LimitKey, number>;

/** Limits that cannot be raised: beyond them the parser or the kernel fails, whatever the machine. */
export const FIXED_LIMITS = {
  /** Collections inside collections; deeper input would overflow the parser's stack. Built-in labs use 8. */
  nesting: 64,
  /** Ports of one Linux bridge (BR_MAX_PORTS, 1 << 10, less port 0). */
  bridgePorts: 1023,
} as const;

/** The defaults of every limit. */
export function defaultLimits(): Limits {
  return Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, v.default])) as Limits;
}

/** The command-line option that raises a limit: `--max-nodes`. */
export function limitOption(key: LimitKey): string {
  return `max-${key}`;
}

let active: Limits = defaultLimits();

/** Sets the limits this process validates lab files against (cli.ts, from `--max-*`); absent keys keep the default. */
export function setLimits(overrides: Partial<Limits>): void {
  active = { ...defaultLimits(), ...overrides };
}

/** The limits set with setLimits (the defaults unless a `--max-*` option raised one). */
export function activeLimits(): Limits {
  return active;
}

/** "1048576 bytes (1 MiB)" for sizes, the plain number otherwise. */
export function formatLimit(key: LimitKey, n: number): string {
  if (key !== 'file-size') return String(n);
  const mib = n / (1024 * 1024);
  return Number.isInteger(mib) ? `${n} bytes (${mib} MiB)` : `${n} bytes`;
}

function over(key: LimitKey, what: string, n: number, limits: Limits): string | undefined {
  return n > limits[key] ? `${what}; the limit is ${formatLimit(key, limits[key])}` : undefined;
}

/** The hint of a limit problem: how to raise it. */
export function raiseHint(key: LimitKey, n: number): string {
  return `if the lab really is this big, raise the limit: --${limitOption(key)} ${n}`;
}

/**
 * Reads a lab file, refusing one larger than the file-size limit without reading it all (a huge file, /dev/zero).
 * Unreadable files (a directory, no permission) are usage errors.
 */
export async function readLabText(file: string, limits: Limits = activeLimits()): Promise<string> {
  const max = limits['file-size'];
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new UsageError(`cannot read lab file ${file}: ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new UsageError(`${file} is a directory, not a lab file`);
    if (st.isFile() && st.size > max) throw tooBig(file, st.size, limits);
    // Read at most max+1 bytes: enough to know the file is too big whatever stat said (a pipe, /proc).
    const buf = Buffer.alloc(Math.min(max + 1, st.isFile() ? st.size + 1 : max + 1));
    let len = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, null);
      if (bytesRead === 0) break;
      len += bytesRead;
      if (len > max) throw tooBig(file, max, limits, true);
      if (len === buf.length) break;
    }
    return buf.subarray(0, len).toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read lab file ${file}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
}

function tooBig(file: string, size: number, limits: Limits, atLeast = false): UsageError {
  return new UsageError(
    `lab file ${file} is ${atLeast ? 'more than ' : ''}${size} bytes; the limit is ${formatLimit('file-size', limits['file-size'])}`,
    { hint: raiseHint('file-size', atLeast ? limits['file-size'] * 2 : size) },
  );
}

/** Addresses written in one `address:` value (one, or a list); dhcp counts too: it becomes an address. */
function addressesOf(a: string | readonly string[] | undefined): number {
  return a === undefined ? 0 : typeof a === 'string' ? 1 : a.length;
}

/** Addresses on the interfaces of one node config. */
function interfaceAddresses(cfg: WrittenNodeConfig | null | undefined): number {
  let n = 0;
  for (const i of Object.values(cfg?.interfaces ?? {})) n += addressesOf(i.address);
  return n;
}

/** Services and DHCP servers in one node config. */
function servicesOf(cfg: WrittenNodeConfig | null | undefined): number {
  return (cfg?.services?.length ?? 0) + (cfg?.dhcp_servers?.length ?? 0);
}

/** Checks a list of written checks stands for, each matrix as the pairs it expands to (counted, not built). */
function checksOf(checks: readonly WrittenCheck[] | undefined, nodes: ReadonlySet<string>): number {
  let n = 0;
  for (const c of checks ?? []) {
    if (c.kind !== 'matrix') {
      n += 1;
      continue;
    }
    const groups = Object.entries(c.groups).map(([name, members]) => ({ name, members: members.map(memberText) }));
    for (const key of writtenKeys(c)) {
      const sides = parseMatrixKey(key);
      if (!sides) continue;
      const a = resolveSide({ groups }, sides.from, nodes);
      const b = resolveSide({ groups }, sides.to, nodes);
      if (!a || !b) continue;
      n += pairCount(a, b);
      if (sides.both && sides.from !== sides.to) n += pairCount(b, a);
    }
  }
  return n;
}

/** The pairs expandMatrix makes of sources × targets (address sources and pairs in one node left out), in linear time. */
function pairCount(sources: readonly string[], targets: readonly string[]): number {
  const perNode = new Map<string, number>();
  for (const t of targets) {
    const node = memberNode(t);
    if (node !== undefined) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  let n = 0;
  for (const s of sources) {
    if (isTargetOnly(s)) continue;
    const node = memberNode(s);
    n += targets.length - (node === undefined ? 0 : (perNode.get(node) ?? 0));
  }
  return n;
}

/**
 * Every limit the schema-valid lab exceeds, located at the collection that is too big. Runs right after the schema
 * pass, before normalize expands anything (a matrix is counted, not expanded), so nothing big is ever built.
 */
export function limitProblems(src: Pick<LabSource, 'problem'>, lab: WrittenLab, limits: Limits = activeLimits()): Problem[] {
  const out: Problem[] = [];
  const add = (key: LimitKey, at: Path, message: string | undefined, n: number) => {
    if (message) out.push(src.problem(at, message, raiseHint(key, n), true));
  };
  const nodeNames = new Set(Object.keys(lab.nodes));
  const nodes = nodeNames.size;
  add('nodes', ['nodes'], over('nodes', `lab has ${nodes} nodes`, nodes, limits), nodes);
  const links = lab.links?.length ?? 0;
  add('links', ['links'], over('links', `lab has ${links} links`, links, limits), links);
  const devices = (lab.bridges?.length ?? 0) + (lab.devices?.length ?? 0);
  add('devices', [lab.devices?.length ? 'devices' : 'bridges'], over('devices', `lab has ${devices} bridges and devices`, devices, limits), devices);
  const steps = lab.steps?.length ?? 0;
  add('steps', ['steps'], over('steps', `lab has ${steps} steps`, steps, limits), steps);

  let addresses = 0;
  for (const l of lab.links ?? []) for (const e of l.endpoints) addresses += typeof e === 'string' ? 0 : addressesOf(e.address);
  for (const d of [...(lab.bridges ?? []), ...(lab.devices ?? [])]) addresses += addressesOf(d.address);
  for (const cfg of Object.values(lab.nodes)) addresses += interfaceAddresses(cfg);
  for (const s of lab.steps ?? []) for (const cfg of Object.values(s.nodes ?? {})) addresses += interfaceAddresses(cfg);
  add('addresses', [lab.links?.length ? 'links' : 'nodes'], over('addresses', `lab has ${addresses} addresses`, addresses, limits), addresses);

  let services = 0;
  for (const cfg of Object.values(lab.nodes)) services += servicesOf(cfg);
  for (const s of lab.steps ?? []) for (const cfg of Object.values(s.nodes ?? {})) services += servicesOf(cfg);
  add('services', ['nodes'], over('services', `lab has ${services} services and DHCP servers`, services, limits), services);

  let checks = checksOf(lab.checks, nodeNames);
  for (const s of lab.steps ?? []) checks += checksOf(s.checks, nodeNames);
  add('checks', [lab.checks ? 'checks' : 'steps'], over('checks', `lab has ${checks} checks (a matrix counts each pair)`, checks, limits), checks);

  const bridges: [Path, { name: string; ports?: string[] | undefined }][] = [
    ...(lab.bridges ?? []).map((b, i): [Path, typeof b] => [['bridges', i], b]),
    ...(lab.devices ?? []).flatMap((d, i): [Path, { name: string; ports?: string[] | undefined }][] => (d.kind === 'bridge' ? [[['devices', i], d]] : [])),
  ];
  for (const [at, b] of bridges) {
    const ports = b.ports?.length ?? 0;
    if (ports <= FIXED_LIMITS.bridgePorts) continue;
    out.push(src.problem([...at, 'ports'], `bridge ${b.name} has ${ports} ports; a Linux bridge holds at most ${FIXED_LIMITS.bridgePorts}`, 'split the ports over several bridges joined by a veth link', true));
  }
  return out;
}
