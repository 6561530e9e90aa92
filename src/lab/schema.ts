// The lab file format v1 as a zod schema: what the user may write (WrittenLab). Also emits the JSON Schema.
import { z } from './zod.js';
import { parseCidr } from './ip.js';
import { parseDuration } from './duration.js';
import { sysctlKeyProblem, sysctlSpec, sysctlValue } from './sysctls.js';
import { isPrintable } from '../printable.js';

/** Node names become namespace names `netlab-<instance>-<node>`: no dashes, so the split is unambiguous. */
export const NODE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Linux interface names: at most 15 characters (IFNAMSIZ - 1) from a safe set. */
export const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** Lab and step names: lower-case words joined by dashes. */
export const SLUG = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Why a DNS name is not acceptable (labels of letters, digits, - and _, at most 253 characters), or undefined. */
export function dnsNameProblem(name: string): string | undefined {
  const label = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
  if (name.length <= 253 && name.split('.').every((l) => label.test(l))) return undefined;
  return `"${name}" is not a DNS name: dot-separated labels of letters, digits, - and _ (at most 63 characters each, no leading or trailing -), e.g. www.lab.test`;
}

const ifname = z.string().superRefine((s, ctx) => {
  const problem = ifnameProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const cidr = z.string().refine((s) => s === 'dhcp' || parseCidr(s, true) !== undefined, {
  error: (iss) => `"${String(iss.input)}" is not an address with a prefix length (e.g. 10.0.0.1/24 or 2001:db8::1/64) or "dhcp"`,
});

const ipAddress = z.string().refine((s) => parseCidr(s) !== undefined && !s.includes('/'), {
  error: (iss) => `"${String(iss.input)}" is not an IP address`,
});

const destination = z.string().refine((s) => s === 'default' || parseCidr(s) !== undefined, {
  error: (iss) => `"${String(iss.input)}" is not a destination: use a prefix like 10.10.20.0/24, an address, or "default"`,
});

/** Why an interface name is not acceptable, or undefined when it is. */
export function ifnameProblem(name: string): string | undefined {
  if (IFNAME.test(name)) return undefined;
  return name.length > 15
    ? `interface name "${name}" is ${name.length} characters; Linux allows at most 15`
    : `interface name "${name}" may only contain A-Z a-z 0-9 _ . -`;
}

const endpointRef = z.string().superRefine((s, ctx) => {
  const m = /^([^:\s]+):([^:\s]+)$/.exec(s);
  if (!m) return ctx.addIssue({ code: 'custom', message: `"${s}" is not an endpoint: write node:ifname, e.g. ns1:v1` });
  const problem = ifnameProblem(m[2] as string);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The error of a `kind`-discriminated union: a missing or unknown kind, listing the valid ones (read lazily: they are declared later). */
function kindError(what: string, kinds: () => readonly string[]) {
  return (iss: { code: string; input?: unknown }): string | undefined => {
    if (iss.code !== 'invalid_union') return undefined;
    const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
    return kind === undefined
      ? `missing required key "kind": valid kinds are ${kinds().join(', ')}`
      : `unknown ${what} kind ${JSON.stringify(kind)}: valid kinds are ${kinds().join(', ')}`;
  };
}

const duration = z.union([z.number(), z.string()]).refine((v) => parseDuration(v) !== undefined, {
  error: (iss) => `"${String(iss.input)}" is not a duration: write e.g. 500ms, 2s or a number of seconds`,
});

const addresses = z.union([cidr, z.array(cidr)]);

/**
 * Allowed keys → integers in the key's documented range (booleans for 0/1); the hint lists the range. Keys and
 * values are checked in one pass, so a bad key does not hide a bad value next to it.
 */
const sysctls = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).superRefine((rec, ctx) => {
  for (const [key, value] of Object.entries(rec)) {
    const keyProblem = sysctlKeyProblem(key);
    if (keyProblem) ctx.addIssue({ code: 'invalid_key', origin: 'record', issues: [], input: key, path: [key], message: keyProblem });
    else if (sysctlSpec(key)) {
      const v = sysctlValue(key, value);
      if ('problem' in v) ctx.addIssue({ code: 'custom', path: [key], message: v.problem, params: { hint: v.hint } });
    }
  }
});

export const RouteSchema = z.strictObject({
  dst: destination.describe('Destination prefix, address, or "default".'),
  via: ipAddress.optional().describe('Gateway address; must be on a subnet the node is connected to.'),
  dev: ifname.optional().describe('Output interface of this node.'),
  metric: z.int().min(0).max(0xffffffff).optional(),
});

const percent = z.union([z.number(), z.string()]).refine((v) => parsePercent(v) !== undefined, {
  error: (iss) => `"${String(iss.input)}" is not a percentage: write e.g. 5% or 5`,
});

const rate = z.string().regex(/^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps)$/, 'a rate like 10mbit, 512kbit or 1gbit');

/** Percentages: `5%`, `5`, `0.5%` → number, or undefined when malformed or out of 0..100. */
export function parsePercent(v: string | number): number | undefined {
  const n = typeof v === 'number' ? v : /^\d+(\.\d+)?%?$/.test(v.trim()) ? Number.parseFloat(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

export const NetemSchema = z.strictObject({
  delay: duration.optional().describe('Added one-way delay, e.g. 50ms.'),
  jitter: duration.optional().describe('Delay variation, e.g. 10ms (needs delay).'),
  loss: percent.optional().describe('Random packet loss, e.g. 10%.'),
  rate: rate.optional().describe('Bandwidth limit, e.g. 10mbit.'),
});

export const InterfaceSchema = z.strictObject({
  address: addresses.optional().describe('Address(es) with prefix length, e.g. 10.10.10.1/24 or 2001:db8::1/64.'),
  mtu: z.int().min(68).max(65535).optional(),
  mac: z
    .string()
    .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'a MAC address like 02:00:00:00:00:01')
    .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'a multicast MAC cannot be an interface address (first octet must be even)')
    .optional(),
  netem: NetemSchema.optional().describe('Impairments on egress of this interface (tc netem).'),
  up: z
    .boolean()
    .optional()
    .describe('false sets the interface down (ip link set dev IF down), e.g. in a step that unplugs an adapter; true sets it up again.'),
});

const prefixOrAddress = z.string().refine((s) => parseCidr(s) !== undefined, {
  error: (iss) => `"${String(iss.input)}" is not an address or prefix`,
});
const port = z.int().min(1).max(65535);
const hostPort = z.string().superRefine((s, ctx) => {
  const m = /^(.+):(\d{1,5})$/.exec(s);
  const addr = m?.[1]?.replace(/^\[|\]$/g, '');
  if (!m || !addr || parseCidr(addr) === undefined || addr.includes('/') || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not address:port (e.g. 10.0.2.15:22)` });
  }
});

/** Source NAT: masquerade (to the outgoing interface's address) or SNAT to a fixed address. */
export const NatSchema = z
  .strictObject({
    masquerade: z.boolean().optional().describe('Rewrite the source to the outgoing interface\'s address.'),
    snat: ipAddress.optional().describe('Rewrite the source to this fixed address.'),
    src: prefixOrAddress.optional().describe('Only packets from this prefix.'),
    dst: prefixOrAddress.optional().describe('Only packets to this prefix.'),
    out: ifname.optional().describe('Only packets leaving through this interface.'),
    except: z.array(prefixOrAddress).optional().describe('Destinations left untranslated (the RETURN rules of libvirt).'),
  })
  .refine((n) => (n.masquerade === true) !== (n.snat !== undefined), {
    error: 'a nat rule needs exactly one of masquerade: true or snat: ADDRESS',
  });

/** DNAT port forward: connections to [dst:]port arriving [on in] go to address:port. */
export const ForwardSchema = z.strictObject({
  proto: z.enum(['tcp', 'udp']).default('tcp').optional(),
  port: port.describe('The port connections arrive on.'),
  to: hostPort.describe('Where they go: address:port.'),
  dst: ipAddress.optional().describe('Only connections to this address of the node (default: any of its addresses).'),
  in: ifname.optional().describe('Only connections arriving on this interface.'),
});

export const FirewallRuleSchema = z.strictObject({
  action: z.enum(['accept', 'drop', 'reject']),
  src: prefixOrAddress.optional(),
  dst: prefixOrAddress.optional(),
  proto: z.enum(['tcp', 'udp', 'icmp', 'icmpv6']).optional(),
  port: port.optional().describe('Destination port (needs proto tcp or udp).'),
  in: ifname.optional(),
  out: ifname.optional(),
});

const ChainSchema = z.strictObject({
  policy: z.enum(['accept', 'drop']).default('accept').optional(),
  established: z.boolean().default(true).optional().describe('Accept replies of allowed connections first (default true).'),
  rules: z.array(FirewallRuleSchema).optional(),
});

export const FirewallSchema = z.strictObject({
  forward: ChainSchema.optional().describe('Traffic the node routes.'),
  input: ChainSchema.optional().describe('Traffic to the node itself.'),
});

/** A DHCP server (dnsmasq) on one interface of the node. */
export const DhcpServerSchema = z.strictObject({
  interface: ifname.describe('The interface it serves; needs a static address, whose subnet the range must lie in.'),
  range: z.tuple([ipAddress, ipAddress]).describe('First and last address handed out.'),
  gateway: z
    .union([ipAddress, z.literal('none')])
    .optional()
    .describe('Default gateway handed out: an address, or none (VMware host-only); default: the server\'s own address.'),
  dns: z.array(ipAddress).optional().describe('DNS servers handed out.'),
  lease: duration.optional().describe('Lease time (default 1h; at least 2m).'),
});

/** Every service kind, in the order the docs list them. */
export const SERVICE_KINDS = ['http', 'tcp-echo', 'udp-echo', 'dns', 'tunnel'] as const;

/**
 * A service in the node: netlab's own server program (http, tcp-echo, udp-echo), a DNS server (dnsmasq), or a
 * tunnel (socat holding a tun/tap device of the node and carrying its packets or frames over UDP to a peer).
 */
export const ServiceSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.enum(['http', 'tcp-echo', 'udp-echo']).describe('http answers with its node name and the client address it saw.'),
      port: port,
    }),
    z.strictObject({
      kind: z.literal('dns').describe('A DNS server (dnsmasq) answering for the names in records, NXDOMAIN for any other.'),
      port: port.optional().describe('UDP and TCP port (default 53).'),
      records: z
        .record(z.string(), z.string())
        .describe('Name → an address, a node (its first address) or node:ifname, e.g. { www.lab.test: internet }.'),
    }),
    z.strictObject({
      kind: z.literal('tunnel').describe('A userspace program (socat) holds a tun or tap device of this node and carries what it reads over UDP to a peer, the way OpenVPN (tun) or QEMU (tap) do.'),
      device: ifname.describe('The tun or tap device of this node the program opens (it gets carrier then).'),
      peer: z.string().describe('Where the UDP datagrams go: the other end\'s underlay address, a node (its first address) or node:ifname.'),
      port: port.optional().describe('UDP port on both ends (default 1194, OpenVPN\'s).'),
      local: ipAddress.optional().describe('Address of this node to send from and listen on (default: any).'),
    }),
  ],
  { error: kindError('service', () => SERVICE_KINDS) },
);

/** What a node may say: used both at the top level and inside steps (which add to it). */
export const NodeConfigSchema = z.strictObject({
  description: z.string().optional(),
  forwarding: z.boolean().optional().describe('Shortcut for net.ipv4.ip_forward and net.ipv6.conf.all.forwarding.'),
  sysctls: sysctls.optional().describe('Allowed sysctls (docs/lab-format.md#sysctls) → an integer in the key\'s range, or true/false.'),
  interfaces: z.record(ifname, InterfaceSchema).optional().describe('Addresses per interface of this node.'),
  routes: z.array(RouteSchema).optional(),
  nat: z.array(NatSchema).optional().describe('Source NAT rules (nftables, in this node only).'),
  forwards: z.array(ForwardSchema).optional().describe('DNAT port forwards (nftables, in this node only).'),
  firewall: FirewallSchema.optional().describe('Filter rules (nftables, in this node only).'),
  services: z.array(ServiceSchema).optional().describe('Services started in this node (stopped on teardown).'),
  dhcp_servers: z.array(DhcpServerSchema).optional().describe('DHCP servers in this node (dnsmasq).'),
});

const EndpointSchema = z.union([
  endpointRef,
  z.strictObject({ at: endpointRef, address: addresses.optional() }),
]);

export const LinkSchema = z.strictObject({
  kind: z.literal('veth').default('veth').optional(),
  endpoints: z.tuple([EndpointSchema, EndpointSchema]).describe('The two ends, node:ifname (a veth pair).'),
});

export const BridgeSchema = z.strictObject({
  name: ifname,
  node: z.string().describe('The node (namespace) the bridge device lives in.'),
  ports: z.array(ifname).default([]).optional().describe('Interfaces of that node enslaved to the bridge.'),
  address: addresses.optional(),
  stp: z.boolean().optional().describe('Spanning tree (default off).'),
  forward_delay: duration
    .refine((v) => { const ms = parseDuration(v) ?? 0; return ms >= 2000 && ms <= 30_000; }, { error: 'forward_delay is between 2s and 30s (the kernel\'s range with STP on)' })
    .optional()
    .describe('With stp: how long a port listens and then learns before it forwards (default 15s).'),
  vlan_filtering: z.boolean().optional().describe('802.1Q filtering on the bridge (default off).'),
});

const deviceCommon = {
  name: ifname,
  node: z.string().describe('The node (namespace) the device lives in.'),
  address: addresses.optional(),
};

/** Every device kind; `kind` picks the member, and an unknown kind lists them all. */
export const DeviceSchema = z.discriminatedUnion(
  'kind',
  [
    BridgeSchema.extend({ kind: z.literal('bridge') }),
    z.strictObject({ kind: z.literal('dummy'), ...deviceCommon }),
    z.strictObject({
      kind: z.literal('macvlan'),
      ...deviceCommon,
      parent: endpointRef.describe('The parent interface, node:ifname (may be in another node).'),
      mode: z.enum(['bridge', 'private', 'vepa', 'passthru']).default('bridge').optional(),
    }),
    z.strictObject({
      kind: z.literal('ipvlan'),
      ...deviceCommon,
      parent: endpointRef.describe('The parent interface, node:ifname (may be in another node).'),
      mode: z.enum(['l2', 'l3']).default('l2').optional(),
    }),
    z.strictObject({
      kind: z.literal('vlan'),
      ...deviceCommon,
      parent: ifname.describe('The parent interface in the same node.'),
      id: z.int().min(1).max(4094).describe('802.1Q VLAN id.'),
    }),
    z.strictObject({ kind: z.literal('tap'), ...deviceCommon }),
    z.strictObject({ kind: z.literal('tun'), ...deviceCommon }),
    z.strictObject({
      kind: z.literal('vxlan'),
      ...deviceCommon,
      id: z.int().min(0).max(16777215).describe('VXLAN network identifier (VNI).'),
      remote: ipAddress.optional().describe('Unicast peer address (the other end of the tunnel).'),
      local: ipAddress.optional(),
      dev: ifname.optional().describe('Underlay interface of this node.'),
      port: z.int().min(1).max(65535).default(4789).optional(),
    }),
  ],
  { error: kindError('device', () => DEVICE_KINDS) },
);

export const DEVICE_KINDS = ['bridge', 'dummy', 'macvlan', 'ipvlan', 'vlan', 'tap', 'tun', 'vxlan'] as const;

/** The most points one check may carry. */
export const MAX_POINTS = 1000;

/** Scoring keys every check (and a rubric's `lab_checks` entry) may carry (docs/grading.md). */
export const scoring = {
  points: z
    .number()
    .min(0, 'points are at least 0')
    .max(MAX_POINTS, `points are at most ${MAX_POINTS}`)
    .optional()
    .describe('What the check is worth when the run is scored (default 1 once any check carries points or a rubric is in use).'),
  gate: z.boolean().optional().describe('When true and this check does not hold, the checks after it in the same step are not run: they score 0 and are reported as skipped.'),
  hidden: z.boolean().optional().describe('When true the check is scored and shown to the grader, and left out of the learner\'s report.'),
};

const checkCommon = {
  name: z.string().optional(),
  expect: z.enum(['pass', 'fail']).default('pass').optional(),
  hint: z.string().optional().describe('Shown when the check does not give the expected result.'),
  timeout: duration.optional(),
  retries: z.int().min(0).max(20, 'retries is at most 20: for a check that needs time, say within: 10s').optional().describe('Run the check again up to this many times until it gives the expected result (default 0).'),
  within: duration
    .optional()
    .describe('Eventually: run the check again until it gives the expected result or this much time has passed.'),
  ...scoring,
};

export const PingCheckSchema = z.strictObject({
  kind: z.literal('ping'),
  ...checkCommon,
  from: z.string().describe('Source node.'),
  to: z.string().describe('An address, a node (its first address) or node:ifname.'),
  count: z.int().min(1).max(100).optional(),
  ttl: z.int().min(1).max(255).optional().describe('Expected TTL of the replies (64 minus hops).'),
  reason: z
    .enum(['no-route', 'icmp-unreachable', 'no-reply'])
    .optional()
    .describe('With expect: fail, how it must fail.'),
});

const targeted = {
  ...checkCommon,
  from: z.string().describe('The node the check runs in.'),
  to: z.string().describe('An address, a node (its first address) or node:ifname.'),
};

/** How a must-fail tcp or udp check must fail (its `reason`). */
export const CONNECT_REASONS = ['refused', 'no-route', 'icmp-unreachable', 'timeout'] as const;
/** How a must-fail http check must fail: as tcp, or reset after connecting, or an answer that is not the one asked for. */
export const HTTP_REASONS = [...CONNECT_REASONS, 'reset', 'mismatch'] as const;

const connectReason = z
  .enum(CONNECT_REASONS)
  .optional()
  .describe(
    'Required with expect: fail: how it must fail. refused (a TCP reset, or an ICMP port unreachable), no-route (the source has no route), icmp-unreachable (a router or firewall answered host/net unreachable or administratively prohibited), timeout (nothing came back in time).',
  );

export const TcpCheckSchema = z.strictObject({ kind: z.literal('tcp'), ...targeted, port: port.describe('Connect to this TCP port.'), reason: connectReason });

export const UdpCheckSchema = z.strictObject({
  kind: z.literal('udp'),
  ...targeted,
  port,
  send: z.string().optional().describe('What to send (default "netlab"); the check passes when it comes back (an echo service).'),
  reason: connectReason,
});

export const HttpCheckSchema = z.strictObject({
  kind: z.literal('http'),
  ...targeted,
  port: port.optional().describe('Default 80.'),
  path: z.string().regex(/^\/[^\s]*$/, 'a path starting with /').optional(),
  status: z.int().min(100).max(599).optional().describe('Expected status (default 200).'),
  contains: z.string().optional().describe('The body must contain this text.'),
  regex: z.string().optional().describe('The body must match this regular expression.'),
  headers: z.record(z.string(), z.string()).optional().describe('Response headers that must have these values.'),
  reason: z
    .enum(HTTP_REASONS)
    .optional()
    .describe('Required with expect: fail: how it must fail. As tcp (refused, no-route, icmp-unreachable, timeout), or reset (the connection was reset after it was made), or mismatch (the server answered, not with the status, body or headers asked for).'),
});

export const NatSourceCheckSchema = z.strictObject({
  kind: z.literal('nat-source'),
  ...targeted,
  port: port.optional().describe('Port of the HTTP service on `to` (default 80).'),
  seen_as: z.string().describe('The client address the service must see (with expect: fail, the service must answer and see another one): an address, a node or node:ifname.'),
});

export const MtuCheckSchema = z.strictObject({
  kind: z.literal('mtu'),
  ...targeted,
  size: z.int().min(68).max(65535).describe('IP packet size that must pass (or, with expect: fail, not pass) with DF set.'),
});

export const PathCheckSchema = z.strictObject({
  kind: z.literal('path'),
  ...targeted,
  via: z.array(z.string()).min(1).describe('The routers traffic must pass, in order: addresses, nodes or node:ifname.'),
  max_hops: z.int().min(1).max(30).optional(),
});

/** [first, last]: two addresses of one family, first not after last. */
const addressRange = z.tuple([ipAddress, ipAddress]).superRefine(([first, last], ctx) => {
  const [a, b] = [parseCidr(first), parseCidr(last)];
  if (!a || !b) return;
  if (a.family !== b.family) ctx.addIssue({ code: 'custom', message: `${first} and ${last} are not of one family` });
  else if (a.value > b.value) ctx.addIssue({ code: 'custom', message: `the range ends (${last}) before it starts (${first})` });
});

export const StateCheckSchema = z
  .strictObject({
    kind: z.literal('state'),
    ...checkCommon,
    node: z.string().describe('The node whose state is read.'),
    address: z
      .strictObject({
        dev: ifname,
        cidr: cidr.optional().describe('This address with this prefix length is on the interface.'),
        range: addressRange.optional().describe('An address from first to last (inclusive) is on the interface, e.g. a DHCP lease: [192.168.122.2, 192.168.122.254].'),
      })
      .refine((a) => (a.cidr === undefined) !== (a.range === undefined), { error: 'an address state check needs exactly one of cidr or range' })
      .optional()
      .describe('This address (cidr), or one from a range, is on this interface.'),
    route: z.strictObject({ dst: destination, via: ipAddress.optional(), dev: ifname.optional() }).optional().describe('This route exists.'),
    link: z.strictObject({ dev: ifname, up: z.boolean().optional(), carrier: z.boolean().optional() }).optional().describe('The interface is (not) up / has (no) carrier.'),
    sysctl: z.strictObject({ key: z.string().regex(/^[a-z0-9_.]+$/), value: z.union([z.string(), z.number()]) }).optional(),
    nft: z.strictObject({ contains: z.string() }).optional().describe('The node\'s nftables ruleset contains this text.'),
  })
  .refine((c) => [c.address, c.route, c.link, c.sysctl, c.nft].filter((x) => x !== undefined).length === 1, {
    error: 'a state check reads exactly one of address, route, link, sysctl, nft',
  });

export const CmdCheckSchema = z
  .strictObject({
    kind: z.literal('cmd'),
    ...checkCommon,
    node: z.string().describe('The node the command runs in.'),
    argv: z.array(z.string()).min(1).optional().describe('The command as a list of words (no shell).'),
    shell: z.string().optional().describe('A shell command (sh -c); only when a shell is really needed.'),
    exit: z.int().min(0).max(255).optional().describe('Expected exit code (default 0).'),
    stdout: z.string().optional().describe('A regular expression the output must match.'),
  })
  .refine((c) => (c.argv === undefined) !== (c.shell === undefined), { error: 'a cmd check needs exactly one of argv or shell' });

/** A dns check: `from` asks `server` for `query`, optionally expecting `address` in the answer. */
export const DnsCheckSchema = z.strictObject({
  kind: z.literal('dns'),
  ...checkCommon,
  from: z.string().describe('The node the query is sent from.'),
  server: z.string().describe('The DNS server: an address, a node (its first address) or node:ifname.'),
  query: z.string().describe('The name to look up, e.g. www.lab.test.'),
  address: z.string().optional().describe('The answer must contain this: an address, a node or node:ifname.'),
  type: z.enum(['A', 'AAAA']).optional().describe('Record type (default A, or AAAA when address is an IPv6 address).'),
  port: port.optional().describe('Default 53.'),
  reason: z
    .enum(['nxdomain', 'no-answer', 'no-reply'])
    .optional()
    .describe('With expect: fail, how it must fail: nxdomain (no such name), no-answer (no record of that type), no-reply (no server answered).'),
});

/** A tcpdump filter expression: plain words and operators only (one argv word; tcpdump compiles it). */
export const PCAP_FILTER = /^[A-Za-z0-9 ._:/()!&|<>=\[\]-]{1,200}$/;
const pcapFilter = z.string().superRefine((s, ctx) => {
  if (!PCAP_FILTER.test(s) || s.trim().startsWith('-')) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a capture filter netlab passes on: tcpdump filter words (letters, digits, spaces and . _ : / ( ) ! & | < > = [ ] -), at most 200 characters, not starting with -`, params: { hint: 'e.g. "udp port 1194", "icmp", "not arp"' } });
  }
});

