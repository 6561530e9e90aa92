// A fresh temporary directory that both netlab and the lab's processes can use (a capture tcpdump writes and netlab
// then reads or copies). Plain: under the host's tmpdir. Sandbox: under the sandbox's private /tmp (the host's file
// system is read-only in there), which netlab reaches through the supervisor's /proc/PID/root.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentRuntime } from './runtime.js';

/** `host`: the directory as netlab opens it; `lab`: the same directory as the lab's processes see it. */
export async function labTempDir(prefix: string): Promise<{ host: string; lab: string }> {
  const rt = currentRuntime();
  if (rt.kind === 'plain') {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    return { host: dir, lab: dir };
  }
  const root = rt.hostPath('');
  const host = await mkdtemp(rt.hostPath(`/tmp/${prefix}`));
  rt.own(host);
  return { host, lab: host.slice(root.length) };
}
