// Capture check: tcpdump on one interface (node:ifname) while the check's own ping from → to runs; then what crossed
// is judged by tcpdump itself, reading the capture back with the lab's filters: every packet must match `all`, none
// may match `none`, at least `minPackets` must have crossed, and the ping must have had its reply.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { inNamespace } from '../plan/argv.js';
import { nsName, parseNsName } from '../plan/naming.js';
import type { PlannedCheck } from '../plan/planner.js';
import { run, spawnWatched, type RunResult } from '../runner/exec.js';
import { labTempDir } from '../runner/lab-tmp.js';
import { parsePing } from './ping.js';
import { failResult, makeResult, seconds, type CheckResult } from './result.js';

type CapturePlanned = Extract<PlannedCheck, { kind: 'capture' }>;

/** How long a capture may live at most, even if netlab dies meanwhile (`timeout` ends tcpdump by itself). */
const CAPTURE_LIMIT_S = 30;
const INTERVAL_S = 0.05;

/** The namespace of the node the capture runs in (the naming scheme puts the node after the last dash). */
export function captureNs(c: Pick<CapturePlanned, 'fromNs' | 'on'>): string {
  const parsed = parseNsName(c.fromNs);
  if (!parsed) throw new Error(`internal: ${c.fromNs} is not a netlab namespace`);
  return nsName(parsed.instance, c.on.node);
}

/**
 * argv of the capture: tcpdump on the interface, every packet written at once (-U, --immediate-mode) to `file`, only
 * those `filter` keeps. The filter is one argv word after `--` (the schema allowed only filter words in it).
 */
export function captureArgv(c: Pick<CapturePlanned, 'fromNs' | 'on' | 'filter'>, file: string): string[] {
  return inNamespace(captureNs(c), [
    'timeout', '-s', 'INT', String(CAPTURE_LIMIT_S),
    'tcpdump', '-i', c.on.ifname, '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', file,
    ...(c.filter !== undefined ? ['--', c.filter] : []),
  ]);
}

/** argv that reads a capture back, one line per packet (those `filter` matches, when given). */
export function readArgv(file: string, filter?: string): string[] {
  return ['tcpdump', '-r', file, '-n', '-t', '-Z', 'root', ...(filter !== undefined ? ['--', filter] : [])];
}

/** The ping the check sends meanwhile. */
export function capturePingArgv(c: Pick<CapturePlanned, 'fromNs' | 'count' | 'timeoutMs' | 'target'>): string[] {
  return inNamespace(c.fromNs, ['ping', '-n', '-c', String(c.count), '-i', String(INTERVAL_S), '-W', seconds(c.timeoutMs), c.target]);
}

/** tcpdump's closing counts: packets it wrote, and packets the kernel had for it (some may not have been read yet). */
export function captureStats(stderr: string): { captured?: number; received?: number; dropped?: number } {
  const n = (re: RegExp) => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const captured = n(/(\d+) packets? captured/);
  const received = n(/(\d+) packets? received by filter/);
  const dropped = n(/(\d+) packets? dropped by kernel/);
  return { ...(captured !== undefined ? { captured } : {}), ...(received !== undefined ? { received } : {}), ...(dropped !== undefined ? { dropped } : {}) };
}

/** The packet lines tcpdump -r printed. */
const packetLines = (stdout: string): string[] => stdout.split('\n').filter((l) => l.trim() !== '');

/** What the capture showed, and how the check came out. */
export interface CaptureVerdict {
  got: 'pass' | 'fail';
  how?: 'mismatch' | 'too-few' | 'no-reply';
  detail: string;
}

/** Judges a capture: forbidden packets first (the point of the check), then the ping's reply, then the count. */
export function judgeCapture(
  c: Pick<CapturePlanned, 'on' | 'all' | 'none' | 'minPackets'>,
  seen: { total: string[]; notAll: string[]; matchNone: string[]; replied: boolean; pingMessage: string },
): CaptureVerdict {
  const where = `${c.on.node}:${c.on.ifname}`;
  const n = seen.total.length;
  const crossed = `${n} packet${n === 1 ? '' : 's'} crossed ${where}`;
  if (c.all !== undefined && seen.notAll.length) {
    return { got: 'fail', how: 'mismatch', detail: `${crossed}; ${seen.notAll.length} do not match "${c.all}", e.g. ${seen.notAll[0]?.trim()}` };
  }
  if (c.none !== undefined && seen.matchNone.length) {
    return { got: 'fail', how: 'mismatch', detail: `${crossed}; ${seen.matchNone.length} match "${c.none}", e.g. ${seen.matchNone[0]?.trim()}` };
  }
  if (!seen.replied) return { got: 'fail', how: 'no-reply', detail: `the ping got no reply (${seen.pingMessage}); ${crossed}` };
  if (n < c.minPackets) return { got: 'fail', how: 'too-few', detail: `${crossed}, expected at least ${c.minPackets}` };
  const said = [c.all !== undefined ? `all match "${c.all}"` : '', c.none !== undefined ? `none match "${c.none}"` : ''].filter(Boolean).join(', ');
  return { got: 'pass', detail: `ping replied; ${crossed}${said ? `, ${said}` : ''}` };
}