/** How a must-fail capture check must fail. */
export const CAPTURE_REASONS = ['mismatch', 'too-few', 'no-reply'] as const;

/** A capture check: tcpdump on node:ifname while the check's own ping from → to runs; asserts what crossed. */
export const CaptureCheckSchema = z.strictObject({
  kind: z.literal('capture'),
  ...checkCommon,
  from: z.string().describe('The node the ping is sent from.'),
  to: z.string().describe('The ping\'s target: an address, a node (its first address) or node:ifname.'),
  on: endpointRef.describe('Where tcpdump captures meanwhile: node:ifname.'),
  count: z.int().min(1).max(20).optional().describe('Echo requests the ping sends (default 3).'),
  filter: pcapFilter.optional().describe('Only packets matching this tcpdump filter are captured and judged, e.g. ip (leaves out ARP and IPv6 link-local chatter).'),
  all: pcapFilter.optional().describe('Every captured packet must match this tcpdump filter, e.g. "udp port 1194".'),
  none: pcapFilter.optional().describe('No captured packet may match this tcpdump filter, e.g. icmp.'),
  min_packets: z.int().min(1).max(10000).optional().describe('At least this many packets must be captured (default: as many as echo requests).'),
  reason: z
    .enum(CAPTURE_REASONS)
    .optional()
    .describe('Required with expect: fail: mismatch (a packet crossed that all or none forbid), too-few (fewer packets than min_packets crossed), no-reply (the ping itself got no reply).'),
});

