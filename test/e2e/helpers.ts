// Shared by e2e tests: run the built CLI, see namespaces, generate labs. Tests that build labs need root, or the
// unprivileged pass (scripts/test-unprivileged: NETLAB_E2E_UNPRIVILEGED=1 as a user, where every lab is boxed).
import { existsSync, readdirSync, readFileSync, mkdtempSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, it, type TestContext } from 'vitest';
import type { RunReport } from '../../src/report/model.js';
import { runtimeOf, type SandboxRef } from '../../src/runner/runtime.js';
import { procStart, stateDir } from '../../src/runner/state.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');
export const isRoot = process.getuid?.() === 0;
/**
 * NETLAB_E2E_UNPRIVILEGED=1 (scripts/test-unprivileged), not root: the suite's unprivileged pass. netlab boxes every
 * lab then (user namespaces), keeps its state in the user's own directory (STATE) and refuses, before building, what
 * needs root.
 */
export const UNPRIVILEGED = !isRoot && process.env.NETLAB_E2E_UNPRIVILEGED === '1';
/** Whether this process may build labs: as root, or as the unprivileged pass's user. */
export const canBuildLabs = isRoot || UNPRIVILEGED;
/** describe() for tests that build real namespaces: skipped (and said so) when this process cannot build labs. */
export const describeLab = canBuildLabs ? describe : describe.skip;
/** The old name of describeLab (it meant "root" when only root could build labs). */
export const describeRoot = describeLab;

/**
 * describe() for tests that truly need root (plain named namespaces in the host's /run/netns, cgroups, captures…):
 * skipped when not root, with `reason` in the skipped suite's name — every use gives its one-line reason.
 */
export function describeRootOnly(reason: string) {
  return (name: string, fn: () => void) => (isRoot ? describe(name, fn) : describe.skip(`${name} [needs root: ${reason}]`, fn));
}
/** it() for one test that truly needs root, like describeRootOnly. */
export function itRootOnly(reason: string) {
  return (name: string, fn: () => unknown, timeout?: number) => (isRoot ? it(name, fn, timeout) : it.skip(`${name} [needs root: ${reason}]`, fn, timeout));
}

/**
 * In the unprivileged pass, skips the running test (saying why) when netlab refused its lab before building because
 * part of it cannot work without root (exit 3, "cannot work without root: <reason>": captures, tun/tap here…).
 */
export function skipIfNeedsRoot(ctx: TestContext, r: { exitCode?: number; stderr: string }): void {
  if (!UNPRIVILEGED || r.exitCode !== 3) return;
  const why = /^\s*(.*cannot work without root: .*)$/m.exec(r.stderr)?.[1];
  if (why !== undefined) ctx.skip(`needs root: ${why}`);
}

/**
 * Test options of a test that needs kernel features the machines here may lack (dummy, ipvlan, vlan, netem): tagged
 * `kernel`, so `npm run test:kernel` (KERNEL_COMMAND) runs it inside a VM on Debian's stock kernel (scripts/kernel-vm),
 * with every module of src/runner/features.ts loaded. On a kernel without them the test still runs in the normal
 * suite where it can say something (a refusal before building), or skips saying this command runs it.
 */
export const KERNEL = { tags: ['kernel'] };
export const KERNEL_COMMAND = 'npm run test:kernel';
/** Set by scripts/kernel-vm: this process runs in its VM, where the kernel has every feature of the table. */
export const IN_KERNEL_VM = process.env.NETLAB_KERNEL_VM === '1';
/** How much slower than this machine the tests run (NETLAB_TEST_TIME_SCALE; the VM's emulation: 8): for time bounds. */
export const TIME_SCALE = Number(process.env.NETLAB_TEST_TIME_SCALE) > 0 ? Number(process.env.NETLAB_TEST_TIME_SCALE) : 1;

/** Where netlab keeps state records and run directories for this user: /run/netlab as root (stateDir()). */
export const STATE = stateDir();
/** Path of an instance's state record, and of its run directory (logs, leases, the box's work directory). */
export const recordFile = (instance: string) => join(STATE, `${instance}.json`);
export const runDirOf = (instance: string) => join(STATE, instance);

/**
 * NETLAB_E2E_SANDBOX=1: every `run`, `up` and `test` the tests start goes boxed (`--sandbox`), so the whole suite shows the
 * sandbox keeps every promise plain mode makes. The one place that decides it: netlab() and spawnNetlab() add it.
 */
export const SANDBOX = process.env.NETLAB_E2E_SANDBOX === '1';
/** Whether the labs the tests start are boxed: --sandbox runs, or the unprivileged pass (always boxed). */
export const BOXED = SANDBOX || UNPRIVILEGED;

/**
 * args as the CLI gets them: with `--sandbox` after `run`/`up`/`test` when the suite runs boxed (and it is not there yet).
 * `plain`: a test that compares with plain mode on purpose keeps its run plain either way.
 */
