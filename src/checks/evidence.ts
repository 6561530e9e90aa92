// What a teacher looks at when a check fails: the source's addresses and neighbours, the routes along the path to the
// target and back, and nftables rules that counted drops — plus findings in words ("ns2 has no route back to …").
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run, spawnWatched } from '../runner/exec.js';
import { pool } from '../runner/pool.js';
import type { CheckResult } from './result.js';

export interface Context {
  /** Conclusions, e.g. "ns2 has no route to 10.10.10.2" or "nat dropped 3 packets: ip daddr … counter drop". */
  findings: string[];
  addr: string;
  neigh: string;
  routes: Record<string, string>;
  nft: Record<string, string>;
}

/** Nodes beyond this many are not all asked for their routes (the source always is). */
const MAX_NODES = 24;

async function inNs(ns: string, argv: string[]): Promise<string> {
  const r = await run(inNamespace(ns, argv), { timeoutMs: 5000 });
  return (r.stdout + r.stderr).trim();
}

/** Rules whose counters show dropped or rejected packets, from `nft list ruleset` text. */
export function droppingRules(ruleset: string): { rule: string; packets: number }[] {
  return ruleset
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\b(drop|reject)\b|comment "policy drop"/.test(l))
    .map((l) => ({ rule: l, packets: Number(/counter packets (\d+)/.exec(l)?.[1] ?? 0) }))
    .filter((x) => x.packets > 0);
}

/** What `ip route get` said: the next hop (absent when directly connected), the source address, or no route. */
export interface RouteGet {
  unreachable: boolean;
  via?: string;
  src?: string;
}

/** Parses the text of `ip route get ADDRESS`. */
export function parseRouteGet(text: string): RouteGet {
  if (/unreachable|No route to host|prohibit/i.test(text) || !text.trim()) return { unreachable: true };
  const via = / via (\S+)/.exec(text)?.[1];
  const src = / src (\S+)/.exec(text)?.[1];
  return { unreachable: false, ...(via !== undefined ? { via } : {}), ...(src !== undefined ? { src } : {}) };
}

/** Addresses of an interface list as `ip -j addr` prints it (loopback and link-local left out). */
export function addressesOf(ipJson: string): string[] {
  try {
    return (JSON.parse(ipJson) as { addr_info?: { local?: string; scope?: string }[] }[])
      .flatMap((l) => l.addr_info ?? [])
      .filter((a) => a.local !== undefined && a.scope === 'global')
      .map((a) => a.local as string);
  } catch {
    return [];
  }
}

/** True when a ruleset rewrites source addresses (traffic beyond it comes from another address). */
const translatesSource = (ruleset: string | undefined) => ruleset !== undefined && /\b(masquerade|snat)\b/.test(ruleset);

/** Hops a path walk follows at most. */
const MAX_HOPS = 16;

/**
 * Collects the context of a check that did not hold: every node's addresses and ruleset, then a walk along the route
 * from the source towards the target (`ip route get` in each router), and the way back from each node on that path
 * up to the first one that translates source addresses.
 */
