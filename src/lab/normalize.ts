// WrittenLab (what the user wrote, schema-valid) → Lab (the model): expand shortcuts, keep source paths.
import { parseDuration } from './duration.js';
import { describeQuery } from './describe.js';
import { expandMatrix, memberNode, splitMember } from './matrix.js';
import { parsePercent, type WrittenCheck, type WrittenMatrix, type WrittenDevice, type WrittenEndpoint, type WrittenExercise, type WrittenInterface, type WrittenLab, type WrittenNodeConfig } from './schema.js';
import type { Path } from './source.js';
import { sysctlValue } from './sysctls.js';
import { parseTarget } from './target.js';
import type { Check, Config, Device, Exercise, FirewallRule, Lab, LinkSetting, Matrix, Netem, Ref, Stage, StateQuery, Target } from './types.js';

/** Default check timeouts: a check that must fail should cost well under a second. */
export const DEFAULT_TIMEOUT_MS = { pass: 2000, fail: 500 } as const;

/** Splits `node:ifname`. */
export function splitRef(text: string): Ref {
  const i = text.indexOf(':');
  return { node: text.slice(0, i), ifname: text.slice(i + 1) };
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function emptyConfig(): Config {
  return { nodes: [], addresses: [], routes: [], sysctls: [], links: [], nat: [], forwards: [], firewall: [], services: [], dhcpServers: [], dhcpClients: [] };
}

/** Adds one node's written config (top-level or inside a step) to `config`. */
function addNodeConfig(config: Config, node: string, written: WrittenNodeConfig | null | undefined, at: Path): void {
  config.nodes.push(node);
  if (!written) return;
  if (written.forwarding !== undefined) {
    const v = written.forwarding ? '1' : '0';
    config.sysctls.push({ node, key: 'net.ipv4.ip_forward', value: v, at: [...at, 'forwarding'] });
    config.sysctls.push({ node, key: 'net.ipv6.conf.all.forwarding', value: v, at: [...at, 'forwarding'] });
  }
  for (const [key, value] of Object.entries(written.sysctls ?? {})) {
    // The schema checked the value; this is its canonical decimal form (true → 1, "01" → 1).
    const v = sysctlValue(key, value);
    if ('problem' in v) throw new Error(`internal: sysctl ${key} reached normalize with a bad value: ${v.problem}`);
    config.sysctls.push({ node, key, value: v.text, at: [...at, 'sysctls', key] });
  }
  for (const [ifname, iface] of Object.entries(written.interfaces ?? {})) {
    const setting = linkSetting(iface);
    if (setting) config.links.push({ node, ifname, ...setting, at: [...at, 'interfaces', ifname] });
    const addrs = list(iface.address);
    const addrAt: Path = [...at, 'interfaces', ifname, 'address'];
    addrs.forEach((cidr, i) => {
      const where = Array.isArray(iface.address) ? [...addrAt, i] : addrAt;
      if (cidr === 'dhcp') config.dhcpClients.push({ node, ifname, at: where });
      else config.addresses.push({ node, ifname, cidr, at: where });
    });
  }
  (written.nat ?? []).forEach((n, i) => {
    config.nat.push({
      node,
      kind: n.masquerade ? 'masquerade' : 'snat',
      ...(n.snat !== undefined ? { to: n.snat } : {}),
      ...(n.src !== undefined ? { src: n.src } : {}),
      ...(n.dst !== undefined ? { dst: n.dst } : {}),
      ...(n.out !== undefined ? { out: n.out } : {}),
      except: n.except ?? [],
      at: [...at, 'nat', i],
    });
  });
  (written.forwards ?? []).forEach((f, i) => {
    const sep = f.to.lastIndexOf(':');
    config.forwards.push({
      node,
      proto: f.proto ?? 'tcp',
      port: f.port,
      toAddress: f.to.slice(0, sep).replace(/^\[|\]$/g, ''),
      toPort: Number(f.to.slice(sep + 1)),
      ...(f.dst !== undefined ? { dst: f.dst } : {}),
      ...(f.in !== undefined ? { in: f.in } : {}),
      at: [...at, 'forwards', i],
    });
  });
  for (const hook of ['forward', 'input'] as const) {
    const c = written.firewall?.[hook];
    if (!c) continue;
    config.firewall.push({
      node,
      hook,
      ...(c.policy !== undefined ? { policy: c.policy } : {}),
      ...(c.established !== undefined ? { established: c.established } : {}),
      // zod leaves absent keys absent, so the written rules already have the model's shape.
      rules: (c.rules ?? []) as FirewallRule[],
      at: [...at, 'firewall', hook],
    });
  }
  (written.dhcp_servers ?? []).forEach((d, i) =>
    config.dhcpServers.push({
      node,
      ifname: d.interface,
      start: d.range[0],
      end: d.range[1],
      ...(d.gateway !== undefined ? { gateway: d.gateway === 'none' ? null : d.gateway } : {}),
      dns: d.dns ?? [],
      leaseSecs: Math.max(120, Math.round((d.lease !== undefined ? (parseDuration(d.lease) ?? 3_600_000) : 3_600_000) / 1000)),
      at: [...at, 'dhcp_servers', i],
    }),
  );
  (written.services ?? []).forEach((svc, i) => {
    const where: Path = [...at, 'services', i];
    if (svc.kind === 'tunnel') {
      const { device, peer, local } = svc;
      return config.services.push({ node, kind: 'tunnel', device, peer: parseTarget(peer), peerText: peer, port: svc.port ?? 1194, ...(local !== undefined ? { local } : {}), at: where });
    }
    if (svc.kind !== 'dns') return config.services.push({ node, kind: svc.kind, port: svc.port, at: where });
    const records = Object.entries(svc.records).map(([name, to]) => ({ name, to: parseTarget(to), toText: to, at: [...where, 'records', name] }));
    return config.services.push({ node, kind: 'dns', port: svc.port ?? 53, records, at: where });
  });
  (written.routes ?? []).forEach((r, i) => {
    config.routes.push({
      node,
      dst: r.dst,
      ...(r.via !== undefined ? { via: r.via } : {}),
      ...(r.dev !== undefined ? { dev: r.dev } : {}),
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
      at: [...at, 'routes', i],
    });
  });
}

/** MTU, MAC, netem and up/down of an interface, or undefined when none is set. */
function linkSetting(i: WrittenInterface): Omit<LinkSetting, 'node' | 'ifname' | 'at'> | undefined {
  if (i.mtu === undefined && i.mac === undefined && i.netem === undefined && i.up === undefined) return undefined;
  const n = i.netem;
  const netem: Netem | undefined = n && {
    ...(n.delay !== undefined ? { delayMs: parseDuration(n.delay) ?? 0 } : {}),
    ...(n.jitter !== undefined ? { jitterMs: parseDuration(n.jitter) ?? 0 } : {}),
    ...(n.loss !== undefined ? { lossPercent: parsePercent(n.loss) ?? 0 } : {}),
    ...(n.rate !== undefined ? { rate: n.rate } : {}),
  };
  return {
    ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
    ...(i.mac !== undefined ? { mac: i.mac.toLowerCase() } : {}),
    ...(netem ? { netem } : {}),
    ...(i.up !== undefined ? { up: i.up } : {}),
  };
}

/** One written device → the model (defaults filled in). */
function normalizeDevice(d: WrittenDevice, at: Path): Device {
  const base = { node: d.node, name: d.name, at };
  switch (d.kind) {
    case 'bridge':
      return {
        ...base,
        kind: 'bridge',
        ports: d.ports ?? [],
        stp: d.stp ?? false,
        vlanFiltering: d.vlan_filtering ?? false,
        ...(d.forward_delay !== undefined ? { forwardDelayMs: parseDuration(d.forward_delay) ?? 15_000 } : {}),
      };
    case 'macvlan':
      return { ...base, kind: 'macvlan', parent: splitRef(d.parent), mode: d.mode ?? 'bridge' };
    case 'ipvlan':
      return { ...base, kind: 'ipvlan', parent: splitRef(d.parent), mode: d.mode ?? 'l2' };
    case 'vlan':
      return { ...base, kind: 'vlan', parent: d.parent, id: d.id };
    case 'vxlan':
      return {
        ...base,
        kind: 'vxlan',
        id: d.id,
        port: d.port ?? 4789,
        ...(d.remote !== undefined ? { remote: d.remote } : {}),
        ...(d.local !== undefined ? { local: d.local } : {}),
        ...(d.dev !== undefined ? { dev: d.dev } : {}),
      };
    case 'dummy':
    case 'tap':
    case 'tun':
      return { ...base, kind: d.kind };
  }
}

/** A written check of a kind that runs as is (a matrix expands into these). */
type WrittenProbeCheck = Exclude<WrittenCheck, { kind: 'matrix' }>;

/** The scoring keys of a written check, as the model keeps them (absent when not written or false). */
export function scoringOf(c: { points?: number | undefined; gate?: boolean | undefined; hidden?: boolean | undefined }): Pick<Check, 'points' | 'gate' | 'hidden'> {
  return {
    ...(c.points !== undefined ? { points: c.points } : {}),
    ...(c.gate === true ? { gate: true as const } : {}),
    ...(c.hidden === true ? { hidden: true as const } : {}),
  };
}

function normalizeCheck(c: WrittenProbeCheck, stage: string, index: number, at: Path): Check {
  const expect = c.expect ?? 'pass';
  const timeoutMs = c.timeout !== undefined ? (parseDuration(c.timeout) ?? 0) : DEFAULT_TIMEOUT_MS[expect];
  const base = {
    id: `${stage}/${index + 1}`,
    expect,
    timeoutMs,
    retries: c.retries ?? 0,
    ...(c.within !== undefined ? { withinMs: parseDuration(c.within) ?? 0 } : {}),
    at,
    ...(c.hint !== undefined ? { hint: c.hint } : {}),
    ...scoringOf(c),
  };
  const aim = (to: string) => ({ to: parseTarget(to), toText: to });
  switch (c.kind) {
    case 'ping':
      return {
        ...base,
        kind: 'ping',
        name: c.name ?? `ping ${c.from} → ${c.to}`,
        from: c.from,
        ...aim(c.to),
        count: c.count ?? 1,
        ...(c.ttl !== undefined ? { ttl: c.ttl } : {}),
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
      };
    case 'tcp':
      return { ...base, kind: 'tcp', name: c.name ?? `tcp ${c.from} → ${c.to}:${c.port}`, from: c.from, ...aim(c.to), port: c.port, ...(c.reason !== undefined ? { reason: c.reason } : {}) };
    case 'udp':
      return {
        ...base,
        kind: 'udp',
        name: c.name ?? `udp ${c.from} → ${c.to}:${c.port}`,
        from: c.from,
        ...aim(c.to),
        port: c.port,
        send: c.send ?? 'netlab',
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
      };
    case 'http': {
      const port = c.port ?? 80;
      return {
        ...base,
        kind: 'http',
        name: c.name ?? `http ${c.from} → ${c.to}${port === 80 ? '' : `:${port}`}${c.path ?? '/'}`,
        from: c.from,
        ...aim(c.to),
        port,
        path: c.path ?? '/',
        status: c.status ?? 200,
        ...(c.contains !== undefined ? { contains: c.contains } : {}),
        ...(c.regex !== undefined ? { regex: c.regex } : {}),
        headers: c.headers ?? {},
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
      };
    }
    case 'nat-source':
      return {
        ...base,
        kind: 'nat-source',
        name: c.name ?? `${c.to} sees ${c.from} as ${c.seen_as}`,
        from: c.from,
        ...aim(c.to),
        port: c.port ?? 80,
        seenAs: parseTarget(c.seen_as),
        seenAsText: c.seen_as,
      };
    case 'mtu':
      return { ...base, kind: 'mtu', name: c.name ?? `${c.size}-byte packets ${c.from} → ${c.to} (DF)`, from: c.from, ...aim(c.to), size: c.size };
    case 'path':
      return {
        ...base,
        kind: 'path',
        name: c.name ?? `path ${c.from} → ${c.to} via ${c.via.join(', ')}`,
        from: c.from,
        ...aim(c.to),
        via: c.via.map(parseTarget),
        viaText: c.via,
        maxHops: c.max_hops ?? 8,
      };
    case 'dns':
      return {
        ...base,
        kind: 'dns',
        name: c.name ?? `dns ${c.from} → ${c.server}: ${c.query}${c.address !== undefined ? ` is ${c.address}` : ''}`,
        from: c.from,
        ...aim(c.server),
        query: c.query,
        port: c.port ?? 53,
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        ...(c.type !== undefined ? { type: c.type } : {}),
        ...(c.address !== undefined ? { address: parseTarget(c.address), addressText: c.address } : {}),
      };
    case 'state': {
      const query: StateQuery = c.address
        ? c.address.range !== undefined
          ? { what: 'address-range', dev: c.address.dev, range: c.address.range }
          : { what: 'address', dev: c.address.dev, cidr: c.address.cidr ?? '' }
        : c.route
          ? { what: 'route', dst: c.route.dst, ...(c.route.via !== undefined ? { via: c.route.via } : {}), ...(c.route.dev !== undefined ? { dev: c.route.dev } : {}) }
          : c.link
            ? { what: 'link', dev: c.link.dev, ...(c.link.up !== undefined ? { up: c.link.up } : {}), ...(c.link.carrier !== undefined ? { carrier: c.link.carrier } : {}) }
            : c.sysctl
              ? { what: 'sysctl', key: c.sysctl.key, value: String(c.sysctl.value) }
              : { what: 'nft', contains: c.nft?.contains ?? '' };
      return { ...base, kind: 'state', name: c.name ?? `state of ${c.node}: ${describeQuery(query)}`, from: c.node, query };
    }
    case 'capture': {
      const count = c.count ?? 3;
      return {
        ...base,
        kind: 'capture',
        name: c.name ?? `capture on ${c.on} while ${c.from} pings ${c.to}`,
        from: c.from,
        ...aim(c.to),
        on: splitRef(c.on),
        count,
        ...(c.filter !== undefined ? { filter: c.filter } : {}),
        ...(c.all !== undefined ? { all: c.all } : {}),
        ...(c.none !== undefined ? { none: c.none } : {}),
        minPackets: c.min_packets ?? count,
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
      };
    }
    case 'cmd': {
      const argv = c.shell !== undefined ? ['sh', '-c', c.shell] : (c.argv ?? []);
      return {
        ...base,
        kind: 'cmd',
        name: c.name ?? `${c.node}: ${c.shell ?? argv.join(' ')}`,
        from: c.node,
        argv,
        shell: c.shell !== undefined,
        exit: c.exit ?? 0,
        ...(c.stdout !== undefined ? { stdout: c.stdout } : {}),
      };
    }
  }
}

/**
 * The written check a matrix pair runs: its probe from one member to another, pass for yes and fail for no. A target
 * member on a port (`{ at, port }`) is probed there: with the matrix's tcp or http probe, else with tcp.
 */
function probeCheck(w: WrittenMatrix, from: string, to: string, expect: 'pass' | 'fail'): WrittenProbeCheck {
  const { timeout, hint, retries, within, points, hidden } = w;
  const { target, port } = splitMember(to);
  const common = {
    from: memberNode(from) ?? from,
    to: target,
    expect,
    // Each pair is worth the matrix's points; its gate goes on its last pair only (normalizeChecks).
    ...(points !== undefined ? { points } : {}),
    ...(hidden !== undefined ? { hidden } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(hint !== undefined ? { hint } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(within !== undefined ? { within } : {}),
  };
  const p = probeOf(w, port);
  if (p.kind === 'ping') return { ...common, kind: 'ping' };
  return p.kind === 'tcp' ? { ...common, kind: 'tcp', port: p.port } : { ...common, ...p, kind: 'http' };
}

/** The probe of one pair: the matrix's, at the target member's port when it has one (ping becomes tcp there). */
function probeOf(w: WrittenMatrix, port: number | undefined): Exclude<NonNullable<WrittenMatrix['probe']>, 'ping'> {
  const p = w.probe === undefined || w.probe === 'ping' ? { kind: 'ping' as const } : w.probe;
  if (port === undefined) return p;
  return p.kind === 'http' ? { ...p, port } : { kind: 'tcp', port };
}

/** What a matrix's check names add after the pair: nothing for ping, the port (and path) otherwise. */
function probeSuffix(w: WrittenMatrix, to: string): string {
  const p = probeOf(w, splitMember(to).port);
  if (p.kind === 'ping') return '';
  return p.kind === 'tcp' ? ` tcp/${p.port}` : ` http :${p.port ?? 80}${p.path ?? '/'}`;
}

/** The checks of one stage: ordinary checks as written, matrices expanded into one check per pair (ids `<stage>/<n>.<k>`). */
function normalizeChecks(written: WrittenCheck[], stage: string, nodes: ReadonlySet<string>, at: Path): { checks: Check[]; matrices: Matrix[] } {
  const checks: Check[] = [];
  const matrices: Matrix[] = [];
  written.forEach((c, i) => {
    if (c.kind !== 'matrix') return void checks.push(normalizeCheck(c, stage, i, [...at, i]));
    const m = expandMatrix(c, `matrix ${i + 1}`, nodes, [...at, i]);
    matrices.push(m);
    let k = 0;
    for (const e of m.entries) {
      for (const p of e.pairs) {
        const { target } = splitMember(p.to);
        const where = e.table ? ` (${e.table.row}: ${e.table.column})` : p.from === p.fromSide && p.to === p.toSide ? '' : ` (${p.fromSide} → ${p.toSide})`;
        const check = normalizeCheck(probeCheck(c, p.from, p.to, e.expect), stage, i, e.at);
        const table = e.table ? { row: e.table.row, column: e.table.column, ...(e.table.label !== undefined ? { cell: e.table.label } : {}) } : {};
        // A source runs from its node, whatever interface the member names: the name says so.
        checks.push({ ...check, id: `${stage}/${i + 1}.${++k}`, name: `${check.from} → ${target}${probeSuffix(c, p.to)}${where}`, matrix: { name: m.name, from: p.fromSide, to: p.toSide, ...table } });
      }
    }
    // A matrix with `gate` gates after its last cell: its pairs run together, what follows waits for all of them.
    const last = checks.at(-1);
    if (c.gate === true && k > 0 && last) last.gate = true;
  });
  return { checks, matrices };
}

/** Addresses written on a link endpoint or a device go to the stage's config: static ones, or a DHCP client. */
function addAddresses(config: Config, ref: Ref, written: string | string[] | undefined, at: Path): void {
  list(written).forEach((cidr, i) => {
    const where: Path = Array.isArray(written) ? [...at, 'address', i] : [...at, 'address'];
    if (cidr === 'dhcp') config.dhcpClients.push({ ...ref, at: where });
    else config.addresses.push({ ...ref, cidr, at: where });
  });
}

/** An exercise as the model keeps it: the solution as a list, in the order written. */
function normalizeExercise(e: WrittenExercise, at: Path): Exercise {
  return {
    task: e.task,
    solution: Object.entries(e.solution).map(([node, commands]) => ({ node, commands, at: [...at, 'solution', node] })),
    at,
  };
}

/** Builds the model from a schema-valid written lab. Semantic rules run on the result (rules.ts). */
export function normalize(w: WrittenLab, file: string): Lab {
  const setup: Stage = { name: 'setup', title: 'Build the topology', config: emptyConfig(), checks: [], matrices: [] };
  const nodeSet = new Set(Object.keys(w.nodes));
  const veths = (w.links ?? []).map((l, i) => {
    const [ea, eb] = l.endpoints;
    const refOf = (e: WrittenEndpoint) => splitRef(typeof e === 'string' ? e : e.at);
    const a = refOf(ea);
    const b = refOf(eb);
    const at: Path = ['links', i];
    if (typeof ea !== 'string') addAddresses(setup.config, a, ea.address, [...at, 'endpoints', 0]);
    if (typeof eb !== 'string') addAddresses(setup.config, b, eb.address, [...at, 'endpoints', 1]);
    return { a, b, at };
  });
  const written: [WrittenDevice, Path][] = [
    ...(w.bridges ?? []).map((b, i): [WrittenDevice, Path] => [{ ...b, kind: 'bridge' }, ['bridges', i]]),
    ...(w.devices ?? []).map((d, i): [WrittenDevice, Path] => [d, ['devices', i]]),
  ];
  const devices = written.map(([d, at]) => {
    addAddresses(setup.config, { node: d.node, ifname: d.name }, d.address, at);
    return normalizeDevice(d, at);
  });
  for (const [name, cfg] of Object.entries(w.nodes)) addNodeConfig(setup.config, name, cfg, ['nodes', name]);
  Object.assign(setup, normalizeChecks(w.checks ?? [], 'setup', nodeSet, ['checks']));

  const steps: Stage[] = (w.steps ?? []).map((s, si) => {
    const config = emptyConfig();
    for (const [name, cfg] of Object.entries(s.nodes ?? {})) addNodeConfig(config, name, cfg, ['steps', si, 'nodes', name]);
    return {
      name: s.name,
      title: s.title ?? s.name,
      ...(s.explain !== undefined ? { explain: s.explain } : {}),
      config,
      ...normalizeChecks(s.checks ?? [], s.name, nodeSet, ['steps', si, 'checks']),
      ...(s.exercise ? { exercise: normalizeExercise(s.exercise, ['steps', si, 'exercise']) } : {}),
    };
  });

  return {
    name: w.name,
    title: w.title ?? w.name,
    description: w.description ?? '',
    goals: w.goals ?? [],
    ...(w.source !== undefined ? { source: w.source } : {}),
    ...(w.difficulty !== undefined ? { difficulty: w.difficulty } : {}),
    file,
    nodes: Object.entries(w.nodes).map(([name, cfg]) => ({
      name,
      ...(cfg?.description !== undefined ? { description: cfg.description } : {}),
    })),
    veths,
    devices,
    stages: [setup, ...steps],
  };
}
