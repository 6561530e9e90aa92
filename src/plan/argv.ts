// The ONLY file that knows ip/tc/nft/sysctl syntax: Op → words for `ip -batch`, argv arrays, and shell lines for `netlab plan`.
import type { FirewallRule } from '../lab/types.js';
import type { LinkSpec, Op, OpKind, Ruleset } from './ops.js';
import { fileURLToPath } from 'node:url';
import { nsPath } from './naming.js';
import { heredocDelimiter, isBareWord, shellCommand } from './shell.js';
import { printable } from '../printable.js';
import { sysctlValue } from '../lab/sysctls.js';
import { parseCidr } from '../lab/ip.js';
import { IFNAME } from '../lab/schema.js';

type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;

const routeWords = (o: OpOf<'route-add' | 'route-del'>, verb: 'add' | 'del' | 'replace'): string[] => [
  'route',
  verb,
  o.dst,
  ...(o.via !== undefined ? ['via', o.via] : []),
  ...(o.dev !== undefined ? ['dev', o.dev] : []),
  ...(o.metric !== undefined ? ['metric', String(o.metric)] : []),
];

/**
 * Where an op runs: an `ip` line in the root namespace (it names the target namespaces itself), an `ip` line
 * inside a namespace (phase 1 creates devices that go into another namespace, phase 2 is everything else),
 * a `tc` line inside a namespace, or a sysctl inside a namespace.
 */
export type Placement =
  | { where: 'root' }
  | { where: 'ns'; ns: string; phase: 1 | 2 }
  | { where: 'tc'; ns: string }
  | { where: 'nft'; ns: string }
  | { where: 'proc'; ns: string }
  | { where: 'sysctl'; ns: string };

const LINK_WORDS = {
  bridge: (n, s) => [
    'link', 'add', 'name', n, 'type', 'bridge', 'stp_state', s.stp ? '1' : '0',
    // forward_delay is in hundredths of a second.
    ...(s.forwardDelayMs !== undefined ? ['forward_delay', String(Math.round(s.forwardDelayMs / 10))] : []),
    ...(s.vlanFiltering ? ['vlan_filtering', '1'] : []),
  ],
  dummy: (n) => ['link', 'add', 'name', n, 'type', 'dummy'],
  tap: (n) => ['tuntap', 'add', 'dev', n, 'mode', 'tap'],
  tun: (n) => ['tuntap', 'add', 'dev', n, 'mode', 'tun'],
  macvlan: (n, s, into) => ['link', 'add', 'link', s.parent, 'name', n, ...(into ? ['netns', into] : []), 'type', 'macvlan', 'mode', s.mode],
  ipvlan: (n, s, into) => ['link', 'add', 'link', s.parent, 'name', n, ...(into ? ['netns', into] : []), 'type', 'ipvlan', 'mode', s.mode],
  vlan: (n, s) => ['link', 'add', 'link', s.parent, 'name', n, 'type', 'vlan', 'id', String(s.id)],
  vxlan: (n, s) => [
    'link', 'add', 'name', n, 'type', 'vxlan', 'id', String(s.id),
    ...(s.remote !== undefined ? ['remote', s.remote] : []),
    ...(s.local !== undefined ? ['local', s.local] : []),
    ...(s.dev !== undefined ? ['dev', s.dev] : []),
    'dstport', String(s.port),
  ],
} satisfies { [T in LinkSpec['type']]: (name: string, spec: Extract<LinkSpec, { type: T }>, into?: string) => string[] };

const netemWords = (o: OpOf<'netem-add'>): string[] => [
  'qdisc', o.replace ? 'replace' : 'add', 'dev', o.ifname, 'root', 'netem',
  ...(o.netem.delayMs !== undefined ? ['delay', `${o.netem.delayMs}ms`, ...(o.netem.jitterMs !== undefined ? [`${o.netem.jitterMs}ms`] : [])] : []),
  ...(o.netem.lossPercent !== undefined ? ['loss', `${o.netem.lossPercent}%`] : []),
  ...(o.netem.rate !== undefined ? ['rate', o.netem.rate] : []),
];

/**
 * `ip` words (after `ip`, without `-n`) for every kind; sysctl and tc ops have none. Interface names always follow
 * `dev` or `name`, so a name that is also an ip keyword (an interface called `up`) is never misread.
 */
