import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinLabs, labFile } from '../../../src/lab/catalog.js';
import { parseLab } from '../../../src/lab/load.js';
import { batchText, digArgv, dnsServerArgv, placement, shellLine } from '../../../src/plan/argv.js';
import { nsName, parseNsName } from '../../../src/plan/naming.js';
import { inverse, type Op } from '../../../src/plan/ops.js';
import { planLab } from '../../../src/plan/planner.js';
import { planScript } from '../../../src/plan/script.js';

/** Where this checkout is: the service server's path in a plan, written as <netlab> so snapshots hold on any clone. */
const ROOT = resolve(import.meta.dirname, '../../..');

const load = (name: string) => parseLab(readFileSync(labFile(name), 'utf8'), `labs/${name}.yaml`);

describe('planLab', () => {
  it.each(builtinLabs())('plans %s the same way every time (snapshot)', (name) => {
    const plan = planLab(load(name), 'snap');
    expect(plan).toEqual(planLab(load(name), 'snap'));
    expect(planScript(plan).replaceAll(ROOT, '<netlab>')).toMatchSnapshot();
  });

  it('creates veth ends directly in their namespaces (no moves), namespaces first, ifindex apart from the peer\'s', () => {
    const ops = planLab(load('veth-routing'), 'x').stages[0]!.ops;
    expect(ops.slice(0, 3).map((o) => o.kind)).toEqual(['netns-add', 'netns-add', 'netns-add']);
    const veths = ops.filter((o) => o.kind === 'veth-add');
    expect(veths.map(shellLine)).toEqual([
      'ip link add name v1 netns netlab-x-ns1 index 10000 type veth peer name v1_r netns netlab-x-host',
      'ip link add name v2 netns netlab-x-ns2 index 10001 type veth peer name v2_r netns netlab-x-host',
    ]);
  });

  it('adds routes in the step that declares them, and resolves check targets', () => {
    const plan = planLab(load('veth-routing'), 'x');
    expect(plan.stages.map((s) => s.name)).toEqual(['setup', 'no-routes', 'route-one-way', 'routes-both-ways']);
    expect(plan.stages[1]!.ops).toEqual([]);
    expect(plan.stages[2]!.ops.map(shellLine)).toEqual(['ip -n netlab-x-ns1 route add 10.10.20.0/24 via 10.10.10.1']);
    expect(plan.stages[3]!.checks.map((c) => c.target)).toEqual(['10.10.20.2', '10.10.10.2']);
  });

  it('pins ip_forward in every namespace, so labs never inherit the host setting', () => {
    const sys = planLab(load('veth-routing'), 'x').stages[0]!.ops.filter((o) => o.kind === 'sysctl');
    const byNs = Object.fromEntries(sys.filter((o) => o.key === 'net.ipv4.ip_forward').map((o) => [o.ns, o.value]));
    expect(byNs).toEqual({ 'netlab-x-host': '1', 'netlab-x-ns1': '0', 'netlab-x-ns2': '0' });
  });
});

describe('ops and argv', () => {
  const samples: Op[] = [
    { kind: 'netns-add', ns: 'n' },
    { kind: 'veth-add', ns: 'a', ifname: 'x', index: 10000, peerNs: 'b', peer: 'y' },
    { kind: 'link-add', ns: 'a', ifname: 'br0', spec: { type: 'bridge', stp: false, vlanFiltering: false } },
    { kind: 'link-add', ns: 'host', ifname: 'm1', spec: { type: 'macvlan', parent: 'eth0', mode: 'bridge' }, into: 'a' },
    { kind: 'link-master', ns: 'a', ifname: 'p', master: 'br0' },
    { kind: 'link-up', ns: 'a', ifname: 'p' },
    { kind: 'addr-add', ns: 'a', ifname: 'p', cidr: '10.0.0.1/24' },
    { kind: 'route-add', ns: 'a', dst: 'default', via: '10.0.0.254' },
    { kind: 'sysctl', ns: 'a', key: 'net.ipv4.ip_forward', value: '1', previous: '0' },
  ];
  it('inverts every reversible op and the inverse inverts back', () => {
    for (const op of samples) {
      const inv = inverse(op);
      expect(inv, op.kind).toBeDefined();
      if (!['veth-add', 'link-add', 'link-master'].includes(op.kind)) expect(inverse(inv!)).toEqual(op);
    }
    expect(inverse({ kind: 'sysctl', ns: 'a', key: 'k', value: '1' })).toBeUndefined();
  });
  it('puts namespace and link creation in the root batch, the rest inside namespaces', () => {
    expect(samples.map((o) => { const p = placement(o); return p.where === 'ns' ? `ns${p.phase}` : p.where; })).toEqual(['root', 'root', 'ns2', 'ns1', 'ns2', 'ns2', 'ns2', 'ns2', 'sysctl']);
    expect(inverse(samples[3]!)).toEqual({ kind: 'link-del', ns: 'a', ifname: 'm1' });
  });
  it('renders ip -batch text one op per line', () => {
    expect(batchText(samples.slice(6, 8))).toBe('addr add 10.0.0.1/24 dev p\nroute add default via 10.0.0.254\n');
  });
  it('names namespaces predictably and parses them back', () => {
    expect(nsName('veth-routing-1a2b', 'ns1')).toBe('netlab-veth-routing-1a2b-ns1');
    expect(parseNsName('netlab-veth-routing-1a2b-ns1')).toEqual({ instance: 'veth-routing-1a2b', node: 'ns1' });
    expect(parseNsName('docker-ns')).toBeUndefined();
  });
});

