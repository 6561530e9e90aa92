// labTempDir: the same directory as netlab opens it and as the lab's processes see it (a sandbox's /tmp through
// /proc/SUPERVISOR/root). This process stands in for a supervisor: its /proc/PID/root is the host's /.
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { labTempDir } from '../../../src/runner/lab-tmp.js';
import { procStart, sandboxRuntime, withRuntime } from '../../../src/runner/runtime.js';

it('plain: one directory under the tmpdir, the same for netlab and the lab', async () => {
  const d = await labTempDir('netlab-labtmp-');
  try {
    expect(d.lab).toBe(d.host);
    expect(d.host.startsWith(tmpdir())).toBe(true);
    expect(existsSync(d.host)).toBe(true);
  } finally {
    rmSync(d.host, { recursive: true, force: true });
  }
});

it("sandbox: netlab opens it through the supervisor's root, the lab sees it under /tmp", async () => {
  const rt = sandboxRuntime({ supervisor: { pid: process.pid, start: procStart(process.pid) ?? '' } });
  const d = await withRuntime(rt, () => labTempDir('netlab-labtmp-'));
  try {
    expect(d.host).toBe(`/proc/${process.pid}/root${d.lab}`);
    expect(d.lab).toMatch(/^\/tmp\/netlab-labtmp-\w+$/);
    expect(existsSync(d.lab)).toBe(true);
  } finally {
    rmSync(d.host, { recursive: true, force: true });
  }
});