const IP_WORDS = {
  'netns-add': (o) => ['netns', 'add', o.ns],
  'netns-del': (o) => ['netns', 'del', o.ns],
  'veth-add': (o) => ['link', 'add', 'name', o.ifname, 'netns', o.ns, 'index', String(o.index), 'type', 'veth', 'peer', 'name', o.peer, 'netns', o.peerNs],
  'link-add': (o) => (LINK_WORDS[o.spec.type] as (n: string, s: LinkSpec, into?: string) => string[])(o.ifname, o.spec, o.into),
  'link-set': (o) => ['link', 'set', 'dev', o.ifname, ...(o.mtu !== undefined ? ['mtu', String(o.mtu)] : []), ...(o.mac !== undefined ? ['address', o.mac] : [])],
  'link-del': (o) => ['link', 'del', 'dev', o.ifname],
  'neigh-add': (o) => ['neigh', 'replace', o.address, 'lladdr', o.mac, 'dev', o.ifname, 'nud', 'permanent'],
  'link-master': (o) => ['link', 'set', 'dev', o.ifname, 'master', o.master],
  'link-nomaster': (o) => ['link', 'set', 'dev', o.ifname, 'nomaster'],
  'link-up': (o) => ['link', 'set', 'dev', o.ifname, 'up'],
  'link-down': (o) => ['link', 'set', 'dev', o.ifname, 'down'],
  // IPv6 addresses skip duplicate address detection, so they are usable at once (no tentative state racing checks).
  'addr-add': (o) => ['addr', o.replace ? 'replace' : 'add', o.cidr, 'dev', o.ifname, ...(o.cidr.includes(':') ? ['nodad'] : [])],
  'addr-del': (o) => ['addr', 'del', o.cidr, 'dev', o.ifname],
  'route-add': (o) => routeWords(o, o.replace ? 'replace' : 'add'),
  'route-del': (o) => routeWords(o, 'del'),
  'netem-add': () => undefined,
  'netem-del': () => undefined,
  'nft-apply': () => undefined,
  'nft-delete': () => undefined,
  'service-start': () => undefined,
  'dhcp-server': () => undefined,
  'dns-server': () => undefined,
  'tunnel-start': () => undefined,
  'dhcp-client': () => undefined,
  'proc-stop': () => undefined,
  sysctl: () => undefined,
} satisfies { [K in OpKind]: (op: OpOf<K>) => string[] | undefined };

const ROOT_KINDS: ReadonlySet<OpKind> = new Set(['netns-add', 'netns-del', 'veth-add']);

/** `tc` words for the ops that run through `tc`. */
export function tcWords(op: Op): string[] {
  if (op.kind === 'netem-add') return netemWords(op);
  if (op.kind === 'netem-del') return ['qdisc', 'del', 'dev', op.ifname, 'root'];
  throw new Error(`op ${op.kind} is not a tc command`);
}

/** Where `op` has to run. */
export function placement(op: Op): Placement {
  if (op.kind === 'sysctl') return { where: 'sysctl', ns: op.ns };
  if (op.kind === 'netem-add' || op.kind === 'netem-del') return { where: 'tc', ns: op.ns };
  if (op.kind === 'nft-apply' || op.kind === 'nft-delete') return { where: 'nft', ns: op.ns };
  if (op.kind === 'service-start' || op.kind === 'proc-stop' || op.kind === 'dhcp-server' || op.kind === 'dns-server' || op.kind === 'tunnel-start' || op.kind === 'dhcp-client') return { where: 'proc', ns: op.ns };
  if (ROOT_KINDS.has(op.kind)) return { where: 'root' };
  return { where: 'ns', ns: op.ns, phase: op.kind === 'link-add' && op.into !== undefined ? 1 : 2 };
}

/** The `ip` words of an op that runs through `ip`. */
export function ipWords(op: Op): string[] {
  const words = (IP_WORDS[op.kind] as (o: Op) => string[] | undefined)(op);
  if (!words) throw new Error(`op ${op.kind} is not an ip command`);
  return words;
}