/** A group of a matrix: letters, digits, _ and -, starting with a letter (so "A -> B" keys split unambiguously). */
export const MATRIX_GROUP = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** How a matrix probes a pair: ping, or a TCP connect / HTTP GET to a port. */
export const MatrixProbeSchema = z.union([
  z.literal('ping'),
  z.strictObject({ kind: z.literal('ping') }),
  z.strictObject({ kind: z.literal('tcp'), port }),
  z.strictObject({ kind: z.literal('http'), port: port.optional(), path: z.string().regex(/^\/[^\s]*$/, 'a path starting with /').optional() }),
]);

/** yes or no (true or false): whether a matrix pair must reach its target. */
const matrixValue = z.union([z.enum(['yes', 'no']), z.boolean()], { error: (iss) => `${JSON.stringify(iss.input)} is not yes or no (true or false)` });

/** "A -> B" / "A <-> B" → yes|no. */
const matrixKeys = z.record(z.string(), matrixValue);

/** A member of a matrix group: a node, node:ifname or an address; or { at, port }: that target probed on a port (a port forward). */
export const MatrixMemberSchema = z.union(
  [z.string(), z.strictObject({ at: z.string().describe('A node, node:ifname or an address.'), port: port.describe('Probed with tcp (or the matrix\'s tcp/http probe) on this port.') })],
  { error: () => 'a member is a node, node:ifname, an address, or { at: TARGET, port: 1-65535 }' },
);

