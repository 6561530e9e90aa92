// What the machine lacks stops `run`/`up` before anything is built (exit 3, with the lab element and a hint), and
// `doctor --json` reports this kernel's real answers: each compared with an independent try in a scratch namespace.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { TOOL_INFO, KERNEL_FEATURES, type ToolName } from '../../src/runner/features.js';
import { which } from '../../src/runner/preflight.js';
import { CLI, canBuildLabs, describeLab, IN_KERNEL_VM, instanceNamespaces, isRoot, KERNEL, KERNEL_COMMAND, netlab, ROOT, STATE } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function labFile(name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** netlab's scratch namespace: a user's own user namespace too, without root (runner/features.ts). */
const SCRATCH = [...(isRoot ? [] : ['--user', '--map-root-user']), '--net', '--'];

/** Whether the kernel accepts this, tried independently of netlab: its own unnamed namespace, gone when it exits. */
async function kernelAccepts(argv: string[]): Promise<boolean> {
  return (await execa('unshare', [...SCRATCH, ...argv], { reject: false })).exitCode === 0;
}
const independent = canBuildLabs
  ? {
      dummy: await kernelAccepts(['ip', 'link', 'add', 'd0', 'type', 'dummy']),
      netem: await kernelAccepts(['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']),
      vxlan: await kernelAccepts(['ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789']),
      bridge: await kernelAccepts(['ip', 'link', 'add', 'br0', 'type', 'bridge']),
    }
  : { dummy: false, netem: false, vxlan: false, bridge: false };

/** Commands netlab ran (NETLAB_TRACE=1 writes each to stderr as `+ argv`). */
/** Without root, netlab first makes sure this user may have user namespaces (runtime.ts's probe): not part of the build. */
const USERNS_PROBE = '+ unshare --user --map-root-user --net --mount -- ';
/**
 * A valid plain lab's prober starts before preflight (its Python start overlaps preflight and planning) and ends when
 * preflight refuses the lab: it makes no namespace and opens no socket, so it is not part of the build either.
 */
const PROBER = /^\+ \S*python3 -I -S -c <boot> \S*netlab-probe\.py &$/;
const traced = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('+ ') && (isRoot || !l.startsWith(USERNS_PROBE)) && !PROBER.test(l));

/** The trace shows that nothing was built: no namespace added, no state written, only the scratch-namespace probes ran. */
function nothingBuilt(stderr: string, instance: string): void {
  const cmds = traced(stderr);
  expect(cmds.filter((c) => !c.startsWith(`+ unshare ${SCRATCH.join(' ')} `))).toEqual([]);
  expect(stderr).not.toContain('netns add');
  expect(instanceNamespaces(instance)).toEqual([]);
  expect(existsSync(`${STATE}/${instance}.json`)).toBe(false);
}

/** A lab with a dummy device (this kernel has none). */
const DUMMY = join(ROOT, 'test/fixtures/labs/dummy.yaml');

