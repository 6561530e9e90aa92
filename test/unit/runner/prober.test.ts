// The prober's plumbing, without root (no namespace is entered): it starts and answers even when nothing else keeps
// netlab's event loop alive, a request it cannot carry out is an error answer (never a silent pass or fail), a line
// that is not a request is dropped, and close() ends the process.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { closeProbers, currentProber, Prober, PROBER_BOOT, PROBER_FILE, pythonPath, type ProbedLink } from '../../../src/runner/prober.js';
import { PLAIN } from '../../../src/runner/runtime.js';
import { settle, unsettled } from '../../../src/runner/settle.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

afterAll(() => closeProbers());

describe('the prober', () => {
  it('is waited for by a netlab with nothing else to do (its pipes are unref\'d; its start timer is not)', async () => {
    // A process that only asks for the prober: before the start timer, Node exited at once, printing nothing.
    const code = `const m = await import(${JSON.stringify(`${ROOT}dist/runner/prober.js`)}); const p = await m.currentProber(); console.log(p ? 'ready' : 'none'); await m.closeProbers(); console.log('closed');`;
    const r = await execa(process.execPath, ['--input-type=module', '-e', code], { reject: false });
    expect(r.stdout.split('\n')).toEqual(['ready', 'closed']);
    expect(r.exitCode).toBe(0);
  });

  it('answers error for a namespace that does not exist, and for a malformed request', async () => {
    const p = await currentProber();
    expect(p).toBeDefined();
    const a = await p?.ping({ netns: '/run/netns/netlab-no-such-namespace-x', target: '10.0.0.1', count: 1, interval: 0.05, wait: 0.5, resend: 0 });
    expect(a).toMatchObject({ outcome: 'error', sent: 0, received: 0 });
    expect(a?.message).toMatch(/netlab-no-such-namespace-x: No such file or directory/);
  });

  it('drops lines that are not requests and answers the next request', async () => {
    const child = execa(pythonPath(), ['-I', '-S', PROBER_FILE], { input: 'not json\n[1,2]\n{"id": 7, "op": "nope"}\n{"id": 8, "op": "ping", "netns": "/nonexistent/ns", "target": "10.0.0.1"}\n', reject: false });
    const r = await child;
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ ready: true });
    expect(lines.slice(1).map((l) => [l.id, l.outcome])).toEqual([
      [7, 'error'],
      [8, 'error'],
    ]);
    // stdin's end ends it.
    expect(r.exitCode).toBe(0);
  });

  it('starts through its boot code, and through the boot code\'s fallback where the import machinery is not there', async () => {
    const broken = PROBER_BOOT.replace('import module_from_spec', 'import no_such_name');
    expect(broken).not.toBe(PROBER_BOOT);
    for (const boot of [PROBER_BOOT, broken]) {
      const r = await execa(pythonPath(), ['-I', '-S', '-c', boot, PROBER_FILE], { input: '{"id": 3, "op": "nope"}\n', reject: false });
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([{ ready: true }, expect.objectContaining({ id: 3, outcome: 'error', message: 'unknown op' })]);
    }
  });

  it('exec: runs argv (no shell) from the prober with its input, gives output, exit code, a spawn error, a time limit', async () => {
    const p = await currentProber();
    expect(p).toBeDefined();
    const r = await p!.exec(['sh', '-c', 'cat; echo to-err >&2; exit 3', 'x'], { input: 'line one\n$(id)\n' });
    expect(r).toMatchObject({ argv: ['sh', '-c', 'cat; echo to-err >&2; exit 3', 'x'], exitCode: 3, stdout: 'line one\n$(id)\n', stderr: 'to-err\n', timedOut: false });
    expect(r?.spawnError).toBeUndefined();
    // More input than a pipe holds, and words that a shell would expand.
    const big = 'x'.repeat(300_000);
    expect(await p!.exec(['wc', '-c'], { input: big })).toMatchObject({ exitCode: 0, stdout: '300000\n' });
    expect((await p!.exec(['printf', '%s|', '$(id)', '*']))?.stdout).toBe('$(id)|*|');
    const missing = await p!.exec(['netlab-no-such-tool-z']);
    expect(missing?.exitCode).toBeUndefined();
    expect(missing?.spawnError).toMatch(/ENOENT/);
    const slow = await p!.exec(['sleep', '30'], { timeoutMs: 100 });
    expect(slow).toMatchObject({ exitCode: undefined, timedOut: true });
    // A prober that has ended answers nothing: exec says so at once (undefined: the caller runs argv itself), and
    // so does any other request, instead of waiting out its budget.
    const gone = new Prober(PLAIN);
    expect(await gone.ready).toBe(true);
    await gone.close();
    expect(await gone.exec(['true'])).toBeUndefined();
    expect(await gone.links('/proc/self/ns/net')).toMatch(/the prober ended/);
    // SIGPIPE is back to its default for the command (Python ignores it): `yes | head` ends.
    expect(await p!.exec(['sh', '-c', 'yes | head -c 4'])).toMatchObject({ exitCode: 0, stdout: 'y\ny\n' });
  });

  // Entering a namespace (even its own) needs CAP_SYS_ADMIN: as root the pings below wait for loopback's answers.
  it.skipIf(process.getuid?.() !== 0)('a signal that fires stops every request waiting on it, and no other', async () => {
    const p = await currentProber();
    const slow = { netns: '/proc/self/ns/net', target: '127.0.0.1', count: 3, interval: 1, wait: 1, resend: 0 };
    const ac = new AbortController();
    const other = new AbortController();
    const stopped = [p?.ping(slow, ac.signal), p?.ping({ ...slow, target: '::1' }, ac.signal)];
    const kept = p?.ping(slow, other.signal);
    await new Promise((r) => setImmediate(r)); // the requests are sent once the (resolved) ready promise is awaited
    ac.abort();
    for (const a of await Promise.all(stopped)) expect(a).toMatchObject({ outcome: 'error', message: 'stopped' });
    expect(await kept).toMatchObject({ outcome: 'reply', sent: 3, received: 3 });
  });
});

