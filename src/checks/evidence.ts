// What a teacher looks at when a check fails: the source's addresses and neighbours, the routes along the path to the
// target and back, and the nftables rules that dropped its packets — plus findings in words ("ns2 has no route back …").
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { copyLabFile } from '../runner/lab-files.js';
import { join } from 'node:path';
import { addressKey } from '../lab/ip.js';
import { inNamespace } from '../plan/argv.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run, spawnWatched } from '../runner/exec.js';
import { labTempDir } from '../runner/lab-tmp.js';
import { pool } from '../runner/pool.js';
import { expectedText, gotText, type CheckResult } from './result.js';
import { readSysctlArgv } from './state.js';
import { printable } from '../printable.js';

/** A node as the evidence sees it: its namespace, `ip -j addr` and `nft list ruleset` (with counters). */
export interface NodeState {
  node: string;
  ns: string;
  addr: string;
  rules: string;
}

/** Everything written about one check that did not hold. */
export interface FailureEvidence {
  /** Conclusions, e.g. "ns2 has no route back to 10.10.10.2 (ns1)" or "nat dropped 3 packet(s) at: … drop". */
  findings: string[];
  /** `ip -j addr` and `ip -j neigh` of the source node. */
  addr: string;
  neigh: string;
  /** node → its `ip route get` lines along the path. */
  routes: Record<string, string>;
  /** node → its ruleset after the check ran once more. */
  nft: Record<string, string>;
}

/** Nodes beyond this many are not looked at (the sources of the checks come first). */
const MAX_NODES = 24;

async function inNs(ns: string, argv: string[], signal?: AbortSignal): Promise<string> {
  const r = await run(inNamespace(ns, argv), { timeoutMs: 5000, ...(signal ? { signal } : {}) });
  return (r.stdout + r.stderr).trim();
}

/** Reads every node's addresses and ruleset once (the checks' sources first), for all the checks of a phase that did not hold. */
export async function snapshot(namespaces: readonly { node: string; ns: string }[], sources: readonly string[], signal?: AbortSignal): Promise<NodeState[]> {
  const first = new Set(sources);
  const asked = [...namespaces.filter((n) => first.has(n.ns)), ...namespaces.filter((n) => !first.has(n.ns))].slice(0, MAX_NODES);
  return pool(asked, 8, async (n) => ({ ...n, addr: await inNs(n.ns, ['ip', '-j', 'addr'], signal), rules: await inNs(n.ns, ['nft', 'list', 'ruleset'], signal) }));
}

