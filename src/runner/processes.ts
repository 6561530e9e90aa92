// Lab processes: services, DNS and DHCP servers started inside a namespace and waited for until ready; DHCP client runs.
import { createInterface } from 'node:readline';
import { closeSync, mkdirSync, readFileSync, watch } from 'node:fs';
import { openLabLog, readLabTail } from './lab-files.js';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { parseCidr } from '../lab/ip.js';
import { dhcpClientArgv, dhcpServerArgv, dnsServerArgv, serviceArgv, tunnelArgv } from '../plan/argv.js';
import type { Op } from '../plan/ops.js';
import { run, spawnDetached } from './exec.js';
import { procStart, type Lease, type ProcRef } from './state.js';
import { currentRuntime } from './runtime.js';

export type LabProcess = ProcRef & { node: string; what: string };

/** Files of one node's services inside the instance's run directory. */
export function serviceFiles(runDir: string, node: string): { log: string; clients: string } {
  return { log: join(runDir, `${node}.services.log`), clients: join(runDir, `${node}.clients.jsonl`) };
}

/** Starts a service-start op's server and resolves once it printed READY (it listens on every port by then). */
export async function startServices(op: Extract<Op, { kind: 'service-start' }>, runDir: string, timeoutMs = 10_000): Promise<LabProcess> {
  mkdirSync(runDir, { recursive: true });
  const files = serviceFiles(runDir, op.node);
  const proc = spawnDetached(serviceArgv(op, files.clients), { logFile: files.log, stdout: true });
  const stdout = proc.stdout;
  if (!stdout) throw new Error('service server started without stdout');
  const lines = createInterface({ input: stdout });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      lines.on('line', (l) => {
        if (l.startsWith('READY ')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void proc.exited.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      const log = readLabTail(files.log).trim().split('\n').slice(-3).join(' | ');
      proc.kill();
      throw new BuildError(`the services of ${op.node} did not start${log ? `: ${log}` : ''}`);
    }
  } finally {
    lines.close();
    proc.release();
  }
  return { pid: proc.pid, start: procStart(proc.pid) ?? '', node: op.node, what: 'services' };
}

/** Waits until the process has a socket bound to this local port (read from /proc/PID/net, its own namespace's view). */
async function waitBound(pid: number, proto: 'udp' | 'tcp', port: number, timeoutMs: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const rt = currentRuntime();
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (readFileSync(`/proc/${rt.labPid(pid)}/net/${proto}`, 'utf8').split('\n').some((l) => l.slice(0, 40).includes(hex))) return true;
    } catch {
      return false; // the process is gone
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/** The last lines of a dnsmasq log, as `: line | line` for an error message ('' when there is none). */
function lastLines(file: string): string {
  // The run directory is the lab's to write: never through a symlink, a FIFO or a device, and only the tail.
  const text = readLabTail(file).trim().split('\n').slice(-2).join(' | ');
  return text ? `: ${text}` : '';
}

/** Files of one DHCP server in the instance's run directory. */
export function dhcpFiles(runDir: string, node: string, ifname: string): { leases: string; log: string } {
  return { leases: join(runDir, `${node}.${ifname}.leases`), log: join(runDir, `${node}.${ifname}.dnsmasq.log`) };
}

/** Starts dnsmasq in the foreground and resolves once it listens on its UDP port; kills it if it does not. */
async function startDnsmasq(argv: string[], log: string, port: number, node: string, what: string, timeoutMs: number): Promise<LabProcess> {
  const proc = spawnDetached(argv, { logFile: log });
  proc.release();
  if (!(await waitBound(proc.pid, 'udp', port, timeoutMs))) {
    proc.kill();
    throw new BuildError(`the ${what} of ${node} did not start${lastLines(log)}`);
  }
  return { pid: proc.pid, start: procStart(proc.pid) ?? '', node, what };
}

/** Starts dnsmasq for a dhcp-server op and resolves once it listens on UDP port 67. */
export async function startDhcpServer(op: Extract<Op, { kind: 'dhcp-server' }>, runDir: string, timeoutMs = 5_000): Promise<LabProcess> {
  mkdirSync(runDir, { recursive: true });
  const files = dhcpFiles(runDir, op.node, op.ifname);
  return startDnsmasq(dhcpServerArgv(op, files), files.log, 67, op.node, `dhcp-server ${op.ifname}`, timeoutMs);
}

/** Log file of one DNS server in the instance's run directory. */
export function dnsLog(runDir: string, node: string, port: number): string {
  return join(runDir, `${node}.dns${port}.dnsmasq.log`);
}

/** Starts dnsmasq for a dns-server op and resolves once it listens on its UDP port. */
export async function startDnsServer(op: Extract<Op, { kind: 'dns-server' }>, runDir: string, timeoutMs = 5_000): Promise<LabProcess> {
  mkdirSync(runDir, { recursive: true });
  const log = dnsLog(runDir, op.node, op.port);
  return startDnsmasq(dnsServerArgv(op, log), log, op.port, op.node, `dns-server ${op.port}`, timeoutMs);
}

/** Log file of one tunnel (socat's stderr) in the instance's run directory. */
export function tunnelLog(runDir: string, node: string, device: string): string {
  return join(runDir, `${node}.${device}.tunnel.log`);
}

/**
 * Resolves true once `file` contains `line` (woken by inotify on each write, no polling), false when `exited`
 * resolves first or the time is up.
 */
export function waitForLogLine(file: string, line: RegExp, exited: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let done = false;
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher.close();
      resolve(v);
    };
    const look = () => {
      if (line.test(readLabTail(file))) finish(true);
    };
    const watcher = watch(file, look);
    const timer = setTimeout(() => finish(false), timeoutMs);
    // What was written before the watch began, and what the last write before an exit said.
    look();
    void exited.then(() => {
      look();
      finish(false);
    });
  });
}

