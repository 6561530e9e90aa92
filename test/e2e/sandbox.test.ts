// --sandbox (runner/runtime.ts): the same lab gives the same report boxed; a boxed lab's namespaces are not the
// host's, its checks cannot reach the host's network namespace or /sys, nothing it starts outlives it, and killing
// netlab and the supervisor ends the whole lab without `cleanup`.
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { CLI, describeLab, itRootOnly, instanceNamespaces, netlab, spawnNetlab, tempDir, waitFor, processesWith, results, STATE } from './helpers.js';

const stateFile = (id: string) => `${STATE}/${id}.json`;

interface Rec {
  stage: number;
  sandbox?: { supervisor: { pid: number; start: string } };
}
function record(id: string): Rec | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(id), 'utf8')) as Rec;
  } catch {
    return undefined;
  }
}

/** The pids of every process whose mount namespace is `mnt` (the sandbox's: its supervisor, nsenter and all inside). */
function processesIn(mnt: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/mnt`) === mnt) out.push(Number(name));
    } catch {
      /* exited, or a kernel thread */
    }
  }
  return out;
}


/** The host's own interfaces (as /sys/class/net in the root namespace lists them), without lo. */
const hostLinks = readdirSync('/sys/class/net').filter((n) => n !== 'lo');


describeLab('--sandbox (real namespaces)', () => {
  const dir = tempDir('netlab-sandbox-');

  it('run veth-routing --sandbox gives the same checks and results as plain', async () => {
    const [plain, boxed] = await Promise.all([
      netlab(['run', 'veth-routing', '-i', 'e2e-sbx-plain', '-f', 'json', '-q'], { plain: true }),
      netlab(['run', 'veth-routing', '-i', 'e2e-sbx-boxed', '--sandbox', '-f', 'json', '-q']),
    ]);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(boxed.exitCode, boxed.stderr).toBe(0);
    const view = (stdout: string) => results(stdout).map((r) => [r.id, r.name, r.expected, r.got, r.gotReason ?? '', r.ok, r.evidence?.argv?.join(' ').replaceAll('boxed', 'plain')]);
    expect(view(boxed.stdout)).toEqual(view(plain.stdout));
    expect(results(boxed.stdout).length).toBeGreaterThan(3);
    expect(existsSync(stateFile('e2e-sbx-boxed'))).toBe(false);
  });

  it("a boxed check reaches neither the host's network namespace nor its /sys, and leaves no process behind", async () => {
    const marker = `1000.${process.pid}`;
    const links = "ip -o link | cut -d: -f2 | tr -d ' ' | sort | tr '\\n' ,";
    const lab = join(dir, 'escape.yaml');
    writeFileSync(
      lab,
      [
        'name: escape',
        'nodes:',
        '  a: {}',
        'checks:',
        `  - { kind: cmd, name: host-net, node: a, shell: "nsenter --net=/proc/1/ns/net ${links}", stdout: '^lo,$' }`,
        `  - { kind: cmd, name: pid1-all, node: a, shell: "nsenter -t 1 -n -m -p ${links}", stdout: '^lo,$' }`,
        `  - { kind: cmd, name: sys, node: a, shell: "ls /sys/class/net | sort | tr '\\n' ,", stdout: '^lo,$' }`,
        `  - { kind: cmd, name: stray, node: a, shell: "setsid sleep ${marker} </dev/null >/dev/null 2>&1 & echo started", stdout: started }`,
      ].join('\n') + '\n',
    );
    const r = await netlab(['run', lab, '-i', 'e2e-sbx-escape', '--sandbox', '-f', 'json', '-q']);
    const got = results(r.stdout);
    // `nsenter -t 1 -p` is refused outright (the box's pid namespace belongs to a user namespace above the lab's,
    // where the lab has no capability), or enters the supervisor's own namespaces: a failed check or only `lo`,
    // never the host.
    const pid1 = got[1]?.got === 'pass' ? 'pass' : 'fail';
    if (pid1 === 'fail') expect(got[1]?.evidence?.stderr).toMatch(/Operation not permitted/);
    expect(r.exitCode, r.stdout + r.stderr).toBe(pid1 === 'pass' ? 0 : 1);
    expect(got.map((x) => [x.name, x.got])).toEqual([['host-net', 'pass'], ['pid1-all', pid1], ['sys', 'pass'], ['stray', 'pass']]);
    // Not one of the host's interface names anywhere in what the checks printed.
    const printed = got.map((x) => x.evidence?.stdout ?? '').join('\n');
    expect(hostLinks.length).toBeGreaterThan(0);
    expect(hostLinks.filter((n) => printed.split(/[,\n]/).includes(n))).toEqual([]);
    // The `setsid sleep` died with the sandbox.
    await waitFor(() => processesWith(marker).length === 0, { timeoutMs: 5000 });
    expect(processesWith(marker)).toEqual([]);
  });

  itRootOnly('plain mode (without --sandbox) is root only')('the same /sys check sees the host\'s interfaces without --sandbox (the check above can tell)', async () => {
    const lab = join(dir, 'sys.yaml');
    writeFileSync(lab, `name: sys\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, name: sys, node: a, shell: "ls /sys/class/net | sort | tr '\\\\n' ,", stdout: '^lo,$' }\n`);
    const r = await netlab(['run', lab, '-i', 'e2e-sbx-sys', '-f', 'json', '-q'], { plain: true });
    expect(r.exitCode).toBe(1);
    expect(results(r.stdout).map((x) => x.got)).toEqual(['fail']);
  });

  it('up --sandbox: no netlab namespace on the host; exec, check, status and down work through the record', async () => {
    const id = 'e2e-sbx-up';
    const up = await netlab(['up', 'veth-routing', '-i', id, '--sandbox', '-q']);
    expect(up.exitCode, up.stderr).toBe(0);
    const sup = record(id)?.sandbox?.supervisor;
    expect(sup).toBeDefined();
    const mnt = readlinkSync(`/proc/${sup!.pid}/ns/mnt`);
    try {
      // The lab's namespaces are in the sandbox's /run/netns (what instanceNamespaces sees of a live boxed
      // instance), none in the host's.
      expect(instanceNamespaces(id).sort()).toEqual([`netlab-${id}-host`, `netlab-${id}-ns1`, `netlab-${id}-ns2`]);
      const list = await execa('ip', ['netns', 'list']);
      expect(list.stdout).not.toContain(`netlab-${id}-`);
      const ex = await netlab(['exec', id, 'ns1', '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'v1']);
      expect(ex.exitCode, ex.stderr).toBe(0);
      expect(ex.stdout).toContain('10.10.10.2/24');
      const sys = await netlab(['exec', id, 'ns1', '--', 'ls', '/sys/class/net']);
      expect(sys.stdout.trim().split('\n').sort()).toEqual(['lo', 'v1']);
      const check = await netlab(['check', id, '-f', 'json']);
      expect(check.exitCode, check.stderr).toBe(0);
      expect(results(check.stdout).every((x) => x.ok)).toBe(true);
      const status = await netlab(['status', '--json']);
      const row = (JSON.parse(status.stdout) as { instance: string; mode: string; namespaces: string }[]).find((x) => x.instance === id);
      expect(row).toMatchObject({ mode: 'up (sandbox)', namespaces: '3/3' });
    } finally {
      // A stand-in for an nsenter netlab started into the box (the launcher's, a check's): in the box's mount
      // namespace, in the host's pid namespace, and ending only after the box does (nsenter exits once the kernel has
      // killed its child). down returns only when it is gone too: nothing of the box outlives down.
      // (Its user namespace first: unprivileged, the box's mount namespace belongs to it.)
      const wait = `while kill -0 ${sup!.pid} 2>/dev/null; do sleep 0.05; done; sleep 1.5`;
      const lag = execa('nsenter', ['--preserve-credentials', '-t', String(sup!.pid), '--user', '--mount', '--', 'sh', '-c', wait], { reject: false });
      try {
        await waitFor(() => processesIn(mnt).includes(lag.pid!), { timeoutMs: 5000 });
        const down = await netlab(['down', id]);
        expect(down.exitCode, down.stderr).toBe(0);
        expect(down.stderr).toContain('deleted 3 namespaces');
        expect(processesIn(mnt)).toEqual([]);
      } finally {
        lag.kill('SIGKILL');
        await lag;
      }
    }
    expect(existsSync(stateFile(id))).toBe(false);
  });

  it('kill -9 of netlab and of the supervisor during up --sandbox --check ends every process of the lab; cleanup then only removes the record', async () => {
    const id = 'e2e-sbx-kill';
    const marker = `2000.${process.pid}`;
    // The work directory is the one place of the host a boxed check can write to.
    const started = `${STATE}/${id}/started`;
    const lab = join(dir, 'slow.yaml');
    writeFileSync(
      lab,
      `name: slow\nnodes:\n  a: {}\n  b: {}\nlinks:\n  - endpoints: [{ at: "a:eth0", address: 192.0.2.1/24 }, { at: "b:eth0", address: 192.0.2.2/24 }]\n` +
        `checks:\n  - { kind: cmd, name: slow, node: a, shell: 'setsid sleep ${marker} </dev/null >/dev/null 2>&1 & touch ${started}; exec sleep ${marker}', timeout: 60s }\n`,
    );
    const child = spawnNetlab(['up', lab, '-i', id, '--sandbox', '--check', '-q']);
    await waitFor(() => existsSync(started), { watch: `${STATE}/${id}`, timeoutMs: 30_000 });
    const sup = record(id)?.sandbox?.supervisor;
    expect(sup).toBeDefined();
    const mnt = readlinkSync(`/proc/${sup!.pid}/ns/mnt`);
    expect(processesWith(marker).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    process.kill(sup!.pid, 'SIGKILL');
    await child;
    await waitFor(() => processesIn(mnt).length === 0 && processesWith(marker).length === 0, { timeoutMs: 5000 });
    // The record stays (its owner died); verbs that would enter the sandbox say it is gone; cleanup removes it.
    expect(existsSync(stateFile(id))).toBe(true);
    const ex = await netlab(['exec', id, 'a', '--', 'true']);
    expect(ex.exitCode).toBe(3);
    expect(ex.stderr).toContain('sandbox is gone');
    const status = await netlab(['status', '--json']);
    expect((JSON.parse(status.stdout) as { instance: string; state: string }[]).find((x) => x.instance === id)?.state).toBe('stale: sandbox gone (netlab cleanup)');
    const c = await netlab(['cleanup', id]);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(existsSync(stateFile(id))).toBe(false);
    expect(existsSync(`${STATE}/${id}`)).toBe(false);
  });

  // As `docker run --privileged IMAGE netlab run --sandbox LAB` (no --init): netlab is pid 1 of its pid namespace, and
  // node reaps only the processes it started. A check cut short must leave the box no zombie for that init to reap:
  // the box ends only once every pid of it is free (runtime.ts's stopSandbox), and the teardown failed waiting.
  itRootOnly('a pid namespace of its own needs root')('netlab as pid 1: a check cut short in the sandbox, then the teardown', async () => {
    const id = 'e2e-sbx-pid1';
    const lab = join(dir, 'pid1.yaml');
    writeFileSync(lab, `name: pid1\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, name: cut short, node: a, shell: 'exec sleep 30', timeout: 1s }\n`);
    const r = await execa('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'node', CLI, 'run', lab, '-i', id, '--sandbox', '-f', 'json'], { reject: false, env: { NO_COLOR: '1' } });
    expect(r.stderr).not.toMatch(/could not stop/);
    expect(r.exitCode, r.stderr).toBe(1); // the check failed, and nothing else did
    expect(results(r.stdout).map((x) => [x.name, x.got, x.detail])).toEqual([['cut short', 'fail', 'still running after 1000 ms']]);
    expect(existsSync(stateFile(id))).toBe(false);
    expect(instanceNamespaces(id)).toEqual([]);
  }, 60_000);

  it('kill -9 of netlab alone during run --sandbox ends the lab too (the supervisor holds a pipe from netlab)', async () => {
    const id = 'e2e-sbx-kill-run';
    const marker = `3000.${process.pid}`;
    const started = `${STATE}/${id}/started`;
    const lab = join(dir, 'slow-run.yaml');
    writeFileSync(lab, `name: slow-run\nnodes:\n  a: {}\nchecks:\n  - { kind: cmd, name: slow, node: a, shell: 'touch ${started}; exec sleep ${marker}', timeout: 60s }\n`);
    const child = spawnNetlab(['run', lab, '-i', id, '--sandbox', '-q']);
    await waitFor(() => existsSync(started), { watch: `${STATE}/${id}`, timeoutMs: 30_000 });
    const sup = record(id)?.sandbox?.supervisor;
    expect(sup).toBeDefined();
    const mnt = readlinkSync(`/proc/${sup!.pid}/ns/mnt`);
    child.kill('SIGKILL');
    await child;
    await waitFor(() => processesIn(mnt).length === 0 && processesWith(marker).length === 0, { timeoutMs: 5000 });
    const c = await netlab(['cleanup', id]);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(existsSync(stateFile(id))).toBe(false);
  });
});
