// A reachability matrix on a real lab: two VMs behind a masquerading NAT device whose firewall only lets them out,
// and an internet node. The matrix holds (JSON and the grid say so); with one cell flipped the run exits 1 and the
// grid marks exactly that cell.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { describeLab, instanceNamespaces, netlab, tempDir } from './helpers.js';

/** Every temp file of this file's tests lives below this, removed after them. */
const TMP = tempDir('netlab-e2e-');

const LAB = 'test/fixtures/labs/matrix-nat.yaml';

/** The lab with one cell of the first matrix flipped: the VMs reach the internet, so "no" must fail. */
function flipped(): string {
  const text = readFileSync(LAB, 'utf8').replace('      vm -> internet: yes\n', '      vm -> internet: no\n');
  expect(text).toContain('vm -> internet: no');
  const file = join(mkdtempSync(join(TMP, 'netlab-matrix-')), 'matrix-nat.yaml');
  writeFileSync(file, text);
  return file;
}

/** The cells of the grid named `name` in -f matrix output: row label → column label → cell text. */
function grid(out: string, name: string): Record<string, Record<string, string>> {
  const block = out.slice(out.indexOf(`${name}  (setup)`)).split('\n\n')[0]!;
  const rows = block
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));
  const [head, ...body] = rows;
  return Object.fromEntries(body.map((r) => [r[0], Object.fromEntries(head!.slice(1).map((col, i) => [col, r[i + 1]]).filter(([, v]) => v !== ''))]));
}

describeLab('kind: matrix (real namespaces)', () => {
  it('-f json: every pair carries its matrix cell, and all hold', async () => {
    const r = await netlab(['run', LAB, '-i', 'e2e-matrix-json', '-f', 'json', '-q']);
    expect(instanceNamespaces('e2e-matrix-json')).toEqual([]);
    const report = JSON.parse(r.stdout) as RunReport;
    const results = report.stages.flatMap((s) => s.results);
    expect(results.filter((x) => !x.ok).map((x) => `${x.name}: ${x.detail}`)).toEqual([]);
    expect(r.exitCode).toBe(0);
    const cells = results.filter((x) => x.matrix).map((x) => `${x.matrix!.name}: ${x.matrix!.from} -> ${x.matrix!.to}: ${x.kind} ${x.from} → ${x.to} ${x.expected}`);
    expect(cells).toEqual([
      'VMs behind a NAT device: vm -> internet: ping vm1 → internet pass',
      'VMs behind a NAT device: vm -> internet: ping vm2 → internet pass',
      'VMs behind a NAT device: internet -> vm: ping internet → vm1 fail',
      'VMs behind a NAT device: internet -> vm: ping internet → vm2 fail',
      'VMs behind a NAT device: vm1 -> vm2: ping vm1 → vm2 fail',
      'VMs behind a NAT device: vm2 -> vm1: ping vm2 → vm1 fail',
      'VMs behind a NAT device: vm -> nat: ping vm1 → nat:wan pass',
      'VMs behind a NAT device: vm -> nat: ping vm2 → nat:wan pass',
      'VMs behind a NAT device: nat -> vm: ping nat → vm1 pass',
      'VMs behind a NAT device: nat -> vm: ping nat → vm2 pass',
      'web: vm -> web: tcp vm1 → internet pass',
      'web: vm -> web: tcp vm1 → 203.0.113.10 pass',
      'web: vm -> web: tcp vm2 → internet pass',
      'web: vm -> web: tcp vm2 → 203.0.113.10 pass',
    ]);
    // The one check outside the matrices has no matrix field; masquerade made the VM arrive as the NAT's address.
    expect(results.filter((x) => !x.matrix).map((x) => [x.kind, 'matrix' in x])).toEqual([['http', false]]);
    // Must-fail pairs ran with the short must-fail default timeout (0.5 s), not the 2 s of a must-pass ping.
    const mustFail = results.filter((y) => y.expected === 'fail');
    expect(mustFail.map((x) => x.kind)).toEqual(['ping', 'ping', 'ping', 'ping']);
    for (const x of mustFail) expect(x.evidence.argv.join(' '), x.name).toContain(' -W 0.50 ');
    expect(report.summary).toMatchObject({ total: 15, passed: 15, failed: 0, errors: 0 });
  });

  it('-f matrix: the grid shows every cell as expected', async () => {
    const r = await netlab(['run', LAB, '-i', 'e2e-matrix-grid', '-f', 'matrix', '-q']);
    expect(instanceNamespaces('e2e-matrix-grid')).toEqual([]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(grid(r.stdout, 'VMs behind a NAT device')).toEqual({
      vm: { internet: 'yes ✔', nat: 'yes ✔' },
      internet: { vm: 'no ✔' },
      vm1: { vm2: 'no ✔' },
      vm2: { vm1: 'no ✔' },
      nat: { vm: 'yes ✔' },
    });
    expect(grid(r.stdout, 'web')).toEqual({ vm: { web: 'yes ✔' } });
    expect(r.stdout).toContain('Other checks (1 of 1 as expected):\n  ✔ setup: http vm1 → internet/');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('15 passed, 0 failed');
  });

  it('with one cell flipped, the run exits 1 and the grid marks that cell only', async () => {
    const r = await netlab(['run', flipped(), '-i', 'e2e-matrix-flip', '-f', 'matrix', '-q']);
    expect(instanceNamespaces('e2e-matrix-flip')).toEqual([]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    const g = grid(r.stdout, 'VMs behind a NAT device');
    expect(g.vm).toEqual({ internet: 'no ✘ (got yes)', nat: 'yes ✔' });
    expect(Object.values(g).flatMap((row) => Object.values(row)).filter((c) => c.includes('✘'))).toEqual(['no ✘ (got yes)']);
    expect(r.stdout).toContain('✘ vm1 → internet (vm → internet): pass: reply');
    expect(r.stdout).toContain('  hint: the NAT device forwards from its LANs to the WAN only, and masquerades');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('13 passed, 2 failed');
  });
});
