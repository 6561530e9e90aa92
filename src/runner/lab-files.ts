// Files netlab opens on the host in a place the lab's processes can write too: the instance's run directory (service,
// DNS, DHCP and tunnel logs, leases, job files) and, in a sandbox, its private /tmp reached through
// /proc/SUPERVISOR/root (captures). In a sandbox the lab is root in there: whatever name netlab will open may already
// be a symlink (`ln -s /etc/x run/a.services.log`: netlab, root on the host, would create or append to /etc/x: an
// absolute symlink resolves against the host's root, even under /proc/PID/root), a FIFO (a read blocks netlab for
// ever), a device (/dev/zero: a read never ends) or a huge file. So netlab never follows a symlink there
// (O_NOFOLLOW), never blocks on opening (O_NONBLOCK), uses only regular files, and reads at most a bounded tail.
// Only the last path component is the lab's: these files sit directly in a directory netlab made and the lab cannot
// replace (the run directory, or a fresh mkdtemp directory whose own name netlab never opens again but to remove it).
import { closeSync, constants, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { BuildError } from '../errors.js';

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants;

/** Opens `flags` on `file`, never through a symlink, and only if it is a regular file; the fd, or throws. */
function openRegular(file: string, flags: number): number {
  let fd: number;
  try {
    fd = openSync(file, flags | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new BuildError(`${file} is a symlink (made by the lab?): netlab does not follow it`);
    if (code === 'ENXIO') throw new BuildError(`${file} is not a regular file (made by the lab?)`);
    throw e;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new BuildError(`${file} is not a regular file (made by the lab?)`);
  }
  return fd;
}

/** An fd to append to `file` (created if missing): a log a lab process writes to. The caller closes it. */
export function openLabLog(file: string): number {
  return openRegular(file, O_WRONLY | O_APPEND | O_CREAT);
}

/** Creates `file` (it must not exist, not even as a symlink) with `text`: a job file netlab hands to the lab's tools. */
export function writeNewLabFile(file: string, text: string): void {
  const fd = openRegular(file, O_WRONLY | O_CREAT | O_EXCL);
  try {
    const buf = Buffer.from(text);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
  } finally {
    closeSync(fd);
  }
}

/** At most the last `maxBytes` of a lab-written regular file, as text; '' when it is missing or not a regular file. */
export function readLabTail(file: string, maxBytes = 64 * 1024): string {
  let fd: number;
  try {
    fd = openRegular(file, O_RDONLY);
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, size - len + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

/** The whole of a regular file someone else wrote (never through a symlink), refusing one over `maxBytes`. */
export function readWholeFile(file: string, maxBytes: number): string {
  const fd = openRegular(file, O_RDONLY);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new BuildError(`${file} is ${size} bytes, more than the ${maxBytes} netlab reads`);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies a lab-written regular file `src` (never through a symlink) to `dst`, refusing one over `maxBytes` (a lab
 * could fill the disk netlab copies to). Throws with the reason.
 */
export function copyLabFile(src: string, dst: string, maxBytes: number): void {
  const fd = openRegular(src, O_RDONLY);
  let out: number | undefined;
  try {
    // Read through the fd netlab checked (the name may be replaced meanwhile), in chunks, stopping past the bound
    // (a lab process may still be appending to it).
    out = openSync(dst, O_WRONLY | O_CREAT | constants.O_TRUNC, 0o644);
    const buf = Buffer.alloc(64 * 1024);
    for (let total = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new BuildError(`${src} is over the ${maxBytes} bytes netlab copies`);
      for (let off = 0; off < n; ) off += writeSync(out, buf, off, n - off);
    }
  } catch (e) {
    if (out !== undefined) rmSync(dst, { force: true });
    throw e;
  } finally {
    if (out !== undefined) closeSync(out);
    closeSync(fd);
  }
}
