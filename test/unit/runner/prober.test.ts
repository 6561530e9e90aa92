// The prober's plumbing, without root (no namespace is entered): it starts and answers even when nothing else keeps
// netlab's event loop alive, a request it cannot carry out is an error answer (never a silent pass or fail), a line
// that is not a request is dropped, and close() ends the process.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { closeProbers, currentProber, PROBER_BOOT, PROBER_FILE, pythonPath } from '../../../src/runner/prober.js';

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