/** What socat says once both ends are open: the device is held (it has carrier) and the UDP socket is bound. */
const TUNNEL_READY = /starting data transfer loop/;

/**
 * Starts socat for a tunnel-start op and resolves once it holds the device and its socket (it says so on stderr,
 * which goes to its log); kills it and throws BuildError with its words if it does not get there.
 */
export async function startTunnel(op: Extract<Op, { kind: 'tunnel-start' }>, runDir: string, timeoutMs = 5_000): Promise<LabProcess> {
  mkdirSync(runDir, { recursive: true });
  const log = tunnelLog(runDir, op.node, op.device);
  // The log exists before socat starts, so the watch has a file to watch.
  closeSync(openLabLog(log));
  const proc = spawnDetached(tunnelArgv(op), { logFile: log });
  const ready = await waitForLogLine(log, TUNNEL_READY, proc.exited, timeoutMs);
  proc.release();
  if (!ready) {
    proc.kill();
    throw new BuildError(`the tunnel on ${op.node}:${op.device} did not start${lastLines(log)}`);
  }
  return { pid: proc.pid, start: procStart(proc.pid) ?? '', node: op.node, what: `tunnel ${op.device}` };
}

/** Parses the NETLAB_LEASE line libexec/udhcpc-hook prints. */
export function parseLease(stdout: string, node: string, ifname: string): Lease | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('NETLAB_LEASE '));
  if (!line) return undefined;
  const kv = Object.fromEntries(line.slice(13).split(' ').map((w) => w.split('=') as [string, string]));
  const ip = kv.ip && parseCidr(kv.ip);
  const mask = kv.subnet && parseCidr(kv.subnet);
  if (!ip || !mask) return undefined;
  const prefix = mask.value.toString(2).replace(/0+$/, '').length;
  const router = kv.router?.split(/\s+/)[0];
  return { node, ifname, address: ip.address, prefix, ...(router ? { router } : {}), ...(kv.serverid ? { server: kv.serverid } : {}) };
}

/** Runs udhcpc once for a dhcp-client op; returns the lease, or throws BuildError with udhcpc's words. */
export async function requestLease(op: Extract<Op, { kind: 'dhcp-client' }>, signal?: AbortSignal): Promise<Lease> {
  const r = await run(dhcpClientArgv(op), { timeoutMs: 15_000, ...(signal ? { signal } : {}) });
  const lease = r.exitCode === 0 ? parseLease(r.stdout, op.node, op.ifname) : undefined;
  if (!lease) {
    const why = (r.spawnError ?? r.stderr.trim().split('\n').slice(-1)[0]) || `udhcpc exited ${r.exitCode}`;
    throw new BuildError(`${op.node}:${op.ifname} got no DHCP lease: ${why}`);
  }
  return lease;
}
