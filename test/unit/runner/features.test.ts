// The needs table (lab → tools and kernel features, with the lab elements that need them) and the parsing of probe output.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { LabSource } from '../../../src/lab/source.js';
import { planLab } from '../../../src/plan/planner.js';
import {
  commandProbeResult, ipProbeLines, ipProbeResults, KERNEL_FEATURES, KERNEL_INFO, kernelHint, LAB_FEATURES, labNeeds,
  NETEM_PROBE, nftProbeText, parseBatchErrors, probeTools, TOOL_INFO, toolReason, type KernelFeature, type ToolName,
} from '../../../src/runner/features.js';
import { missingLines, TOOLS } from '../../../src/runner/preflight.js';

const ROOT = join(import.meta.dirname, '../../..');

function needsOf(yaml: string, opts: { pcap?: boolean; checks?: boolean } = {}) {
  const lab = parseLab(yaml, 'lab.yaml');
  const plan = planLab(lab, 'u');
  const stages = opts.checks === false ? plan.stages.map((s) => ({ ...s, checks: [] })) : plan.stages;
  return { lab, needs: labNeeds(lab, { namespaces: plan.namespaces, stages }, opts) };
}
const sorted = <T extends string>(it: Iterable<T>) => [...it].sort();

const DEVICES = `name: devs
nodes:
  r:
    forwarding: true
    interfaces:
      eth0: { netem: { delay: 5ms } }
    nat: [{ masquerade: true, out: eth0 }]
  c: { routes: [{ dst: 198.51.100.0/24, via: 10.1.0.1 }] }
links:
  - endpoints: [{ at: "r:eth0", address: 10.1.0.1/24 }, { at: "c:eth0", address: [10.1.0.2/24, "2001:db8::2/64"] }]
devices:
  - { kind: dummy, name: d0, node: r, address: 198.51.100.1/24 }
  - { kind: vlan, name: eth0.5, node: c, parent: eth0, id: 5 }
  - { kind: macvlan, name: mv0, node: c, parent: "r:eth0", mode: bridge }
checks:
  - { kind: ping, from: c, to: 198.51.100.1 }
  - { kind: tcp, from: c, to: 198.51.100.1, port: 80, expect: fail, reason: timeout }
  - { kind: http, from: c, to: 198.51.100.1, port: 80, expect: fail, reason: timeout }
`;