describeLab('preflight and doctor (real kernel)', () => {
  it.skipIf(independent.dummy)('a lab with a dummy device, on a kernel without dummy: exit 3 before any namespace, naming the device and the fix', async () => {
    const file = DUMMY;
    for (const verb of ['run', 'up']) {
      const r = await netlab([verb, file, '-i', 'e2e-pf-dummy', '-q'], { env: { NETLAB_TRACE: '1' } });
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toContain('lab "dummy" needs a kernel feature (dummy) this machine lacks; nothing was created');
      expect(r.stderr).toContain('kernel feature dummy (CONFIG_DUMMY) is missing: Unknown device type.');
      expect(r.stderr).toContain(`needed by ${file}:10:5  devices[0]  dummy device d0 in node r`);
      expect(r.stderr).toMatch(/hint: (load the module: modprobe dummy|this kernel cannot load modules: it needs CONFIG_DUMMY=y)/);
      // The one probe that ran: netlab's ip words for a dummy device, in a throwaway namespace.
      expect(traced(r.stderr)).toEqual([`+ unshare ${SCRATCH.join(' ')} ip -force -batch -`]);
      expect(r.stderr).toContain('  | link add name nlp-dummy type dummy');
      nothingBuilt(r.stderr, 'e2e-pf-dummy');
    }
  });

  it('a lab with a dummy device, on a kernel with dummy: builds and holds', KERNEL, async (ctx) => {
    if (!independent.dummy) ctx.skip(`this kernel has no dummy: \`${KERNEL_COMMAND}\` runs this on a stock kernel`);
    const r = await netlab(['run', DUMMY, '-i', 'e2e-pf-dummy-ok', '-q']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(instanceNamespaces('e2e-pf-dummy-ok')).toEqual([]);
  });

  it('a check whose tool is not on PATH: exit 3 before building, naming the check and the package', async () => {
    // A PATH with every tool netlab knows but socat (links to the real ones).
    const bin = join(dir, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    for (const t of Object.keys(TOOL_INFO) as ToolName[]) {
      const real = which(t);
      if (t !== 'socat' && real) symlinkSync(real, join(bin, t));
    }
    const file = labFile('tcp', `name: pf-tcp
nodes: { a: {}, b: {} }
links:
  - endpoints: [{ at: "a:eth0", address: 10.1.0.1/24 }, { at: "b:eth0", address: 10.1.0.2/24 }]
checks:
  - { kind: ping, from: a, to: b }
  - { kind: tcp, from: a, to: b, port: 80, expect: fail, reason: refused }
`);
    const env = { PATH: bin, NO_COLOR: '1', NETLAB_TRACE: '1' };
    const r = await execa(process.execPath, [CLI, 'run', file, '-i', 'e2e-pf-tcp', '-q'], { reject: false, env, extendEnv: false, cwd: ROOT });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toContain('lab "pf-tcp" needs a tool (socat) this machine lacks; nothing was created');
    expect(r.stderr).toContain('tool socat is not on PATH (package socat)');
    expect(r.stderr).toContain(`needed by ${file}:7:5  checks[1]  tcp check "tcp a → b:80"`);
    expect(r.stderr).toContain('apt-get install -y socat');
    // veth links only: the build proves veth itself, so no probe ran either.
    expect(traced(r.stderr)).toEqual([]);
    nothingBuilt(r.stderr, 'e2e-pf-tcp');
    // doctor on that PATH: socat is reported missing with what needs it; the exit code follows the built-in labs
    // (veth-routing needs no socat).
    const doc = await execa(process.execPath, [CLI, 'doctor', '--json'], { reject: false, env: { PATH: bin }, extendEnv: false, cwd: ROOT });
    const report = JSON.parse(doc.stdout) as { ok: boolean; install: string; tools: { cmd: string; path?: string; neededBy: string[] }[]; labs: { lab: string; ok: boolean }[] };
    expect(report.tools.find((t) => t.cmd === 'socat')).toMatchObject({ neededBy: ['tunnel', 'tcp-check', 'udp-check'] });
    expect(report.tools.find((t) => t.cmd === 'socat')?.path).toBeUndefined();
    expect(report.install).toBe('apt-get install -y socat');
    expect(doc.exitCode).toBe(report.ok ? 0 : 3);
    const text = await execa(process.execPath, [CLI, 'doctor'], { reject: false, env: { PATH: bin }, extendEnv: false, cwd: ROOT });
    expect(text.stdout).toMatch(/^✘ socat +missing \(package socat\) +tunnel services \(.*\); tcp checks; udp checks$/m);
    expect(text.stdout).toMatch(/^missing here: .*socat.* stops before building \(exit 3\)$/m);
    // The same PATH with socat added: the lab runs (so it was socat, and only socat, that stopped it).
    symlinkSync(which('socat') as string, join(bin, 'socat'));
    const ok = await execa(process.execPath, [CLI, 'run', file, '-i', 'e2e-pf-tcp', '-q'], { reject: false, env: { PATH: bin, NO_COLOR: '1' }, extendEnv: false, cwd: ROOT });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(instanceNamespaces('e2e-pf-tcp')).toEqual([]);
  });

  it('doctor --json: every kernel feature with this kernel\'s real answer; the exit code follows the built-in labs', KERNEL, async () => {
    const r = await netlab(['doctor', '--json']);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      tools: { cmd: string; pkg: string; path?: string; neededBy: string[] }[];
      kernel: { feature: string; status: string; reason?: string; hint?: string; neededBy: string[] }[];
      labs: { lab: string; ok: boolean; missing: string[] }[];
    };
    expect(r.exitCode).toBe(out.ok ? 0 : 3);
    expect(out.kernel.map((k) => k.feature)).toEqual(KERNEL_FEATURES);
    for (const f of ['dummy', 'netem', 'vxlan', 'bridge'] as const) {
      const k = out.kernel.find((x) => x.feature === f);
      // Without root, doctor probes in a user namespace of the user's own, as run's preflight does.
      expect(k?.status, f).toBe(independent[f] ? 'ok' : 'missing');
      if (!independent[f]) expect(k?.hint, f).toMatch(/CONFIG_/);
    }
    if (!independent.dummy) expect(out.kernel.find((k) => k.feature === 'dummy')?.reason).toBe('Unknown device type.');
    if (!independent.netem) expect(out.kernel.find((k) => k.feature === 'netem')?.reason).toBe('Specified qdisc kind is unknown.');
    // In the kernel VM exactly the modules features.ts names are loaded (no autoloading): every feature must be there,
    // or the table (and the hint doctor gives from it) lacks a module.
    if (IN_KERNEL_VM) expect(out.kernel.filter((k) => k.status !== 'ok').map((k) => `${k.feature}: ${k.reason ?? k.status}`)).toEqual([]);
    expect(out.tools.find((t) => t.cmd === 'socat')).toMatchObject({ pkg: 'socat', neededBy: ['tunnel', 'tcp-check', 'udp-check'] });
    expect(out.tools.find((t) => t.cmd === 'socat')?.path).toBe(which('socat'));
    expect(out.labs.find((l) => l.lab === 'veth-routing')).toMatchObject({ ok: true, missing: [] });
    // doctor's own probes left nothing behind either.
    expect(instanceNamespaces('doctor')).toEqual([]);
  });
});