/**
 * A word of an `ip`/`tc` batch line. Those split lines at blanks, read quotes and backslashes and stop at `#`, so
 * a word must consist of safe characters only; lab names are validated to be such words, and this guards it.
 */
function batchWord(word: string): string {
  if (!isBareWord(word)) throw new Error(`internal: ${JSON.stringify(word)} cannot be a word of a batch line`);
  return word;
}

/** Text for `ip -batch -` (or `tc -batch -` with tcWords): one op per line, every word a plain word. */
export function batchText(ops: readonly Op[], words: (op: Op) => string[] = ipWords): string {
  return ops.map((o) => words(o).map(batchWord).join(' ')).join('\n') + '\n';
}

/** argv of a command run inside a namespace (nsenter stays fast as namespaces accumulate; `ip -n` does not). */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${nsPath(ns)}`, '--', ...argv];
}

/** argv of `ip -batch -`: applies the ip ops given on stdin, stopping at the first that fails (with `force`, going on). */
export function ipBatchArgv(force = false): string[] {
  return ['ip', ...(force ? ['-force'] : []), '-batch', '-'];
}

const fam = (addr: string) => (addr.includes(':') ? 'ip6' : 'ip');
/** An interface name as an nft string (validated names have no quote, blank or backslash; this guards it). */
const q = (ifname: string) => `"${batchWord(ifname)}"`;

function natRule(n: Ruleset['nat'][number]): string[] {
  const match = [
    ...(n.out !== undefined ? [`oifname ${q(n.out)}`] : []),
    ...(n.src !== undefined ? [`${fam(n.src)} saddr ${n.src}`] : []),
    ...(n.dst !== undefined ? [`${fam(n.dst)} daddr ${n.dst}`] : []),
  ];
  const exceptions = n.except.map((e) => [...match, `${fam(e)} daddr ${e}`, 'return'].join(' '));
  const action = n.kind === 'masquerade' ? 'masquerade' : `snat ${fam(n.to ?? '')} to ${n.to}`;
  return [...exceptions, [...match, action].join(' ')];
}

function forwardRule(f: Ruleset['forwards'][number], hook: 'prerouting' | 'output'): string {
  const target = f.toAddress.includes(':') ? `[${f.toAddress}]:${f.toPort}` : `${f.toAddress}:${f.toPort}`;
  return [
    ...(hook === 'prerouting' && f.in !== undefined ? [`iifname ${q(f.in)}`] : []),
    f.dst !== undefined ? `${fam(f.dst)} daddr ${f.dst}` : 'fib daddr type local',
    `${f.proto} dport ${f.port}`,
    `dnat ${fam(f.toAddress)} to ${target}`,
  ].join(' ');
}

function filterRule(r: FirewallRule): string {
  const proto =
    r.port !== undefined ? [`${r.proto} dport ${r.port}`] : r.proto === 'icmpv6' ? ['meta l4proto ipv6-icmp'] : r.proto ? [`meta l4proto ${r.proto}`] : [];
  return [
    ...(r.in !== undefined ? [`iifname ${q(r.in)}`] : []),
    ...(r.out !== undefined ? [`oifname ${q(r.out)}`] : []),
    ...(r.src !== undefined ? [`${fam(r.src)} saddr ${r.src}`] : []),
    ...(r.dst !== undefined ? [`${fam(r.dst)} daddr ${r.dst}`] : []),
    ...proto,
    // Counters let evidence name the rule that dropped a failing check's packets.
    'counter',
    r.action,
  ].join(' ');
}

/** The nft script that atomically replaces the namespace's `inet netlab` table (one `nft -f`). */
export function nftText(op: Op): string {
  if (op.kind === 'nft-delete') return 'table inet netlab {}\ndelete table inet netlab\n';
  if (op.kind !== 'nft-apply') throw new Error(`op ${op.kind} is not an nft command`);
  const r = op.ruleset;
  const chain = (name: string, head: string, rules: string[]) => [`  chain ${name} {`, `    ${head}`, ...rules.map((l) => `    ${l}`), '  }'];
  const body: string[] = [];
  if (r.forwards.length) {
    body.push(...chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', r.forwards.map((f) => forwardRule(f, 'prerouting'))));
    body.push(...chain('output', 'type nat hook output priority -100; policy accept;', r.forwards.map((f) => forwardRule(f, 'output'))));
  }
  if (r.nat.length) body.push(...chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', r.nat.flatMap(natRule)));
  for (const c of r.chains) {
    body.push(
      ...chain(c.hook, `type filter hook ${c.hook} priority filter; policy ${c.policy};`, [
        ...(c.established ? ['ct state established,related accept'] : []),
        ...c.rules.map(filterRule),
        // Counts what falls through to the policy, so a policy drop shows up in the evidence too.
        ...(c.policy === 'drop' ? [`counter comment "policy drop"`] : []),
      ]),
    );
  }
  return ['table inet netlab {}', 'delete table inet netlab', 'table inet netlab {', ...body, '}', ''].join('\n');
}

/** The tools a namespace's work goes through, in the order they run within a stage. */
export const TOOLS = ['ip', 'tc', 'nft', 'sysctl'] as const;
export type Tool = (typeof TOOLS)[number];

/** Which tool applies an op (services are started by netlab itself, not through a tool). */
export function toolOf(op: Op): Tool | undefined {
  const p = placement(op);
  return p.where === 'root' || p.where === 'ns' ? 'ip' : p.where === 'proc' ? undefined : p.where;
}

/** The content of a job file that applies `ops` with `tool` (ip/tc batch lines, an nft script, sysctl.conf lines). */
export function jobText(tool: Tool, ops: readonly Op[]): string {
  switch (tool) {
    case 'ip':
      return batchText(ops);
    case 'tc':
      return batchText(ops, tcWords);
    case 'nft':
      return ops.map(nftText).join('');
    case 'sysctl':
      return ops.map(sysctlLine).join('');
  }
}

/**
 * One `sysctl -p` line. The key must be on the allow-list and the value an integer in its range (the schema
 * refused anything else): a line break or `/` here would set any sysctl, including the host's, so it is checked
 * again where the line is made.
 */
function sysctlLine(op: Op): string {
  if (op.kind !== 'sysctl') return '';
  const v = sysctlValue(op.key, op.value);
  if ('problem' in v) throw new Error(`internal: refusing sysctl line ${JSON.stringify(`${op.key} = ${op.value}`)}: ${v.problem}`);
  return `${op.key} = ${v.text}\n`;
}

/** The three words that run a job file inside a namespace (after `nsenter --net=PATH`). */
export function jobWords(tool: Tool, file: string): [string, string, string] {
  return ({ ip: ['ip', '-batch', file], tc: ['tc', '-batch', file], nft: ['nft', '-f', file], sysctl: ['sysctl', '-qp', file] } as const)[tool] as [string, string, string];
}

/**
 * argv of one process that runs many namespaces' job files, a few at a time: xargs forks `nsenter --net=PATH
 * TOOL FLAG FILE` for each group of four NUL-separated words on stdin. Spawning from a small C process is far
 * cheaper than from node (each node spawn costs ~4 ms of main-thread time).
 */
export function fanOutArgv(parallel: number): string[] {
  return ['xargs', '-0', '-n', '4', '-P', String(parallel), 'nsenter'];
}

/** stdin for fanOutArgv: the four words per job. */
export function fanOutInput(jobs: readonly { ns: string; tool: Tool; file: string }[]): string {
  return jobs.map((j) => [`--net=${nsPath(j.ns)}`, ...jobWords(j.tool, j.file)].join('\0') + '\0').join('');
}

/** netlab's service server (src/services/server.ts), next to this file once built. */
export const SERVER_JS = fileURLToPath(new URL('../services/server.js', import.meta.url));

/** argv of the service server for a service-start op; `clientLog` collects the client addresses it saw. */
export function serviceArgv(op: Op, clientLog: string): string[] {
  if (op.kind !== 'service-start') throw new Error(`op ${op.kind} starts no service`);
  const flags = op.services.flatMap((s) => [`--${s.kind}`, String(s.port)]);
  return inNamespace(op.ns, [process.execPath, SERVER_JS, '--node', op.node, ...flags, '--log', clientLog]);
}

/** dnsmasq as a DHCP server only (no DNS, no config file, no pid file), in the foreground so netlab owns its pid. */
export function dhcpServerArgv(op: Op, files: { leases: string; log: string }): string[] {
  if (op.kind !== 'dhcp-server') throw new Error(`op ${op.kind} is not a DHCP server`);
  return inNamespace(op.ns, [
    'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0',
    // --no-ping: dnsmasq would otherwise ping each address before offering it and the client gives up meanwhile.
    '--no-ping', `--interface=${op.ifname}`, '--bind-interfaces',
    `--dhcp-range=${op.start},${op.end},${op.netmask},${op.leaseSecs}`,
    ...(op.gateway === null ? ['--dhcp-option=3'] : op.gateway !== undefined ? [`--dhcp-option=option:router,${op.gateway}`] : []),
    ...(op.dns.length ? [`--dhcp-option=option:dns-server,${op.dns.join(',')}`] : []),
    // --user=root keeps root; an empty --group= changes no group (a box an unprivileged user makes denies setgroups).
    `--dhcp-leasefile=${files.leases}`, '--pid-file=', `--log-facility=${files.log}`, '--log-dhcp', '--user=root', '--group=',
  ]);
}

/**
 * dnsmasq as a DNS server only (no DHCP, no config file, no pid file), in the foreground so netlab owns its pid:
 * it answers the host records, and `--local=/#/` makes every other name NXDOMAIN (no upstream, ever).
 */
export function dnsServerArgv(op: Op, log: string): string[] {
  if (op.kind !== 'dns-server') throw new Error(`op ${op.kind} is not a DNS server`);
  return inNamespace(op.ns, [
    'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--local=/#/', `--port=${op.port}`,
    ...op.records.map((r) => `--host-record=${r.name},${r.address}`),
    '--pid-file=', `--log-facility=${log}`, '--log-queries', '--user=root', '--group=',
  ]);
}

/**
 * socat as a tunnel, in the foreground so netlab owns its pid: it opens the existing tun/tap device (TUNSETIFF on
 * /dev/net/tun with the device's name — the device gets carrier then) and copies each packet or frame it reads into
 * one UDP datagram to peer:port, and each datagram arriving on local:port into the device, the way OpenVPN (tun) or
 * QEMU's socket netdev (tap) do. `-d -d` makes it say "starting data transfer loop" once both ends are open, which is
 * what netlab waits for. Every word is checked again here: this argv is the one place lab data meets socat's syntax.
 */
export function tunnelArgv(op: Op): string[] {
  if (op.kind !== 'tunnel-start') throw new Error(`op ${op.kind} is not a tunnel`);
  const peer = parseCidr(op.peer);
  const local = op.local === undefined ? undefined : parseCidr(op.local);
  const plain = (a: string) => /^[0-9A-Fa-f.:]+$/.test(a);
  if (!IFNAME.test(op.device) || !peer || op.peer.includes('/') || !plain(op.peer) || (op.local !== undefined && (!local || !plain(op.local) || local.family !== peer.family)) || !Number.isInteger(op.port) || op.port < 1 || op.port > 65535) {
    throw new Error(`internal: refusing tunnel words ${JSON.stringify([op.device, op.peer, op.local, op.port])}`);
  }
  const v6 = peer.family === 6;
  const host = (a: string) => (v6 ? `[${a}]` : a);
  return inNamespace(op.ns, [
    'socat', '-d', '-d',
    `TUN,tun-name=${op.device},tun-type=${op.type},iff-no-pi`,
    `UDP${v6 ? 6 : 4}-DATAGRAM:${host(op.peer)}:${op.port},bind=${host(op.local ?? (v6 ? '::' : '0.0.0.0'))}:${op.port}`,
  ]);
}

/** argv of the dig a dns check runs: `dig @SERVER -p PORT NAME TYPE`, one try, `+time` in whole seconds (dig's minimum is 1). */
export function digArgv(ns: string, q: { server: string; port: number; name: string; type: 'A' | 'AAAA'; timeoutMs: number }): string[] {
  const secs = String(Math.max(1, Math.ceil(q.timeoutMs / 1000)));
  return inNamespace(ns, ['dig', `@${q.server}`, '-p', String(q.port), `+time=${secs}`, '+tries=1', q.name, q.type]);
}

/** The udhcpc script netlab uses: it prints the lease and changes nothing (netlab applies it; no resolv.conf edits). */
export const UDHCPC_HOOK = fileURLToPath(new URL('../../libexec/udhcpc-hook', import.meta.url));

/** udhcpc asking once for a lease (5 tries, 1 s apart) and exiting. */
export function dhcpClientArgv(op: Op): string[] {
  if (op.kind !== 'dhcp-client') throw new Error(`op ${op.kind} is not a DHCP client`);
  return inNamespace(op.ns, ['udhcpc', '-i', op.ifname, '-f', '-q', '-n', '-t', '5', '-T', '1', '-A', '1', '-s', UDHCPC_HOOK]);
}

/** An argv as a learner would type it: `nsenter --net=/run/netns/NS -- …` becomes `ip netns exec NS …`. */
function asTyped(argv: readonly string[]): string[] {
  const [first, net, sep, ...rest] = argv;
  if (first === 'nsenter' && net?.startsWith('--net=/run/netns/') && sep === '--') return ['ip', 'netns', 'exec', net.slice('--net=/run/netns/'.length), ...rest];
  return [...argv];
}

/** What the plan script runs for one op: a command, the text it reads on stdin, whether it runs in the background, a note after it. */
export interface ShellStep {
  argv: string[];
  stdin?: string;
  background?: boolean;
  note?: string;
}

/** The command the plan script runs for `op`; undefined for ops that are only a comment there (stopping a process). */
export function shellStep(op: Op): ShellStep | undefined {
  const p = placement(op);
  if (op.kind === 'sysctl') return { argv: ['ip', 'netns', 'exec', op.ns, 'sysctl', '-qw', `${op.key}=${op.value}`] };
  if (p.where === 'tc') return { argv: ['tc', '-n', p.ns, ...tcWords(op)] };
  if (op.kind === 'service-start') return { argv: asTyped(serviceArgv(op, `${op.node}.clients.jsonl`).map((w) => (w === process.execPath ? 'node' : w))), background: true };
  if (op.kind === 'dhcp-server') return { argv: asTyped(dhcpServerArgv(op, { leases: `${op.node}.${op.ifname}.leases`, log: `${op.node}.${op.ifname}.dnsmasq.log` })), background: true };
  if (op.kind === 'dns-server') return { argv: asTyped(dnsServerArgv(op, `${op.node}.dns${op.port}.dnsmasq.log`)), background: true };
  if (op.kind === 'tunnel-start') return { argv: asTyped(tunnelArgv(op)), background: true };
  if (op.kind === 'dhcp-client') {
    const then = `${shellCommand(['ip', '-n', op.ns, 'addr', 'add', 'LEASE', 'dev', op.ifname])}; ${shellCommand(['ip', '-n', op.ns, 'route', 'add', 'default', 'via', 'ROUTER'])}`;
    return { argv: asTyped(dhcpClientArgv(op)), note: `then: ${then}` };
  }
  if (op.kind === 'proc-stop') return undefined;
  if (p.where === 'nft') return { argv: ['ip', 'netns', 'exec', p.ns, 'nft', '-f', '-'], stdin: nftText(op) };
  return { argv: p.where === 'ns' ? ['ip', '-n', p.ns, ...ipWords(op)] : ['ip', ...ipWords(op)] };
}

/**
 * One shell line a learner could type for this op (stdin as a quoted heredoc), inert whatever the lab says: every
 * word is quoted as needed, the heredoc delimiter equals no line of its text, notes are escaped comments.
 */
export function shellLine(op: Op): string {
  const step = shellStep(op);
  if (op.kind === 'proc-stop' || !step) return `# ${printable(op.kind === 'proc-stop' ? `stop the ${op.what} of ${op.node} (kill its pid)` : `(${op.kind})`)}`;
  const delim = step.stdin !== undefined ? heredocDelimiter(step.stdin, 'NFT') : undefined;
  let line = shellCommand(step.argv);
  if (delim !== undefined) line += ` <<'${delim}'`;
  if (step.background) line += ' &';
  if (step.note !== undefined) line += `   # ${printable(step.note)}`;
  if (step.stdin !== undefined) line += `\n${step.stdin.endsWith('\n') ? step.stdin : `${step.stdin}\n`}${delim}`;
  return line;
}