export function cliArgs(args: readonly string[], opts: { plain?: boolean } = {}): string[] {
  const boxed = SANDBOX && !opts.plain && (args[0] === 'run' || args[0] === 'up' || args[0] === 'test') && !args.includes('--sandbox');
  return boxed ? [...args, '--sandbox'] : [...args];
}

/** Runs the built CLI; never throws on a non-zero exit. */
export function netlab(args: string[], opts: { env?: Record<string, string>; plain?: boolean } = {}) {
  return execa('node', [CLI, ...cliArgs(args, opts)], { reject: false, env: { NO_COLOR: '1', ...opts.env }, cwd: ROOT });
}

/**
 * Starts the CLI without waiting (for signal tests). `child.kill('SIGTERM')` sends SIGTERM and nothing else: execa's
 * default would follow it with SIGKILL 5 s later, and a loaded machine's teardown can take longer than that (netlab
 * then dies by SIGKILL, exit code undefined, its teardown cut short).
 */
export function spawnNetlab(args: string[], opts: { env?: Record<string, string>; plain?: boolean } = {}) {
  return execa('node', [CLI, ...cliArgs(args, opts)], { reject: false, env: { NO_COLOR: '1', ...opts.env }, cwd: ROOT, forceKillAfterDelay: false });
}


/**
 * Where the lab's processes of an instance see /run/netns: the host's, or — a boxed instance while its supervisor
 * lives (the state record names it) — the sandbox's private one, seen through /proc/SUPERVISOR/root.
 */
export function netnsDir(instance: string, dir = STATE): string {
  try {
    const rec = JSON.parse(readFileSync(join(dir, `${instance}.json`), 'utf8')) as { sandbox?: { supervisor?: { pid: number; start: string } } };
    const sup = rec.sandbox?.supervisor;
    if (sup && procStart(sup.pid) === sup.start) return `/proc/${sup.pid}/root/run/netns`;
  } catch {
    /* no record (or half written): the host's view */
  }
  return '/run/netns';
}

/**
 * The lab process behind a pid netlab recorded: the pid itself (plain), or — boxed, where netlab records the
 * `nsenter -t SUPERVISOR` that waits for it and whose end kills it — that nsenter's one child.
 */
export function labPid(pid: number): number {
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] !== 'nsenter') return pid;
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length === 1 ? Number(kids[0]) : pid;
  } catch {
    return pid;
  }
}

/**
 * argv run where the instance's lab processes run: as is for a plain instance; for a boxed one that lives, inside its
 * sandbox, entered as netlab enters it (runtime.ts; an unprivileged user's box takes two nsenters), where its
 * /run/netns is — e.g. to delete one of its namespaces behind its back.
 */
export function inLab(instance: string, argv: readonly string[]): string[] {
  let rec: { sandbox?: SandboxRef };
  try {
    rec = JSON.parse(readFileSync(recordFile(instance), 'utf8')) as { sandbox?: SandboxRef };
  } catch {
    return [...argv];
  }
  return rec.sandbox && netnsDir(instance) !== '/run/netns' ? runtimeOf(rec).argv(argv) : [...argv];
}

/**
 * Namespaces of one instance currently present: in the host's /run/netns (plain) and, for a boxed instance that
 * lives, in its sandbox's (netnsDir). After the instance ended both are empty: that is what the tests assert.
 */
export function instanceNamespaces(instance: string, dir?: string): string[] {
  const prefix = `netlab-${instance}-`;
  const list = (dir: string) => {
    try {
      return readdirSync(dir).filter((n) => n.startsWith(prefix));
    } catch {
      return [];
    }
  };
  const boxed = netnsDir(instance, dir);
  return [...new Set([...list('/run/netns'), ...(boxed === '/run/netns' ? [] : list(boxed))])];
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

/**
 * Resolves once the instance has a namespace, woken by inotify on the directory they appear in, not by polling: the
 * host's /run/netns, or — boxed — the box's (/proc/SUPERVISOR/root/run/netns), once the state record names the
 * supervisor. A build is fast (a 60-node star's namespaces live ~0.3 s of a boxed run): polling can miss it.
 */
export async function waitForNamespaces(instance: string, timeoutMs = 15_000): Promise<void> {
  if (BOXED) await waitFor(() => netnsDir(instance) !== '/run/netns', { watch: STATE, timeoutMs });
  await waitFor(() => instanceNamespaces(instance).length > 0, { watch: netnsDir(instance), timeoutMs });
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

/** Processes whose command line contains `marker` (a number only a test's lab uses). */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) out.push(Number(name));
    } catch {
      /* exited */
    }
  }
  return out;
}

/** Every check result of a `-f json` report, across its stages. */
export function results(stdout: string) {
  return (JSON.parse(stdout) as RunReport).stages.flatMap((s) => s.results);
}