/** One cell of a matrix table: keys → yes/no, or { is: label, expect: keys } for a cell that mixes yes and no. */
export const MatrixTableCellSchema = z.union(
  [z.strictObject({ is: z.string().min(1).describe('What the cell shows, e.g. "port forward".'), expect: matrixKeys }), matrixKeys],
  { error: () => 'a cell is { "A -> B": yes|no, ... }, or { is: LABEL, expect: { "A -> B": yes|no, ... } }' },
);

/** A reachability matrix: groups of members and "A -> B" / "A <-> B": yes|no; expands into one check per pair. */
export const MatrixCheckSchema = z.strictObject({
  kind: z.literal('matrix'),
  name: z.string().optional(),
  hint: checkCommon.hint,
  timeout: checkCommon.timeout,
  retries: checkCommon.retries,
  within: checkCommon.within,
  points: checkCommon.points.describe('What each pair of the matrix is worth when the run is scored (default 1).'),
  gate: checkCommon.gate.describe('When true and a pair does not hold, the checks after the matrix in the same step are skipped.'),
  hidden: checkCommon.hidden,
  probe: MatrixProbeSchema.optional().describe('ping (default), { kind: tcp, port } or { kind: http, port, path }.'),
  groups: z
    .record(z.string().regex(MATRIX_GROUP, 'group names are letters, digits, _ and -, starting with a letter'), z.array(MatrixMemberSchema))
    .describe('Group → members: nodes, node:ifname, addresses, or { at, port } (addresses and ports only as targets).'),
  expect: matrixKeys.optional().describe('"A -> B" or "A <-> B" (A, B: a group or a member) → yes or no.'),
  columns: z.array(z.string().min(1)).optional().describe('A table\'s column labels, in order (e.g. VM→host, host→VM).'),
  rows: z
    .record(z.string().min(1), z.record(z.string().min(1), MatrixTableCellSchema))
    .optional()
    .describe('A table: row label → column label → cell ("A -> B": yes|no keys, or { is: label, expect: keys }).'),
});

