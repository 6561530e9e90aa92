// The validate-time compile of capture filters: the empty capture file it compiles against, the argv, and which
// filters of a lab it compiles (and where they are written).
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../../src/lab/load.js';
import { captureFilters, compileArgv, emptyPcap } from '../../../src/runner/pcap-filter-check.js';

describe('capture filter compile', () => {
  it('compiles against a pcap header of an Ethernet link, the filter one word after --', () => {
    const h = emptyPcap();
    expect(h).toHaveLength(24);
    expect(h.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect([h.readUInt16LE(4), h.readUInt16LE(6), h.readUInt32LE(20)]).toEqual([2, 4, 1]);
    expect(compileArgv('/t/empty.pcap', 'udp port 1194')).toEqual(['tcpdump', '-r', '/t/empty.pcap', '-d', '--', 'udp port 1194']);
  });

  it('finds filter, all and none of every capture check, with their paths', () => {
    const lab = parseLab(
      `name: f
nodes: { a: {}, b: {} }
links: [{ endpoints: [{ at: "a:e", address: 192.0.2.1/24 }, { at: "b:e", address: 192.0.2.2/24 }] }]
checks:
  - { kind: capture, from: a, to: b, on: "a:e", filter: ip, none: icmp }
steps:
  - name: s
    checks: [{ kind: ping, from: a, to: b }, { kind: capture, from: b, to: a, on: "b:e", all: udp }]
`,
      'f.yaml',
    );
    expect(captureFilters(lab)).toEqual([
      { filter: 'ip', at: ['checks', 0, 'filter'] },
      { filter: 'icmp', at: ['checks', 0, 'none'] },
      { filter: 'udp', at: ['steps', 0, 'checks', 1, 'all'] },
    ]);
  });
});
