// Shared by e2e tests: run the built CLI, see namespaces, generate labs. Tests that build labs need root.
import { existsSync, readdirSync, mkdtempSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe } from 'vitest';

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

/**
 * A temp directory removed after the tests of the file (or describe block) that made it, and when the worker exits
 * (so a skipped suite leaves nothing either).
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  afterAll(remove);
  process.once('exit', remove);
  return dir;
}

/**
 * Resolves once `cond()` holds. Event-driven where it can be: with `watch`, it looks again whenever a file in that
 * directory is created, changed or removed (inotify), so a short-lived state is not missed. Otherwise, and as a
 * safety net for events that never come (the directory does not exist yet, or is replaced), it looks again after
 * 10 ms, doubling up to 250 ms: no busy polling, even on a loaded machine.
 */
export function waitFor(cond: () => boolean, opts: { timeoutMs?: number; watch?: string } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise<void>((resolvePromise, reject) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let step = 10;
    const end = Date.now() + timeoutMs;
    const finish = (error?: Error) => {
      watcher?.close();
      clearTimeout(timer);
      if (error) reject(error);
      else resolvePromise();
    };
    const look = (): boolean => {
      try {
        if (!cond()) return false;
      } catch (e) {
        finish(e as Error);
        return true;
      }
      finish();
      return true;
    };
    const tick = () => {
      if (look()) return;
      if (Date.now() > end) return finish(new Error(`timed out after ${timeoutMs} ms waiting for a condition`));
      step = Math.min(step * 2, 250);
      timer = setTimeout(tick, step);
    };
    if (opts.watch !== undefined && existsSync(opts.watch)) {
      try {
        watcher = watch(opts.watch, () => void look());
        watcher.on('error', () => watcher?.close());
      } catch {
        watcher = undefined; // not watchable: the timer alone looks
      }
    }
    if (!look()) timer = setTimeout(tick, step);
  });
}

/** Writes a star lab (hub with a bridge, n nodes) to a temp file; returns its path. */
export function starLab(n: number, name = `star-${n}`): string {
  const lines = [`name: ${name}`, 'nodes:', '  hub: {}', ...Array.from({ length: n }, (_, i) => `  n${i + 1}: {}`)];
  lines.push('bridges:', `  - { name: br0, node: hub, address: 10.77.0.1/16, ports: [${Array.from({ length: n }, (_, i) => `p${i + 1}`).join(', ')}] }`);
  lines.push('links:');
  for (let i = 1; i <= n; i++) lines.push(`  - endpoints: [{ at: "n${i}:eth0", address: 10.77.${(i + 1) >> 8}.${(i + 1) & 255}/16 }, "hub:p${i}"]`);
  lines.push('checks:', ...Array.from({ length: n }, (_, i) => `  - { kind: ping, from: n${i + 1}, to: 10.77.0.1 }`));
  const file = join(tempDir('netlab-test-'), `${name}.yaml`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
