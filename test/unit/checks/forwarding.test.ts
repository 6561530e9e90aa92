// A router on a failed check's path that has forwarding off is named in the findings (read in its namespace).
import { describe, expect, it, vi } from 'vitest';
import { forwardingFinding, forwardingKey, walkPath, type NodeState } from '../../../src/checks/evidence.js';
import type { PlannedCheck } from '../../../src/plan/planner.js';
import { run } from '../../../src/runner/exec.js';

vi.mock('../../../src/runner/exec.js', () => ({ run: vi.fn(), spawnWatched: vi.fn() }));

const addr = (...locals: string[]) => JSON.stringify([{ ifname: 'eth0', addr_info: locals.map((local) => ({ local, scope: 'global' })) }]);
const NODES: NodeState[] = [
  { node: 'ns1', ns: 'netlab-x-ns1', addr: addr('10.0.1.2'), rules: '' },
  { node: 'r', ns: 'netlab-x-r', addr: addr('10.0.1.1', '10.0.2.1'), rules: '' },
  { node: 'ns2', ns: 'netlab-x-ns2', addr: addr('10.0.2.2'), rules: '' },
];
/** What each namespace answers: ns1 routes via r, r and ns2 are connected; `forwarding` is r's ip_forward. */
function lab(forwarding: string): void {
  vi.mocked(run).mockImplementation(async (argv) => {
    const ns = /--net=\/run\/netns\/(\S+)/.exec(argv[1] ?? '')?.[1];
    const cmd = argv.slice(3);
    let stdout = '';
    if (cmd[0] === 'sysctl') stdout = ns === 'netlab-x-r' ? `${forwarding}\n` : '0\n';
    else if (cmd.join(' ') === 'ip route get 10.0.2.2') stdout = ns === 'netlab-x-ns1' ? '10.0.2.2 via 10.0.1.1 dev eth0 src 10.0.1.2' : ns === 'netlab-x-r' ? '10.0.2.2 dev eth1 src 10.0.2.1' : 'local 10.0.2.2 dev lo src 10.0.2.2';
    else if (cmd.join(' ') === 'ip route get 10.0.1.2') stdout = ns === 'netlab-x-r' ? '10.0.1.2 dev eth0 src 10.0.1.1' : '10.0.1.2 via 10.0.2.1 dev eth0 src 10.0.2.2';
    return { argv: [...argv], exitCode: 0, stdout, stderr: '', durationMs: 1, timedOut: false };
  });
}
const check = { id: 'setup/1', stage: 'setup', name: 'p', kind: 'ping', expect: 'pass', timeoutMs: 500, retries: 0, at: [], from: 'ns1', fromNs: 'netlab-x-ns1', to: { kind: 'node', node: 'ns2' }, toText: 'ns2', count: 1, target: '10.0.2.2', more: [] } as PlannedCheck;

describe('forwarding off on the path', () => {
  it('names a router that reads 0, in the words of the finding', () => {
    expect(forwardingKey('10.0.2.2')).toBe('net.ipv4.ip_forward');
    expect(forwardingKey('2001:db8::2')).toBe('net.ipv6.conf.all.forwarding');
    expect(forwardingFinding('r', 'net.ipv4.ip_forward', '0\n', 'ns1', 'ns2')).toBe('r has forwarding off (net.ipv4.ip_forward=0): it does not route between ns1 and ns2');
    expect(forwardingFinding('r', 'net.ipv4.ip_forward', '1\n', 'ns1', 'ns2')).toBeUndefined();
  });

  it('reads the sysctl of each router the walk passes (not the source, not the target) and names the one that is off', async () => {
    lab('0');
    const { findings } = await walkPath(check, NODES);
    expect(findings).toEqual(['r has forwarding off (net.ipv4.ip_forward=0): it does not route between ns1 and ns2']);
    const asked = vi.mocked(run).mock.calls.filter(([argv]) => argv[3] === 'sysctl').map(([argv]) => argv);
    expect(asked).toEqual([['nsenter', '--net=/run/netns/netlab-x-r', '--', 'sysctl', '-n', 'net.ipv4.ip_forward']]);
  });

  it('says nothing when the router forwards', async () => {
    lab('1');
    expect((await walkPath(check, NODES)).findings).toEqual([]);
  });
});
