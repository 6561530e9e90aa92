// Tunnel services in the plan: one socat per tunnel, its argv as words, its inverse, its line in `netlab plan`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labFile } from '../../../src/lab/catalog.js';
import { parseLab } from '../../../src/lab/load.js';
import { placement, shellLine, tunnelArgv } from '../../../src/plan/argv.js';
import { inverse, type Op } from '../../../src/plan/ops.js';
import { planLab } from '../../../src/plan/planner.js';

const load = (name: string) => parseLab(readFileSync(labFile(name), 'utf8'), `labs/${name}.yaml`);
type Tunnel = Extract<Op, { kind: 'tunnel-start' }>;
const tunnels = (name: string, stage: number) => planLab(load(name), 'x').stages[stage]!.ops.filter((o): o is Tunnel => o.kind === 'tunnel-start');

describe('tunnel services', () => {
  it('start in the step that declares them, the peer resolved to its address, the type from the device', () => {
    expect(tunnels('tun-vpn', 0)).toEqual([]);
    expect(tunnels('tun-vpn', 1)).toEqual([
      { kind: 'tunnel-start', ns: 'netlab-x-gwa', node: 'gwa', device: 'tun0', type: 'tun', peer: '198.51.100.2', port: 1194, local: '198.51.100.1' },
      { kind: 'tunnel-start', ns: 'netlab-x-gwb', node: 'gwb', device: 'tun0', type: 'tun', peer: '198.51.100.1', port: 1194, local: '198.51.100.2' },
    ]);
    expect(tunnels('tap-bridge', 1).map((t) => [t.node, t.device, t.type, t.peer, t.local])).toEqual([
      ['host', 'tap1', 'tap', '192.0.2.2', '192.0.2.1'],
      ['vm', 'eth0', 'tap', '192.0.2.1', '192.0.2.2'],
    ]);
  });

  it('run as a lab process, undone by stopping it', () => {
    const [t] = tunnels('tun-vpn', 1);
    expect(placement(t!)).toEqual({ where: 'proc', ns: 'netlab-x-gwa' });
    expect(inverse(t!)).toEqual({ kind: 'proc-stop', ns: 'netlab-x-gwa', node: 'gwa', what: 'tunnel tun0' });
  });

  it('socat attaches to the device and carries it over UDP, as argv words', () => {
    const [a] = tunnels('tun-vpn', 1);
    expect(tunnelArgv(a!)).toEqual([
      'nsenter', '--net=/run/netns/netlab-x-gwa', '--',
      'socat', '-d', '-d', 'TUN,tun-name=tun0,tun-type=tun,iff-no-pi', 'UDP4-DATAGRAM:198.51.100.2:1194,bind=198.51.100.1:1194',
    ]);
    const [host] = tunnels('tap-bridge', 1);
    expect(tunnelArgv(host!).slice(3)).toEqual(['socat', '-d', '-d', 'TUN,tun-name=tap1,tun-type=tap,iff-no-pi', 'UDP4-DATAGRAM:192.0.2.2:5555,bind=192.0.2.1:5555']);
    const { local: _, ...anyAddress } = host!;
    expect(tunnelArgv(anyAddress).slice(-1)).toEqual(['UDP4-DATAGRAM:192.0.2.2:5555,bind=0.0.0.0:5555']);
    const v6: Tunnel = { kind: 'tunnel-start', ns: 'n', node: 'n', device: 'tun0', type: 'tun', peer: '2001:db8::2', port: 1194 };
    expect(tunnelArgv(v6).slice(-1)).toEqual(['UDP6-DATAGRAM:[2001:db8::2]:1194,bind=[::]:1194']);
    expect(tunnelArgv({ ...v6, local: '2001:db8::1' }).slice(-1)).toEqual(['UDP6-DATAGRAM:[2001:db8::2]:1194,bind=[2001:db8::1]:1194']);
  });

  it('refuses words that are not what the schema allows, where the argv is made', () => {
    const ok: Tunnel = { kind: 'tunnel-start', ns: 'n', node: 'n', device: 'tun0', type: 'tun', peer: '198.51.100.2', port: 1194 };
    for (const bad of [
      { device: 'tun0,tun-type=tap' },
      { device: 'a'.repeat(16) },
      { peer: '198.51.100.2,fork' },
      { peer: 'EXEC:sh' },
      { peer: '198.51.100.0/24' },
      { local: '198.51.100.1,bind=0' },
      { local: '2001:db8::1' },
      { port: 0 },
      { port: 65536 },
      { port: 1.5 },
    ]) {
      expect(() => tunnelArgv({ ...ok, ...bad }), JSON.stringify(bad)).toThrow(/refusing tunnel words/);
    }
  });

  it('netlab plan prints the line a learner can type, in the background', () => {
    const [a] = tunnels('tun-vpn', 1);
    expect(shellLine(a!)).toBe(
      'ip netns exec netlab-x-gwa socat -d -d TUN,tun-name=tun0,tun-type=tun,iff-no-pi UDP4-DATAGRAM:198.51.100.2:1194,bind=198.51.100.1:1194 &',
    );
  });
});
