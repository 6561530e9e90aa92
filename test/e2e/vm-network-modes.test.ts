// The vm-network-modes lab measures VirtualBox's network modes and must print LABS.md §13's table (seed 002's
// summary): this test runs it for real, rebuilds the table from the JSON report's pairs alone — what each pair got,
// not what the lab says it expects — and compares it with §13 cell by cell.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/result.js';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, ROOT } from './helpers.js';

/** LABS.md §13, as written there (the spec). */
const SPEC: Record<string, Record<string, string>> = {
  'host-only': { 'VM→host': 'yes', 'host→VM': 'yes', 'VM1↔VM2': 'yes', 'VM→internet': 'no', 'internet→VM': 'no' },
  internal: { 'VM→host': 'no', 'host→VM': 'no', 'VM1↔VM2': 'yes', 'VM→internet': 'no', 'internet→VM': 'no' },
  bridged: { 'VM→host': 'yes', 'host→VM': 'yes', 'VM1↔VM2': 'yes', 'VM→internet': 'yes', 'internet→VM': 'yes' },
  NAT: { 'VM→host': 'yes', 'host→VM': 'port forward', 'VM1↔VM2': 'no', 'VM→internet': 'yes', 'internet→VM': 'port forward' },
  'NAT network': { 'VM→host': 'yes', 'host→VM': 'port forward', 'VM1↔VM2': 'yes', 'VM→internet': 'yes', 'internet→VM': 'port forward' },
};

/** A VM's own address behind NAT (10.0.2.0/24), as opposed to a forwarded port on the host or the NAT device. */
const privateAddress = (r: CheckResult) => r.target.startsWith('10.0.2.');

/**
 * What a cell's pairs show: yes (all reached), no (none did), or port forward — every pair aimed at the VM's own
 * private address failed and every pair aimed at a port (tcp) got through; anything else says what it saw.
 */
function observed(pairs: CheckResult[]): string {
  if (pairs.length === 0) return 'no pairs';
  if (pairs.every((p) => p.got === 'pass')) return 'yes';
  if (pairs.every((p) => p.got === 'fail')) return 'no';
  const own = pairs.filter((p) => p.kind === 'ping');
  const ports = pairs.filter((p) => p.kind === 'tcp');
  const forward = own.length > 0 && ports.length > 0 && own.length + ports.length === pairs.length;
  if (forward && own.every((p) => p.got === 'fail' && privateAddress(p)) && ports.every((p) => p.got === 'pass')) return 'port forward';
  return `mixed: ${pairs.map((p) => `${p.name} ${p.got}`).join(', ')}`;
}

describeLab('vm-network-modes (real namespaces)', () => {
  it('the measured table equals LABS.md §13 cell by cell, and the lab labels its cells the same', async () => {
    const instance = 'e2e-vm-modes';
    const r = await netlab(['run', join(ROOT, 'labs/vm-network-modes.yaml'), '-i', instance, '-f', 'json', '-q']);
    expect(instanceNamespaces(instance)).toEqual([]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport;
    const pairs = report.stages.flatMap((s) => s.results).filter((x) => x.matrix?.row !== undefined);
    const table: Record<string, Record<string, string>> = {};
    const labels: Record<string, Record<string, string>> = {};
    for (const row of Object.keys(SPEC)) {
      table[row] = {};
      labels[row] = {};
      for (const col of Object.keys(SPEC[row]!)) {
        const cell = pairs.filter((p) => p.matrix!.row === row && p.matrix!.column === col);
        table[row]![col] = observed(cell);
        labels[row]![col] = [...new Set(cell.map((p) => p.matrix!.cell))].join(' / ');
      }
    }
    expect(table).toEqual(SPEC);
    expect(labels).toEqual(SPEC);
    // Nothing outside the table: every pair belongs to one of §13's cells.
    expect(pairs.filter((p) => SPEC[p.matrix!.row!]?.[p.matrix!.column!] === undefined).map((p) => p.name)).toEqual([]);
    // Each row checks both VMs of its mode (two pairs at least per cell), and everything came out as the lab expects.
    for (const row of Object.keys(SPEC)) for (const col of Object.keys(SPEC[row]!)) expect(pairs.filter((p) => p.matrix!.row === row && p.matrix!.column === col).length, `${row} ${col}`).toBeGreaterThanOrEqual(2);
    expect(report.stages.flatMap((s) => s.results).filter((x) => !x.ok).map((x) => `${x.name}: ${x.got} ${x.detail}`)).toEqual([]);
  });
});
