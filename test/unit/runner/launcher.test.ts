// The sandbox launcher (libexec/netlab-launcher.cjs + runner/launcher.ts), run here without a box: it must give back
// what execa gives exec.ts, and end what it started when netlab goes away.
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { Launcher, launcherCode } from '../../../src/runner/launcher.js';
import { procStart } from '../../../src/runner/runtime.js';
import { waitFor } from '../../e2e/helpers.js';

const node = (code: string) => () => [process.execPath, '-e', code];
const launcher = new Launcher(node(launcherCode()));

/** Whether a process with this pid is alive (not a zombie). */
const alive = (pid: number) => procStart(pid) !== undefined;

describe('launcher', () => {
  afterAll(() => launcher.close());

  it('gives stdout, stderr and the exit code, and feeds stdin', async () => {
    const r = await launcher.start(['sh', '-c', 'cat; echo to-err >&2; exit 3'], { input: 'line one\nline two' });
    expect(r).toMatchObject({ exitCode: 3, signal: undefined, stdout: 'line one\nline two', stderr: 'to-err\n', failed: true, timedOut: false, isCanceled: false });
    const ok = await launcher.start(['printf', 'a\\0b\\n']);
    expect(ok).toMatchObject({ exitCode: 0, stdout: 'a\0b\n', failed: false });
  });

  it('never runs a shell of its own: argv words reach the process as they are', async () => {
    const r = await launcher.start(['printf', '%s|', '$(id)', '; ls', '*']);
    expect(r.stdout).toBe('$(id)|; ls|*|');
  });

  it('streams output while the process runs, and a kill ends it with that signal', async () => {
    const p = launcher.start(['sh', '-c', 'echo ready; exec sleep 30']);
    await new Promise<void>((resolve) => p.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve()));
    p.kill('SIGINT');
    expect(await p).toMatchObject({ exitCode: undefined, signal: 'SIGINT', stdout: 'ready\n', failed: true });
  });

  it('a timeout stops the process (SIGTERM, then SIGKILL a second later) and says timedOut', async () => {
    const r = await launcher.start(['sleep', '30'], { timeoutMs: 50 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: undefined });
    const stubborn = await launcher.start(['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'], { timeoutMs: 100 });
    expect(stubborn).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  });

  it('an AbortSignal stops the process and says isCanceled, also when it fired before the start', async () => {
    const ac = new AbortController();
    const p = launcher.start(['sleep', '30'], { signal: ac.signal });
    ac.abort();
    expect(await p).toMatchObject({ isCanceled: true, signal: 'SIGTERM' });
    expect(await launcher.start(['sleep', '30'], { signal: AbortSignal.abort() })).toMatchObject({ isCanceled: true });
  });

  it('a tool that does not exist is a spawn error: no exit code, execa-like message', async () => {
    const r = await launcher.start(['netlab-no-such-tool', 'x']);
    expect(r).toMatchObject({ exitCode: undefined, signal: undefined, failed: true, timedOut: false });
    expect(r.shortMessage).toMatch(/^Command failed with ENOENT: netlab-no-such-tool x/);
  });

  it('runs many at once and keeps their outputs apart', async () => {
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => launcher.start(['sh', '-c', `echo ${i}; echo e${i} >&2`])));
    rs.forEach((r, i) => expect([r.stdout, r.stderr, r.exitCode]).toEqual([`${i}\n`, `e${i}\n`, 0]));
  });

  it('startIfReady starts the launcher and says undefined until it runs, then launches', async () => {
    const l = new Launcher(node(launcherCode()));
    expect(l.startIfReady(['true'])).toBeUndefined();
    await waitFor(() => l.isReady(), { timeoutMs: 10_000 });
    const p = l.startIfReady(['echo', 'now']);
    expect(await p).toMatchObject({ exitCode: 0, stdout: 'now\n' });
    l.close();
  });

  it('when netlab goes away, what the launcher started dies with it', async () => {
    // A netlab stand-in: starts `sleep` through a launcher, prints the sleep's pid, then is killed with SIGKILL.
    const script = `
      import { Launcher, launcherCode } from ${JSON.stringify(new URL('../../../dist/runner/launcher.js', import.meta.url).href)};
      const l = new Launcher(() => [process.execPath, '-e', launcherCode()]);
      const p = l.start(['sh', '-c', 'echo $$; exec sleep 30']);
      p.stdout.on('data', (c) => process.stdout.write(c));
      await p;`;
    const standIn = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, buffer: false });
    const pid = await new Promise<number>((resolve) => standIn.stdout?.on('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
    expect(alive(pid)).toBe(true);
    standIn.kill('SIGKILL');
    await standIn;
    await waitFor(() => !alive(pid), { timeoutMs: 5000 });
    expect(alive(pid)).toBe(false);
  });

  it('an idle launcher does not keep netlab running', async () => {
    const script = `
      import { Launcher, launcherCode } from ${JSON.stringify(new URL('../../../dist/runner/launcher.js', import.meta.url).href)};
      const l = new Launcher(() => [process.execPath, '-e', launcherCode()]);
      const r = await l.start(['true']);
      console.log('done', r.exitCode);`;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, timeout: 20_000 });
    expect([r.stdout, r.exitCode, r.timedOut]).toEqual(['done 0', 0, false]);
  });

  it('a launcher that dies fails what was pending, and the next start brings up a new one', async () => {
    const l = new Launcher(node(launcherCode()));
    const p = l.start(['sleep', '30']);
    const r = l.start(['sh', '-c', 'kill -9 $PPID']);
    expect(await p).toMatchObject({ failed: true, exitCode: undefined });
    expect((await p).shortMessage).toMatch(/launcher ended/);
    await r;
    expect(await l.start(['echo', 'again'])).toMatchObject({ exitCode: 0, stdout: 'again\n' });
    l.close();
  });

  it('whenReady: true once the launcher reads requests (startIfReady then uses it), false when it ends first', async () => {
    const l = new Launcher(node(launcherCode()));
    expect(l.isReady()).toBe(false);
    expect(await l.whenReady()).toBe(true);
    expect(l.isReady()).toBe(true);
    const r = l.startIfReady(['echo', 'through the launcher']);
    expect(r).toBeDefined();
    expect(await r).toMatchObject({ exitCode: 0, stdout: 'through the launcher\n' });
    l.close();
    const broken = new Launcher(node('process.exit(7)'));
    expect(await broken.whenReady()).toBe(false);
    expect(broken.isReady()).toBe(false);
  });

  it('lines that are not the launcher\'s answers (garbage, unknown ids, a huge line) are dropped, not obeyed', async () => {
    // A fake launcher that first writes noise, then answers request 1 properly.
    const fake = `
      process.stdout.write('not json\\n{"id":999,"exit":0}\\n' + 'x'.repeat(5 * 1024 * 1024) + '{"id":1,"exit":0}\\n[1]\\nnull\\n');
      process.stdin.once('data', () => process.stdout.write('{"id":1,"o":"aGk=","exit":7,"signal":null}\\n'));`;
    const l = new Launcher(node(fake));
    expect(await l.start(['anything'])).toMatchObject({ exitCode: 7, stdout: 'hi' });
    l.close();
  });
});