/** The rulesets of the nodes that have one, read again (their counters move). */
export async function readRulesets(nodes: readonly NodeState[], signal?: AbortSignal): Promise<Record<string, string>> {
  const withRules = nodes.filter((n) => n.rules.includes('table'));
  const texts = await pool(withRules, 8, (n) => inNs(n.ns, ['nft', 'list', 'ruleset'], signal));
  return Object.fromEntries(withRules.map((n, i) => [n.node, texts[i] ?? '']));
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

/** The drop rules whose counters went up from `before` to `after`: what dropped the packets of one run. */
export function newDrops(before: string, after: string): { rule: string; packets: number }[] {
  const bare = (rule: string) => rule.replace(/counter packets \d+ bytes \d+/, 'counter');
  const was = new Map(droppingRules(before).map((d) => [bare(d.rule), d.packets]));
  return droppingRules(after)
    .map((d) => ({ rule: bare(d.rule), packets: d.packets - (was.get(bare(d.rule)) ?? 0) }))
    .filter((d) => d.packets > 0);
}

/** True when a rule of the ruleset has dropped something in this run: only then is a check run again to see which. */
export function hasDropped(ruleset: string): boolean {
  return droppingRules(ruleset).length > 0;
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

/** The sysctl that says whether a node routes packets of the target's family. */
export function forwardingKey(target: string): string {
  return target.includes(':') ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward';
}

/** The finding for a router on the path whose forwarding sysctl reads `value` (undefined when it forwards). */
export function forwardingFinding(router: string, key: string, value: string, from: string, to: string): string | undefined {
  return value.trim() === '0' ? `${router} has forwarding off (${key}=0): it does not route between ${from} and ${to}` : undefined;
}

/**
 * Walks the route from the source towards the target (`ip route get` in each router up to the node that owns the
 * target), then the way back from each node on that path up to the first one that translates source addresses.
 * A router on the way that has forwarding off is named too.
 */
export async function walkPath(c: PlannedCheck, nodes: readonly NodeState[], signal?: AbortSignal): Promise<{ findings: string[]; routes: Record<string, string> }> {
  const findings: string[] = [];
  const routes: Record<string, string> = {};
  const target = c.target && !c.target.startsWith('lease:') ? c.target : undefined;
  const from = nodes.find((n) => n.ns === c.fromNs);
  if (!target || !from) return { findings, routes };
  const owner = new Map(nodes.flatMap((n) => addressesOf(n.addr).map((a) => [addressKey(a), n] as const)));
  const path: NodeState[] = [];
  /** Nodes past the source that have a route onwards: they must forward. */
  const routers: NodeState[] = [];
  let here: NodeState | undefined = from;
  let source: string | undefined;
  while (here && !path.includes(here) && path.length < MAX_HOPS) {
    path.push(here);
    const text = await inNs(here.ns, ['ip', 'route', 'get', target], signal);
    routes[here.node] = `$ ip route get ${target}\n${text}`;
    const hop = parseRouteGet(text);
    source ??= hop.src;
    if (owner.get(addressKey(target)) === here) break;
    if (hop.unreachable) {
      findings.push(`${here.node} has no route to ${target}`);
      break;
    }
    if (here !== from) routers.push(here);
    here = owner.get(addressKey(hop.via ?? target));
  }
  const key = forwardingKey(target);
  const to = owner.get(addressKey(target))?.node ?? target;
  for (const n of routers) {
    const found = forwardingFinding(n.node, key, await inNs(n.ns, readSysctlArgv(key), signal), c.from, to);
    if (found !== undefined) findings.push(found);
  }
  for (const n of path.slice(1)) {
    if (!source) break;
    const text = await inNs(n.ns, ['ip', 'route', 'get', source], signal);
    routes[n.node] = `${routes[n.node] ?? ''}\n$ ip route get ${source}\n${text}`;
    if (parseRouteGet(text).unreachable) findings.push(`${n.node} has no route back to ${source} (${c.from})`);
    if (translatesSource(n.rules)) break;
  }
  return { findings, routes };
}

/** The source node's neighbour table (`ip -j neigh`). */
export function neighbours(c: PlannedCheck, signal?: AbortSignal): Promise<string> {
  return inNs(c.fromNs, ['ip', '-j', 'neigh'], signal);
}

/** The folder a check's evidence goes to: `dir/<stage>/<n>-<kind>/`. */
export function evidenceFolder(dir: string, r: CheckResult): string {
  return join(dir, r.stage, r.id.split('/')[1] + '-' + r.kind);
}

/** Writes a failed check's evidence as files into its folder. */
export async function writeEvidence(folder: string, r: CheckResult, ev: FailureEvidence): Promise<void> {
  await mkdir(folder, { recursive: true });
  const summary = [
    `check:    ${r.name}`,
    `expected: ${expectedText(r)}`,
    `got:      ${gotText(r)}`,
    ...(r.hint ? [`hint:     ${r.hint}`] : []),
    ...(ev.findings.length ? ['', 'findings:', ...ev.findings.map((f) => `  - ${f}`)] : []),
  ];
  // The two text files are for reading in a terminal: control characters from the lab or a tool shown as escapes.
  await writeFile(join(folder, 'summary.txt'), printable(summary.join('\n'), '\n') + '\n');
  await writeFile(join(folder, 'command.txt'), printable(`$ ${r.evidence.argv.join(' ')}\nexit ${r.evidence.exitCode}\n--- stdout\n${r.evidence.stdout}\n--- stderr\n${r.evidence.stderr}`, '\n\t'));
  await writeFile(join(folder, 'addr.json'), ev.addr + '\n');
  await writeFile(join(folder, 'neigh.json'), ev.neigh + '\n');
  await writeFile(join(folder, 'routes.txt'), Object.entries(ev.routes).map(([n, t]) => `# ${n}\n${t}\n`).join('\n'));
  for (const [node, text] of Object.entries(ev.nft)) await writeFile(join(folder, `nft-${node}.txt`), text + '\n');
}

/** The largest capture netlab copies into an evidence folder (a sandbox's /tmp holds 64 MiB). */
const MAX_CAPTURE_BYTES = 128 * 1024 ** 2;

/** How long a capture may live at most, even if netlab dies meanwhile (`timeout` ends tcpdump by itself). */
const CAPTURE_LIMIT_S = 20;

/**
 * Captures a pcap of one more run of a check: tcpdump on every interface of the source namespace, started and
 * listening before `again` runs, stopped right after. Returns why there is no capture, or undefined.
 */
export async function capture(c: PlannedCheck, file: string, again: () => Promise<unknown>, signal?: AbortSignal): Promise<string | undefined> {
  // tcpdump writes where the lab's processes can (in a sandbox the evidence folder is read-only to them); netlab
  // copies the capture into the evidence folder afterwards.
  const tmp = await labTempDir('netlab-evidence-');
  const argv = inNamespace(c.fromNs, ['timeout', '-s', 'INT', String(CAPTURE_LIMIT_S), 'tcpdump', '-i', 'any', '-n', '-U', '-Z', 'root', '-w', join(tmp.lab, 'capture.pcap')]);
  try {
    const w = spawnWatched(argv, { ready: /listening on/, timeoutMs: (CAPTURE_LIMIT_S + 5) * 1000, ...(signal ? { signal } : {}) });
    if (!(await w.ready)) {
      const r = await w.stop();
      await again();
      return r.spawnError ?? (r.stderr.trim() || 'tcpdump did not start');
    }
    try {
      await again();
    } finally {
      await w.stop();
    }
    try {
      // Where the lab can write (a sandbox's /tmp): never through a symlink it put there, never more than a capture.
      copyLabFile(join(tmp.host, 'capture.pcap'), file, MAX_CAPTURE_BYTES);
    } catch (e) {
      return `tcpdump left no capture: ${(e as Error).message}`;
    }
    return undefined;
  } finally {
    await rm(tmp.host, { recursive: true, force: true });
  }
}
