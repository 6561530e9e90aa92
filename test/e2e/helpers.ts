// Shared by e2e tests: run the built CLI, see namespaces, generate labs. Tests that build labs need root.
import { readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');
export const isRoot = process.getuid?.() === 0;
/** describe() for tests that build real namespaces: skipped (and said so) when not root. */
export const describeRoot = isRoot ? describe : describe.skip;

/** Runs the built CLI; never throws on a non-zero exit. */
export function netlab(args: string[], opts: { env?: Record<string, string> } = {}) {
  return execa('node', [CLI, ...args], { reject: false, env: { NO_COLOR: '1', ...opts.env }, cwd: ROOT });
}

/** Starts the CLI without waiting (for signal tests). */
export function spawnNetlab(args: string[]) {
  return execa('node', [CLI, ...args], { reject: false, env: { NO_COLOR: '1' }, cwd: ROOT });
}

/** Namespaces of one instance currently present. */
export function instanceNamespaces(instance: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`netlab-${instance}-`));
  } catch {
    return [];
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 15_000, stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Writes a star lab (hub with a bridge, n nodes) to a temp file; returns its path. */
export function starLab(n: number, name = `star-${n}`): string {
  const lines = [`name: ${name}`, 'nodes:', '  hub: {}', ...Array.from({ length: n }, (_, i) => `  n${i + 1}: {}`)];
  lines.push('bridges:', `  - { name: br0, node: hub, address: 10.77.0.1/16, ports: [${Array.from({ length: n }, (_, i) => `p${i + 1}`).join(', ')}] }`);
  lines.push('links:');
  for (let i = 1; i <= n; i++) lines.push(`  - endpoints: [{ at: "n${i}:eth0", address: 10.77.${(i + 1) >> 8}.${(i + 1) & 255}/16 }, "hub:p${i}"]`);
  lines.push('checks:', ...Array.from({ length: n }, (_, i) => `  - { kind: ping, from: n${i + 1}, to: 10.77.0.1 }`));
  const dir = mkdtempSync(join(tmpdir(), 'netlab-test-'));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