// A namespace of this test's own (root only): its links as the prober reads them, and waiting for them to change.
describe.skipIf(process.getuid?.() !== 0)('the prober\'s links (settling without a process)', () => {
  const ns = `netlab-ut-links-${process.pid}`;
  const ip = (...args: string[]) => execa('ip', ['-n', ns, ...args]);
  const view = (links: ProbedLink[]) =>
    links.map((l) => ({
      ifname: l.ifname,
      up: ['UP', 'LOWER_UP'].map((f) => (l.flags ?? []).includes(f)),
      operstate: l.operstate,
      port: l.linkinfo?.info_slave_kind === 'bridge' ? l.linkinfo.info_slave_data?.state : undefined,
      addrs: (l.addr_info ?? []).map((a) => `${a.local} ${a.scope}`),
    }));
  afterAll(async () => {
    await closeProbers();
    await execa('ip', ['netns', 'del', ns], { reject: false });
  });

  it('reads what `ip -j -d addr show` says; a waiting request is answered by the change it waited for', async () => {
    await execa('ip', ['netns', 'add', ns]);
    await ip('link', 'add', 'br0', 'type', 'bridge');
    await ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    await ip('link', 'set', 'v0', 'master', 'br0');
    for (const l of ['br0', 'v0', 'v1']) await ip('link', 'set', l, 'up');
    await ip('addr', 'add', '10.9.0.1/24', 'dev', 'br0');
    await ip('addr', 'add', 'fd00:9::1/64', 'dev', 'br0', 'nodad');
    const p = await currentProber();
    expect(p).toBeDefined();
    const path = `/run/netns/${ns}`;
    const probed = await p!.links(path);
    expect(typeof probed).not.toBe('string');
    const fromIp = JSON.parse((await ip('-j', '-d', 'addr', 'show')).stdout) as ProbedLink[];
    // Link-local addresses come and go with DAD: the configured ones and everything else are compared.
    const stable = (links: ProbedLink[]) => view(links).map((l) => ({ ...l, addrs: l.addrs.filter((a) => !a.startsWith('fe80:')) }));
    expect(stable(probed as ProbedLink[])).toEqual(stable(fromIp));
    expect(view(probed as ProbedLink[]).find((l) => l.ifname === 'v0')?.port).toMatch(/^(forwarding|disabled|listening|learning)$/);
    // Waiting up to an hour each time, longer than the test may take: only changes answer (IPv6 DAD may bring some
    // first), and the one that shows v1 down ends the wait.
    const v1Up = (links: ProbedLink[]) => view(links).find((l) => l.ifname === 'v1')?.up;
    const waiting = (async () => {
      for (;;) {
        const a = await p!.links(path, 3_600_000);
        if (typeof a === 'string' || v1Up(a)?.[0] === false) return a;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await ip('link', 'set', 'v1', 'down');
    const after = await waiting;
    expect(typeof after).not.toBe('string');
    expect(v1Up(after as ProbedLink[])).toEqual([false, false]);
    // A wait that no change ends gives the links after it, the same (link-local addresses aside, as above).
    expect(stable((await p!.links(path, 200)) as ProbedLink[])).toEqual(stable((await p!.links(path)) as ProbedLink[]));
    await p!.unwatch(path);
    expect(await p!.links('/run/netns/netlab-no-such-namespace-y')).toMatch(/netlab-no-such-namespace-y": No such file or directory/);
  });

  it('settle() returns once an STP bridge\'s port forwards (listening, learning: 2 s each), not before', async () => {
    await ip('link', 'add', 'br1', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '200');
    await ip('link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1');
    await ip('link', 'set', 'w0', 'master', 'br1');
    for (const l of ['br1', 'w0', 'w1']) await ip('link', 'set', l, 'up');
    const before = unsettled((await ip('-j', '-d', 'addr', 'show', 'dev', 'w0')).stdout);
    await settle([ns]);
    const state = (await ip('-j', '-d', 'addr', 'show', 'dev', 'w0')).stdout;
    // Something to wait for (the port listens, or is still disabled until the kernel saw its carrier).
    expect(before.some((b) => /^w0: bridge port (listening|disabled)$/.test(b)), before.join('; ')).toBe(true);
    expect(unsettled(state)).toEqual([]);
    expect((JSON.parse(state) as ProbedLink[])[0]?.linkinfo?.info_slave_data?.state).toBe('forwarding');
  });
});