describe('nftables rulesets', () => {
  const lab = parseLab(readFileSync('test/fixtures/labs/nat-basic.yaml', 'utf8'), 'nat-basic.yaml');
  const plan = planLab(lab, 'x');
  const nft = plan.stages[0]!.ops.filter((o) => o.kind === 'nft-apply');

  it('renders one atomic ruleset per node that has NAT, forwards or a firewall', () => {
    expect(nft.map((o) => o.ns)).toEqual(['netlab-x-nat']);
    expect(shellLine(nft[0]!)).toMatchSnapshot();
  });

  it('undoes a ruleset by deleting the table, or by restoring the previous one', () => {
    expect(inverse(nft[0]!)).toEqual({ kind: 'nft-delete', ns: 'netlab-x-nat' });
    const again: Op = { kind: 'nft-apply', ns: 'n', ruleset: { nat: [], forwards: [], chains: [] }, previous: (nft[0] as Extract<Op, { kind: 'nft-apply' }>).ruleset };
    expect(inverse(again)).toMatchObject({ kind: 'nft-apply', ruleset: { nat: [{ kind: 'masquerade' }] } });
  });
});

describe('dns services', () => {
  const lab = parseLab(readFileSync('test/fixtures/labs/dns.yaml', 'utf8'), 'dns.yaml');
  const ops = planLab(lab, 'x').stages[0]!.ops;
  const dns = ops.filter((o) => o.kind === 'dns-server');

  it('starts one dnsmasq per dns service, records resolved to addresses (IPv4 preferred for a node)', () => {
    expect(dns).toEqual([
      {
        kind: 'dns-server',
        ns: 'netlab-x-server',
        node: 'server',
        port: 53,
        records: [
          { name: 'www.lab.test', address: '10.0.2.53' },
          { name: 'gw.lab.test', address: '10.0.1.1' },
          { name: 'v6.lab.test', address: '2001:db8::1' },
        ],
      },
    ]);
    expect(ops.some((o) => o.kind === 'service-start')).toBe(false);
    expect(placement(dns[0]!)).toEqual({ where: 'proc', ns: 'netlab-x-server' });
    expect(inverse(dns[0]!)).toEqual({ kind: 'proc-stop', ns: 'netlab-x-server', node: 'server', what: 'dns-server 53' });
  });

  it('runs dnsmasq in the foreground, DNS only, with no upstream and every other name NXDOMAIN', () => {
    const argv = dnsServerArgv(dns[0]!, '/run/netlab/x/server.dns53.dnsmasq.log');
    expect(argv.slice(0, 3)).toEqual(['nsenter', '--net=/run/netns/netlab-x-server', '--']);
    expect(argv).toEqual(expect.arrayContaining(['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--local=/#/', '--port=53']));
    expect(argv.filter((a) => a.startsWith('--host-record='))).toEqual([
      '--host-record=www.lab.test,10.0.2.53',
      '--host-record=gw.lab.test,10.0.1.1',
      '--host-record=v6.lab.test,2001:db8::1',
    ]);
    expect(argv.some((a) => a.startsWith('--server') || a.startsWith('--dhcp'))).toBe(false);
    expect(argv).toContain('--log-facility=/run/netlab/x/server.dns53.dnsmasq.log');
  });

  it('prints the dnsmasq command line a learner can type (snapshot)', () => {
    expect(shellLine(dns[0]!)).toMatchSnapshot();
    expect(shellLine(dns[0]!)).toMatch(/^ip netns exec netlab-x-server dnsmasq --keep-in-foreground .* &$/);
  });

  it('asks dig once, with a whole-second timeout of at least 1', () => {
    const q = { server: '10.0.2.53', port: 5353, name: 'www.lab.test', type: 'AAAA' as const };
    expect(digArgv('n', { ...q, timeoutMs: 300 })).toEqual(['nsenter', '--net=/run/netns/n', '--', 'dig', '@10.0.2.53', '-p', '5353', '+time=1', '+tries=1', 'www.lab.test', 'AAAA']);
    expect(digArgv('n', { ...q, timeoutMs: 2500 })).toContain('+time=3');
  });

  it('keeps the check query apart from its title and resolves server and expected address', () => {
    const checks = planLab(lab, 'x').stages[0]!.checks;
    expect(checks[1]).toMatchObject({ kind: 'dns', query: 'gw.lab.test', name: 'dns client → server: gw.lab.test is router:a', target: '10.0.2.53', more: ['10.0.1.1'], port: 53 });
    expect(checks[3]).toMatchObject({ kind: 'dns', query: 'nope.lab.test', more: [] });
  });
});