/** Every check kind, in the order the docs list them. */
export const CHECK_KINDS = ['ping', 'tcp', 'udp', 'http', 'nat-source', 'mtu', 'path', 'dns', 'state', 'cmd', 'capture', 'matrix'] as const;

/** Every check kind; an unknown `kind` lists these. */
export const CheckSchema = z.discriminatedUnion(
  'kind',
  [PingCheckSchema, TcpCheckSchema, UdpCheckSchema, HttpCheckSchema, NatSourceCheckSchema, MtuCheckSchema, PathCheckSchema, DnsCheckSchema, StateCheckSchema, CmdCheckSchema, CaptureCheckSchema, MatrixCheckSchema],
  { error: kindError('check', () => CHECK_KINDS) },
);

const nodeName = z.string().refine((s) => NODE_NAME.test(s), {
  error: (iss) =>
    `node name "${String(iss.input)}" is not a safe identifier: start with a letter, then letters, digits or _ (at most 32)`,
});

/**
 * Bounds of an exercise's reference commands. They are only shown (`netlab solve --show`), never run, so they cost
 * no work the --max-* limits would guard; these keep one from flooding a terminal (the file size bounds the rest).
 */
export const SOLUTION_LIMITS = { commandChars: 1000, commandsPerNode: 50 } as const;