describe('needs table: lab → tools and kernel features', () => {
  it('veth-routing needs the namespace tools, sysctl, ping and veth; nothing to probe beyond what the build proves', async () => {
    const { needs } = needsOf(readFileSync(join(ROOT, 'labs/veth-routing.yaml'), 'utf8'));
    expect(sorted(needs.tools.keys())).toEqual(['ip', 'nsenter', 'ping', 'sysctl', 'xargs']);
    expect(sorted(needs.kernel.keys())).toEqual(['veth']);
  });

  it('devices, netem, nat, IPv6 and check kinds each bring their tools and kernel features', () => {
    const { needs } = needsOf(DEVICES);
    expect(sorted(needs.tools.keys())).toEqual(['curl', 'ip', 'nft', 'nsenter', 'ping', 'socat', 'sysctl', 'tc', 'xargs']);
    expect(sorted(needs.kernel.keys())).toEqual(['dummy', 'ipv6', 'macvlan', 'netem', 'nft-nat', 'nftables', 'veth', 'vlan']);
  });

  it('each need points at the lab element that needs it (path for file:line:col)', () => {
    const { needs } = needsOf(DEVICES);
    expect(needs.kernel.get('dummy')?.sites).toEqual([{ feature: 'dummy', element: 'dummy device d0 in node r', at: ['devices', 0] }]);
    expect(needs.kernel.get('vlan')?.sites).toEqual([{ feature: 'vlan', element: 'vlan device eth0.5 in node c', at: ['devices', 1] }]);
    expect(needs.kernel.get('macvlan')?.sites[0]).toMatchObject({ element: 'macvlan device mv0 in node c', at: ['devices', 2] });
    expect(needs.kernel.get('netem')?.sites[0]).toMatchObject({ element: 'netem on r:eth0', at: ['nodes', 'r', 'interfaces', 'eth0'] });
    expect(needs.kernel.get('nft-nat')?.sites[0]).toMatchObject({ element: 'nat of node r', at: ['nodes', 'r', 'nat', 0] });
    expect(needs.tools.get('socat')?.sites).toEqual([{ feature: 'tcp-check', element: 'tcp check "tcp c → 198.51.100.1:80"', at: ['checks', 1] }]);
    expect(needs.tools.get('curl')?.sites[0]?.at).toEqual(['checks', 2]);
    expect(needs.kernel.get('ipv6')?.sites[0]?.element).toBe('address 2001:db8::2/64 on c:eth0');
  });

  it('without checks (up without --check) no check tool is needed; --pcap adds tcpdump and timeout', () => {
    const { needs } = needsOf(DEVICES, { checks: false, pcap: true });
    expect(needs.tools.has('socat')).toBe(false);
    expect(needs.tools.has('curl')).toBe(false);
    expect(needs.tools.has('ping')).toBe(false);
    expect(needs.tools.get('tcpdump')?.sites).toEqual([{ feature: 'pcap', element: '--pcap' }]);
    expect(needs.tools.has('timeout')).toBe(true);
  });

  it('counts every element but keeps only the first few sites', () => {
    const checks = Array.from({ length: 5 }, (_, i) => `  - { kind: udp, from: a, to: b, port: ${1000 + i}, expect: fail, reason: refused }`).join('\n');
    const { needs } = needsOf(`name: many\nnodes: { a: {}, b: {} }\nlinks:\n  - endpoints: [{ at: "a:e", address: 10.0.0.1/24 }, { at: "b:e", address: 10.0.0.2/24 }]\nchecks:\n${checks}\n`);
    expect(needs.tools.get('socat')).toMatchObject({ count: 5 });
    expect(needs.tools.get('socat')?.sites).toHaveLength(3);
  });

  it('services, dns and dhcp fixtures need dnsmasq, udhcpc and dig', () => {
    const dns = needsOf(readFileSync(join(ROOT, 'test/fixtures/labs/dns.yaml'), 'utf8')).needs;
    expect(dns.tools.has('dnsmasq')).toBe(true);
    expect(dns.tools.has('dig')).toBe(true);
    const dhcp = needsOf(readFileSync(join(ROOT, 'test/fixtures/labs/dhcp.yaml'), 'utf8')).needs;
    expect(dhcp.tools.has('udhcpc')).toBe(true);
    expect(dhcp.tools.has('dnsmasq')).toBe(true);
  });

  it('tunnel services need socat and the tun kernel feature, capture checks tcpdump: named at the element', () => {
    const { needs } = needsOf(readFileSync(join(ROOT, 'labs/tun-vpn.yaml'), 'utf8'));
    expect(needs.tools.get('socat')?.sites.map((s) => [s.feature, s.element, s.at?.join('.')])).toEqual([
      ['tunnel', 'tunnel on gwa:tun0', 'steps.0.nodes.gwa.services.0'],
      ['tunnel', 'tunnel on gwb:tun0', 'steps.0.nodes.gwb.services.0'],
    ]);
    expect(needs.kernel.has('tun')).toBe(true);
    expect(needs.tools.get('tcpdump')?.sites.map((s) => s.feature)).toEqual(['capture-check', 'capture-check']);
    expect(needsOf(readFileSync(join(ROOT, 'labs/tun-vpn.yaml'), 'utf8'), { checks: false }).needs.tools.has('tcpdump')).toBe(false);
  });

  it('every tool of the table is needed by some lab feature, and every kernel feature too', () => {
    const tools = new Set(Object.values(LAB_FEATURES).flatMap((f) => [...f.tools]));
    expect(sorted(tools)).toEqual(sorted(Object.keys(TOOL_INFO)));
    const kernel = new Set(Object.values(LAB_FEATURES).flatMap((f) => [...f.kernel]));
    expect(sorted(kernel)).toEqual(sorted(KERNEL_FEATURES));
    expect(TOOLS.find((t) => t.cmd === 'socat')).toMatchObject({ pkg: 'socat', why: 'tunnel services (socat holding a tun/tap device, carrying it over UDP); tcp checks; udp checks', required: false });
    expect(TOOLS.filter((t) => t.required).map((t) => t.cmd)).toEqual(['ip', 'nsenter', 'xargs']);
  });

  it('scripts/setup.sh installs the package of every tool (coreutils is essential)', () => {
    const pkgs = /PKGS=\(([^)]*)\)/.exec(readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8'))?.[1]?.split(/\s+/) ?? [];
    const needed = new Set(Object.values(TOOL_INFO).map((t) => t.pkg).filter((p) => p !== 'coreutils'));
    expect([...needed].filter((p) => !pkgs.includes(p))).toEqual([]);
  });

  it('every program the source spawns is in the tool table (argv builders, checks, runner)', () => {
    const files = [join(ROOT, 'src/plan/argv.ts'), ...['src/checks', 'src/runner'].flatMap((d) => readdirSync(join(ROOT, d)).map((f) => join(ROOT, d, f)))];
    const spawned = new Set<string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      // inNamespace(ns, ['prog', …]) / inNs(ns, ['prog', …]) / run(['prog', …]) / a case returning ['prog', …]
      for (const m of text.matchAll(/(?:inNamespace|inNs|run|scratch)\([^[)]*\[\s*'([a-z0-9_-]+)'/g)) spawned.add(m[1] as string);
      for (const m of text.matchAll(/return \[\s*'([a-z0-9_-]+)', '-/g)) spawned.add(m[1] as string);
      // what `timeout -s SIG SECS` runs
      for (const m of text.matchAll(/'timeout', '-s', '[A-Z]+', [^,]+, '([a-z0-9_-]+)'/g)) spawned.add(m[1] as string);
    }
    // the fan-out's xargs and what it runs (jobWords), and dnsmasq/udhcpc/dig builders
    for (const m of readFileSync(join(ROOT, 'src/plan/argv.ts'), 'utf8').matchAll(/\[\s*'(xargs|dnsmasq|udhcpc|dig|timeout|tcpdump|nsenter)'/g)) spawned.add(m[1] as string);
    for (const p of ['ip', 'nsenter', 'xargs', 'socat', 'curl', 'ping', 'dig', 'dnsmasq', 'udhcpc', 'tcpdump', 'timeout', 'nft', 'sysctl', 'unshare']) expect(spawned).toContain(p);
    const unknown = [...spawned].filter((p) => !(p in TOOL_INFO));
    expect(unknown).toEqual([]);
  });
});

describe('probe commands use netlab\'s own syntax', () => {
  it('ip probe lines: veth first only when asked or a child needs a parent', () => {
    expect(ipProbeLines(['dummy'])).toEqual([{ feature: 'dummy', line: 'link add name nlp-dummy type dummy' }]);
    expect(ipProbeLines(['vlan', 'netem', 'ipv6']).map((l) => l.line)).toEqual([
      'link add name nlp0 type veth peer name nlp1',
      'link add link nlp0 name nlp-vlan type vlan id 5',
    ]);
    const all = ipProbeLines(KERNEL_FEATURES);
    expect(all.map((l) => l.feature)).toEqual(KERNEL_FEATURES.filter((f) => KERNEL_INFO[f].probe === 'ip'));
    expect(all.every((l) => /^(link add|tuntap add) /.test(l.line))).toBe(true);
    for (const l of all) expect(l.line.split(' ').filter((w) => w.startsWith('nlp')).every((n) => n.length <= 15)).toBe(true);
    // A device that has a macvlan cannot take an ipvlan (EBUSY): the two probes use the pair's two ends.
    const parent = (f: string) => /link (\S+) name nlp-/.exec(all.find((l) => l.feature === f)!.line)?.[1];
    expect([parent('macvlan'), parent('ipvlan')]).toEqual(['nlp0', 'nlp1']);
  });

  it('netem and nft probes', () => {
    expect(NETEM_PROBE).toEqual(['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    expect(nftProbeText('nft-nat')).toMatch(/masquerade/);
    expect(nftProbeText('nft-nat')).toMatch(/dnat ip to 10\.0\.0\.1:8080/);
    expect(nftProbeText('nftables')).toMatch(/ct state established,related accept/);
    expect(nftProbeText('nftables')).toMatch(/counter/);
    expect(probeTools('netem')).toEqual(['unshare', 'tc']);
    expect(probeTools('ipv6')).toEqual([]);
  });
});

describe('parsing probe results', () => {
  // What `unshare --net -- ip -force -batch -` printed on a 6.18 kernel without dummy, ipvlan and 8021q.
  const STDERR = 'Error: Unknown device type.\nCommand failed -:2\nError: Unknown device type.\nCommand failed -:5\nError: Unknown device type.\nCommand failed -:6\n';
  const lines = ipProbeLines(['veth', 'dummy', 'bridge', 'macvlan', 'ipvlan', 'vlan', 'vxlan', 'tap']);

  it('maps ip -batch failures to their lines', () => {
    expect(parseBatchErrors(STDERR)).toEqual(new Map([[2, 'Unknown device type.'], [5, 'Unknown device type.'], [6, 'Unknown device type.']]));
    expect(parseBatchErrors('RTNETLINK answers: Operation not supported\nCommand failed /tmp/x:3\n')).toEqual(new Map([[3, 'RTNETLINK answers: Operation not supported']]));
    expect(parseBatchErrors('')).toEqual(new Map());
  });

  it('each link kind: ok, or missing with the kernel\'s words', () => {
    expect(lines.map((l) => l.feature)).toEqual(['veth', 'bridge', 'dummy', 'macvlan', 'ipvlan', 'vlan', 'vxlan', 'tap']);
    // This batch's lines: 1 veth, 2 bridge, 3 dummy, 4 macvlan, 5 ipvlan, 6 vlan, 7 vxlan, 8 tap; this kernel lacks 3, 5, 6.
    const stderr = 'Error: Unknown device type.\nCommand failed -:3\nError: Unknown device type.\nCommand failed -:5\nError: Unknown device type.\nCommand failed -:6\n';
    const got = ipProbeResults(lines, { exitCode: 1, stderr });
    expect(got.map((r) => [r.feature, r.status, r.reason])).toEqual([
      ['veth', 'ok', undefined],
      ['bridge', 'ok', undefined],
      ['dummy', 'missing', 'Unknown device type.'],
      ['macvlan', 'ok', undefined],
      ['ipvlan', 'missing', 'Unknown device type.'],
      ['vlan', 'missing', 'Unknown device type.'],
      ['vxlan', 'ok', undefined],
      ['tap', 'ok', undefined],
    ]);
    expect(got[2]?.probe).toBe('ip link: link add name nlp-dummy type dummy');
  });

  it('a missing veth leaves the child kinds unknown, not missing', () => {
    const got = ipProbeResults(ipProbeLines(['vlan', 'dummy']), { exitCode: 1, stderr: 'Error: Unknown device type.\nCommand failed -:1\nCannot find device "nlp0"\nCommand failed -:3\n' });
    expect(got.map((r) => [r.feature, r.status])).toEqual([['veth', 'missing'], ['dummy', 'ok'], ['vlan', 'unknown']]);
  });

  it('a probe that could not run says so for every feature (unknown), never ok or missing', () => {
    const broken = ipProbeResults(lines, { exitCode: 1, stderr: 'unshare: unshare failed: Operation not permitted\n' });
    expect(new Set(broken.map((r) => r.status))).toEqual(new Set(['unknown']));
    expect(broken[0]?.reason).toBe('could not probe: unshare: unshare failed: Operation not permitted');
    const nospawn = ipProbeResults(lines, { exitCode: undefined, stderr: '', spawnError: 'spawn unshare ENOENT' });
    expect(nospawn.every((r) => r.status === 'unknown' && r.reason === 'could not probe: spawn unshare ENOENT')).toBe(true);
    expect(ipProbeResults(lines, { exitCode: 0, stderr: '' }).every((r) => r.status === 'ok')).toBe(true);
  });

  it('tc and nft: the Error line is the reason', () => {
    expect(commandProbeResult('netem', 'tc', { exitCode: 2, stderr: 'Error: Specified qdisc kind is unknown.\n' })).toEqual({ feature: 'netem', status: 'missing', reason: 'Specified qdisc kind is unknown.', probe: 'tc' });
    const nft = '/dev/stdin:5:5-14: Error: Could not process rule: No such file or directory\n    masquerade\n    ^^^^^^^^^^\n';
    expect(toolReason(nft)).toBe('Could not process rule: No such file or directory');
    expect(commandProbeResult('nft-nat', 'nft', { exitCode: 1, stderr: nft }).status).toBe('missing');
    expect(commandProbeResult('nft-nat', 'nft', { exitCode: 127, stderr: 'unshare: failed to execute nft: No such file or directory\n' }).status).toBe('unknown');
    expect(commandProbeResult('netem', 'tc', { exitCode: 0, stderr: '' }).status).toBe('ok');
  });

  it('hints name the module, or the kernel option when modules cannot load', () => {
    expect(kernelHint('dummy', true)).toBe('load the module: modprobe dummy (kernel option CONFIG_DUMMY)');
    expect(kernelHint('vlan', false)).toBe('this kernel cannot load modules: it needs CONFIG_VLAN_8021Q=y built in (another kernel, VM or host)');
    expect(kernelHint('netem', true)).toContain('modprobe sch_netem');
    expect(kernelHint('tun', true)).toContain('/dev/net/tun');
  });

  it('the preflight lines name the feature, the element with file:line:col, and the hint', () => {
    const { lab, needs } = needsOf(DEVICES);
    const src = new LabSource('lab.yaml', DEVICES);
    const text = missingLines(src, needs, ['socat'] satisfies ToolName[], [{ feature: 'dummy' as KernelFeature, status: 'missing', reason: 'Unknown device type.', probe: '' }], false).join('\n');
    expect(lab.devices[0]?.at).toEqual(['devices', 0]);
    expect(text).toBe(
      [
        '  kernel feature dummy (CONFIG_DUMMY) is missing: Unknown device type.',
        '      needed by lab.yaml:12:5  devices[0]  dummy device d0 in node r',
        '      hint: this kernel cannot load modules: it needs CONFIG_DUMMY=y built in (another kernel, VM or host)',
        '  tool socat is not on PATH (package socat)',
        '      needed by lab.yaml:17:5  checks[1]  tcp check "tcp c → 198.51.100.1:80"',
        '      hint: apt-get install -y socat',
      ].join('\n'),
    );
  });
});
