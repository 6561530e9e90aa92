// The capture check's pure parts: its argv (filters as single words), tcpdump's closing counts, and the verdict.
import { describe, expect, it } from 'vitest';
import { captureArgv, captureNs, captureStats, capturePingArgv, judgeCapture, readArgv } from '../../../src/checks/capture.js';
import { runsAlone } from '../../../src/checks/index.js';

const on = { node: 'gwa', ifname: 'wan' };
const check = { fromNs: 'netlab-lab-1-pca', on, all: 'udp port 1194', none: 'icmp', minPackets: 6 };
const UDP = 'IP 198.51.100.1.1194 > 198.51.100.2.1194: UDP, length 84';
const ICMP = 'IP 198.51.100.1 > 198.51.100.2: ICMP echo request, id 7, seq 1, length 64';

describe('capture argv', () => {
  it('captures in the node of `on` (same instance as the source), the filter one word after --', () => {
    expect(captureNs(check)).toBe('netlab-lab-1-gwa');
    expect(captureArgv({ ...check, filter: 'ip and not arp' }, '/tmp/x/capture.pcap')).toEqual([
      'nsenter', '--net=/run/netns/netlab-lab-1-gwa', '--',
      'timeout', '-s', 'INT', '30', 'tcpdump', '-i', 'wan', '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', '/tmp/x/capture.pcap', '--', 'ip and not arp',
    ]);
    expect(captureArgv(check, '/f.pcap').slice(-2)).toEqual(['-w', '/f.pcap']);
  });

  it('reads the capture back with the lab\'s filter as one word, and pings from the source', () => {
    expect(readArgv('/f.pcap', 'not (udp port 1194)')).toEqual(['tcpdump', '-r', '/f.pcap', '-n', '-t', '-Z', 'root', '--', 'not (udp port 1194)']);
    expect(readArgv('/f.pcap')).toEqual(['tcpdump', '-r', '/f.pcap', '-n', '-t', '-Z', 'root']);
    expect(capturePingArgv({ fromNs: 'netlab-lab-1-pca', count: 3, timeoutMs: 2000, target: '10.2.0.10' })).toEqual([
      'nsenter', '--net=/run/netns/netlab-lab-1-pca', '--', 'ping', '-n', '-c', '3', '-i', '0.05', '-W', '2.00', '10.2.0.10',
    ]);
  });

  it('a namespace that is not netlab\'s is an internal error, not a capture somewhere else', () => {
    expect(() => captureNs({ fromNs: 'docker0', on })).toThrow(/not a netlab namespace/);
  });

  it('captures run alone; other checks share the pool', () => {
    expect(runsAlone({ kind: 'capture' })).toBe(true);
    expect(runsAlone({ kind: 'ping' })).toBe(false);
  });
});

describe('tcpdump\'s closing counts', () => {
  it('parses captured, received and dropped', () => {
    const stderr = 'tcpdump: listening on wan, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n6 packets captured\n7 packets received by filter\n0 packets dropped by kernel\n';
    expect(captureStats(stderr)).toEqual({ captured: 6, received: 7, dropped: 0 });
    expect(captureStats('1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n')).toEqual({ captured: 1, received: 1, dropped: 0 });
    expect(captureStats('tcpdump: wan: No such device exists')).toEqual({});
  });
});

describe('the verdict', () => {
  const seen = (total: string[], more: Partial<{ notAll: string[]; matchNone: string[]; replied: boolean }> = {}) => ({
    total,
    notAll: [],
    matchNone: [],
    replied: true,
    pingMessage: 'reply, TTL 62',
    ...more,
  });

  it('passes when the ping replied, enough packets crossed, all match all and none match none', () => {
    expect(judgeCapture(check, seen(Array(6).fill(UDP)))).toEqual({ got: 'pass', detail: 'ping replied; 6 packets crossed gwa:wan, all match "udp port 1194", none match "icmp"' });
  });

  it('fails (mismatch) when a packet does not match all, naming it — even if the ping replied', () => {
    const v = judgeCapture(check, seen([UDP, ICMP], { notAll: [ICMP] }));
    expect(v).toEqual({ got: 'fail', how: 'mismatch', detail: `2 packets crossed gwa:wan; 1 do not match "udp port 1194", e.g. ${ICMP}` });
  });

  it('fails (mismatch) when a packet matches none', () => {
    const { all: _, ...noAll } = check;
    const v = judgeCapture(noAll, seen(Array(6).fill(ICMP), { matchNone: Array(6).fill(ICMP) }));
    expect(v.how).toBe('mismatch');
    expect(v.detail).toContain('6 match "icmp"');
  });

  it('a forbidden packet is reported before a missing reply', () => {
    expect(judgeCapture(check, seen([ICMP], { notAll: [ICMP], replied: false })).how).toBe('mismatch');
  });

  it('fails (no-reply) when the ping got no reply, (too-few) when fewer packets crossed than asked', () => {
    expect(judgeCapture(check, seen([], { replied: false }))).toEqual({ got: 'fail', how: 'no-reply', detail: 'the ping got no reply (reply, TTL 62); 0 packets crossed gwa:wan' });
    expect(judgeCapture(check, seen([UDP, UDP]))).toEqual({ got: 'fail', how: 'too-few', detail: '2 packets crossed gwa:wan, expected at least 6' });
  });

  it('nothing crossing can never pass, whatever the filters', () => {
    expect(judgeCapture({ ...check, minPackets: 1 }, seen([])).got).toBe('fail');
  });
});