/** One reference command: one line of printable text, as a learner would type it into the node's shell. */
const solutionCommand = z
  .string()
  .min(1, 'a command is not empty')
  .max(SOLUTION_LIMITS.commandChars, `a command is at most ${SOLUTION_LIMITS.commandChars} characters`)
  .refine((s) => isPrintable(s) && s.trim() !== '', { error: 'a command is one line of text, without control characters' });

/** A step held back for the learner (`netlab up LAB --exercise`): what to do, and the commands that do it. */
export const ExerciseSchema = z.strictObject({
  task: z.string().min(1, 'the task is not empty').describe('What the learner is asked to do (shown by `up --exercise` and `show`).'),
  solution: z
    .record(
      z.string().refine((s) => NODE_NAME.test(s), { error: (iss) => `"${String(iss.input)}" is not a node name` }),
      z.array(solutionCommand).min(1, 'give at least one command for this node').max(SOLUTION_LIMITS.commandsPerNode, `at most ${SOLUTION_LIMITS.commandsPerNode} commands per node`),
    )
    .refine((r) => Object.keys(r).length > 0, { error: 'a solution names at least one node and its commands' })
    .describe('Node → the commands a learner would type in that node (`netlab exec INSTANCE NODE`); shown by `netlab solve --show`, never run by netlab.'),
});