/** How many times a capture is taken again when the kernel had packets tcpdump did not write before it was stopped. */
const INCOMPLETE_ATTEMPTS = 3;

/**
 * Runs one capture check. A capture that is not whole (packets the kernel had for tcpdump when it was stopped, unread)
 * proves nothing either way: it is taken again, and after a few such attempts the check is an error.
 */
export async function runCapture(c: CapturePlanned, signal?: AbortSignal): Promise<CheckResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await captureOnce(c, signal);
    signal?.throwIfAborted();
    if (!r.incomplete || attempt >= INCOMPLETE_ATTEMPTS) return r.result;
  }
}

async function captureOnce(c: CapturePlanned, signal?: AbortSignal): Promise<{ result: CheckResult; incomplete?: boolean }> {
  const opts = signal ? { signal } : {};
  // The lab's tcpdump writes the file and reads it back: a directory it can write (in a sandbox: its private /tmp).
  const { host: dir, lab } = await labTempDir('netlab-capture-');
  const file = join(lab, 'capture.pcap');
  const argv = captureArgv(c, file);
  try {
    const w = spawnWatched(argv, { ready: /listening on/, timeoutMs: (CAPTURE_LIMIT_S + 5) * 1000, ...opts });
    if (!(await w.ready)) {
      const r = await w.stop();
      return { result: makeResult(c, r, 'error', `tcpdump did not start: ${r.spawnError ?? (r.stderr.trim().split('\n').slice(-1)[0] || `exit ${r.exitCode}`)}`) };
    }
    let cap!: RunResult;
    // The capture stops once the ping is over, whatever became of it.
    const ping = await run(capturePingArgv(c), { timeoutMs: c.timeoutMs + c.count * INTERVAL_S * 1000 + 10_000, ...opts }).finally(async () => {
      cap = await w.stop();
    });
    const p = parsePing(ping.exitCode, ping.stdout, ping.stderr);
    const evidence = (extra: string) => ({
      argv,
      exitCode: ping.exitCode,
      stdout: `${ping.stdout}${extra}`,
      stderr: `${ping.stderr}${cap.stderr}`,
      durationMs: ping.durationMs + cap.durationMs,
    });
    if (p.outcome === 'error') return { result: makeResult(c, evidence(''), 'error', `the ping could not run: ${p.message}`) };
    // Packets the kernel had for tcpdump that it never wrote: the capture is not whole, so it proves nothing.
    const stats = captureStats(cap.stderr);
    if (stats.captured === undefined) return { result: makeResult(c, evidence(''), 'error', `tcpdump did not finish: ${cap.stderr.trim().split('\n').slice(-1)[0] ?? ''}`) };
    if ((stats.dropped ?? 0) > 0 || (stats.received ?? 0) > stats.captured) {
      const why = `the capture is incomplete (${stats.received} packets received, ${stats.captured} written, ${stats.dropped ?? 0} dropped), ${INCOMPLETE_ATTEMPTS} times`;
      return { result: makeResult(c, evidence(''), 'error', why), incomplete: true };
    }
    const read = (filter?: string) => run(readArgv(file, filter), { timeoutMs: 10_000, ...opts });
    const [total, notAll, matchNone] = await Promise.all([
      read(),
      c.all !== undefined ? read(`not (${c.all})`) : undefined,
      c.none !== undefined ? read(c.none) : undefined,
    ]);
    const bad = [total, notAll, matchNone].find((r) => r !== undefined && r.exitCode !== 0);
    if (bad) return { result: makeResult(c, evidence(''), 'error', `tcpdump could not read the capture: ${bad.spawnError ?? (bad.stderr.trim().split('\n').slice(-1)[0] || `exit ${bad.exitCode}`)}`) };
    const lines = packetLines(total.stdout);
    const v = judgeCapture(c, {
      total: lines,
      notAll: packetLines(notAll?.stdout ?? ''),
      matchNone: packetLines(matchNone?.stdout ?? ''),
      replied: p.outcome === 'reply',
      pingMessage: p.message,
    });
    const ev = evidence(`--- captured on ${c.on.node}:${c.on.ifname}${c.filter !== undefined ? ` (${c.filter})` : ''}\n${lines.join('\n')}\n`);
    return { result: v.got === 'pass' ? makeResult(c, ev, 'pass', v.detail) : failResult(c, ev, v.how, v.detail) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