export async function collectContext(c: PlannedCheck, namespaces: readonly { node: string; ns: string }[]): Promise<Context> {
  const target = c.target && !c.target.startsWith('lease:') ? c.target : undefined;
  const asked = [...namespaces.filter((n) => n.ns === c.fromNs), ...namespaces.filter((n) => n.ns !== c.fromNs)].slice(0, MAX_NODES);
  const seen = await pool(asked, 8, async (n) => ({
    ...n,
    addr: await inNs(n.ns, ['ip', '-j', 'addr']),
    rules: await inNs(n.ns, ['nft', 'list', 'ruleset']),
  }));
  const owner = new Map(seen.flatMap((n) => addressesOf(n.addr).map((a) => [a, n] as const)));
  const findings: string[] = [];
  const routes: Record<string, string> = {};
  const nft: Record<string, string> = {};
  for (const n of seen) {
    if (!n.rules.includes('table')) continue;
    nft[n.node] = n.rules;
    for (const d of droppingRules(n.rules)) findings.push(`${n.node} dropped ${d.packets} packet(s) at: ${d.rule}`);
  }
  const from = seen[0];
  if (target && from) {
    // Forward: from router to router until the node that owns the target.
    const path: typeof seen = [];
    let here: (typeof seen)[number] | undefined = from;
    let source: string | undefined;
    while (here && !path.includes(here) && path.length < MAX_HOPS) {
      path.push(here);
      const text = await inNs(here.ns, ['ip', 'route', 'get', target]);
      routes[here.node] = `$ ip route get ${target}\n${text}`;
      const hop = parseRouteGet(text);
      source ??= hop.src;
      if (owner.get(target) === here) break;
      if (hop.unreachable) {
        findings.push(`${here.node} has no route to ${target}`);
        break;
      }
      here = owner.get(hop.via ?? target);
    }
    // Back: each node after the source needs a route to the source address, until one translates it.
    for (const n of path.slice(1)) {
      if (!source) break;
      const text = await inNs(n.ns, ['ip', 'route', 'get', source]);
      routes[n.node] = `${routes[n.node] ?? ''}\n$ ip route get ${source}\n${text}`;
      if (parseRouteGet(text).unreachable) findings.push(`${n.node} has no route back to ${source} (${c.from})`);
      if (translatesSource(nft[n.node])) break;
    }
  }
  const neigh = from ? await inNs(from.ns, ['ip', '-j', 'neigh']) : '';
  return { findings, addr: from?.addr ?? '', neigh, routes, nft };
}

/** Writes a failed check's evidence as files under `dir/<stage>/<n>-<kind>/`; returns that folder. */
export async function writeEvidence(dir: string, r: CheckResult, ctx: Context | undefined): Promise<string> {
  const folder = join(dir, r.stage, r.id.split('/')[1] + '-' + r.kind);
  await mkdir(folder, { recursive: true });
  const summary = [
    `check:    ${r.name}`,
    `expected: ${r.expected}`,
    `got:      ${r.got}: ${r.detail}`,
    ...(r.hint ? [`hint:     ${r.hint}`] : []),
    ...(ctx?.findings.length ? ['', 'findings:', ...ctx.findings.map((f) => `  - ${f}`)] : []),
  ];
  await writeFile(join(folder, 'summary.txt'), summary.join('\n') + '\n');
  await writeFile(join(folder, 'command.txt'), `$ ${r.evidence.argv.join(' ')}\nexit ${r.evidence.exitCode}\n--- stdout\n${r.evidence.stdout}\n--- stderr\n${r.evidence.stderr}`);
  if (ctx) {
    await writeFile(join(folder, 'addr.json'), ctx.addr + '\n');
    await writeFile(join(folder, 'neigh.json'), ctx.neigh + '\n');
    await writeFile(join(folder, 'routes.txt'), Object.entries(ctx.routes).map(([n, t]) => `# ${n}\n${t}\n`).join('\n'));
    for (const [node, text] of Object.entries(ctx.nft)) await writeFile(join(folder, `nft-${node}.txt`), text + '\n');
  }
  return folder;
}

/** How long a capture may live at most, even if netlab dies meanwhile (`timeout` ends tcpdump by itself). */
const CAPTURE_LIMIT_S = 20;

/**
 * Captures a pcap of one more run of a check: tcpdump on every interface of the source namespace, started and
 * listening before `again` runs, stopped right after. Returns why there is no capture, or undefined.
 */
export async function capture(c: PlannedCheck, file: string, again: () => Promise<unknown>, signal?: AbortSignal): Promise<string | undefined> {
  const argv = inNamespace(c.fromNs, ['timeout', '-s', 'INT', String(CAPTURE_LIMIT_S), 'tcpdump', '-i', 'any', '-n', '-U', '-Z', 'root', '-w', file]);
  const w = spawnWatched(argv, { ready: /listening on/, timeoutMs: (CAPTURE_LIMIT_S + 5) * 1000, ...(signal ? { signal } : {}) });
  if (!(await w.ready)) {
    const r = await w.stop();
    return r.spawnError ?? (r.stderr.trim() || 'tcpdump did not start');
  }
  try {
    await again();
  } finally {
    await w.stop();
  }
  return undefined;
}