export const StepSchema = z.strictObject({
  name: z.string().regex(SLUG, 'step names are lower-case words joined by dashes, e.g. route-back'),
  title: z.string().optional(),
  explain: z.string().optional().describe('What this step shows and why.'),
  nodes: z.record(z.string(), NodeConfigSchema).optional().describe('Config this step adds to existing nodes.'),
  checks: z.array(CheckSchema).optional(),
  exercise: ExerciseSchema.optional().describe('Hold this step back for the learner: `netlab up LAB --exercise` builds the lab up to the step before; `netlab check` grades; `netlab solve` applies the step.'),
});

export const LabSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1).optional().describe('Lab format version.'),
  name: z.string().regex(SLUG, 'lab names are lower-case words joined by dashes, e.g. veth-routing'),
  title: z.string().optional(),
  description: z.string().optional(),
  goals: z.array(z.string()).optional().describe('What a learner takes away.'),
  source: z.string().optional().describe('Where the lab comes from, e.g. a document section.'),
  difficulty: z.enum(['beginner', 'intermediate', 'advanced']).optional().describe('How much a learner needs to know first (shown by `netlab list`).'),
  nodes: z.record(nodeName, NodeConfigSchema.nullable()).describe('Each node is a network namespace.'),
  links: z.array(LinkSchema).optional(),
  bridges: z.array(BridgeSchema).optional().describe('Linux bridges (the same as devices of kind bridge).'),
  devices: z.array(DeviceSchema).optional().describe('Devices besides veth pairs: bridge, dummy, macvlan, ipvlan, vlan, tap, tun, vxlan.'),
  checks: z.array(CheckSchema).optional().describe('Checks run after the build, before any steps.'),
  steps: z.array(StepSchema).optional().describe('Ordered stages: each adds config, then runs its checks.'),
});

export type WrittenLab = z.infer<typeof LabSchema>;
export type WrittenNodeConfig = z.infer<typeof NodeConfigSchema>;
export type WrittenCheck = z.infer<typeof CheckSchema>;
/** A matrix as written (normalize expands it into checks). */
export type WrittenMatrix = z.infer<typeof MatrixCheckSchema>;
export type WrittenEndpoint = z.infer<typeof EndpointSchema>;
export type WrittenDevice = z.infer<typeof DeviceSchema>;
export type WrittenInterface = z.infer<typeof InterfaceSchema>;
export type WrittenExercise = z.infer<typeof ExerciseSchema>;

/** The JSON Schema editors use (schema/lab.schema.json, `netlab schema`). */
export function labJsonSchema(): unknown {
  const schema = z.toJSONSchema(LabSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'netlab lab file (v1)',
  };
}
