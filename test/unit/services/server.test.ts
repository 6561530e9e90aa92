// The service server as a program: spawned from dist/ (build first), talking only to 127.0.0.1 / ::1 on ports it picked.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerArgs, plainAddress, UsageError } from '../../../src/services/server.js';

const SERVER = fileURLToPath(new URL('../../../dist/services/server.js', import.meta.url));

interface Bound {
  service: string;
  port: number;
  proto: string;
}

interface Running {
  child: ChildProcess;
  services: Bound[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

function launch(args: string[]): { child: ChildProcess; out: string[]; err: string[]; exited: Running['exited'] } {
  const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => err.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, out, err, exited };
}

/** Starts the server and resolves once it printed READY (rejects if it exits first). */
async function start(args: string[]): Promise<Running> {
  const { child, err, exited } = launch(args);
  const lines = createInterface({ input: child.stdout! });
  const services = await new Promise<Bound[]>((resolve, reject) => {
    lines.once('line', (l) => {
      if (l.startsWith('READY ')) resolve(JSON.parse(l.slice('READY '.length)) as Bound[]);
      else reject(new Error(`unexpected first line: ${l}`));
    });
    void exited.then(({ code }) => reject(new Error(`server exited ${code}: ${err.join('')}`)));
  });
  return { child, services, stderr: () => err.join(''), exited };
}

/** Runs the server to its end (for the failure cases). */
async function runToEnd(args: string[]): Promise<Ended> {
  const { out, err, exited } = launch(args);
  const { code } = await exited;
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function portOf(r: Running, service: string): number {
  const s = r.services.find((b) => b.service === service);
  if (!s) throw new Error(`no ${service} in ${JSON.stringify(r.services)}`);
  return s.port;
}

function get(host: string, port: number, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

function tcpEcho(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end(data));
    let got = '';
    sock.setEncoding('utf8').on('data', (d: string) => (got += d));
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
  });
}

function udpEcho(type: 'udp4' | 'udp6', host: string, port: number, data: string): Promise<{ reply: string; from: string }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(type);
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no udp echo within 2 s'));
    }, 2000);
    sock.on('message', (msg, rinfo) => {
      clearTimeout(timer);
      sock.close();
      resolve({ reply: msg.toString('utf8'), from: rinfo.address });
    });
    sock.on('error', reject);
    sock.send(data, port, host);
  });
}

function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

beforeAll(() => {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`npx tsc -p .\` before these tests`);
});

// Servers a failed test left running.
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('service server: arguments (in process)', () => {
  it('keeps the services in command-line order', () => {
    expect(parseServerArgs(['--node', 'h1', '--udp-echo', '7', '--http', '80', '--tcp-echo', '7', '--http', '8080'])).toEqual({
      node: 'h1',
      services: [
        { service: 'udp-echo', port: 7 },
        { service: 'http', port: 80 },
        { service: 'tcp-echo', port: 7 },
        { service: 'http', port: 8080 },
      ],
    });
  });
  it.each([
    [[]],
    [['--node', 'h1']],
    [['--http', '80']],
    [['--node', 'h1', '--http', '65536']],
    [['--node', 'h1', '--http', '-1']],
    [['--node', 'h1', '--http']],
    [['--node', 'h1', '--http', '80', '--tcp-echo', '80']],
    [['--node', 'h1', '--http', '80', '--bind', 'nowhere']],
    [['--node', 'h1', '--http', '80', '--frobnicate']],
    [['--node', 'h1', '--http', '80', 'extra']],
  ])('rejects %j', (args) => {
    expect(() => parseServerArgs(args)).toThrow(UsageError);
  });
  it('reports IPv4-mapped addresses as IPv4', () => {
    expect(plainAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(plainAddress('::FFFF:192.0.2.7')).toBe('192.0.2.7');
    expect(plainAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(plainAddress('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('service server: bound to 127.0.0.1', () => {
  let dir: string;
  let log: string;
  let srv: Running;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netlab-services-'));
    log = join(dir, 'clients.jsonl');
    srv = await start(['--node', 'h1', '--bind', '127.0.0.1', '--http', '0', '--tcp-echo', '0', '--udp-echo', '0', '--http', '0', '--log', log]);
  });
  afterAll(() => {
    srv.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('says READY with every service and its real port', () => {
    expect(srv.services.map((s) => [s.service, s.proto])).toEqual([
      ['http', 'tcp'],
      ['tcp-echo', 'tcp'],
      ['udp-echo', 'udp'],
      ['http', 'tcp'],
    ]);
    for (const s of srv.services) expect(s.port).toBeGreaterThan(0);
    expect(srv.services[0]?.port).not.toBe(srv.services[3]?.port);
  });

  it('answers http with who it is and whom it saw', async () => {
    const port = portOf(srv, 'http');
    const r = await get('127.0.0.1', port, '/some/path?x=1');
    expect(r.status).toBe(200);
    expect(r.headers['x-netlab-node']).toBe('h1');
    expect(r.headers['x-netlab-client']).toBe('127.0.0.1');
    expect(r.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r.body) as Record<string, unknown>;
    expect(body).toMatchObject({ node: 'h1', client: '127.0.0.1', local: '127.0.0.1', localPort: port, method: 'GET', path: '/some/path?x=1' });
    expect(body.clientPort).toEqual(expect.any(Number));
  });

  it('answers /status/NNN with NNN', async () => {
    const port = portOf(srv, 'http');
    expect((await get('127.0.0.1', port, '/status/404')).status).toBe(404);
    expect((await get('127.0.0.1', port, '/status/503')).status).toBe(503);
    expect((await get('127.0.0.1', port, '/status/204')).status).toBe(204);
    expect((await get('127.0.0.1', port, '/status/600')).status).toBe(200);
  });

  it('echoes tcp', async () => {
    expect(await tcpEcho(portOf(srv, 'tcp-echo'), 'hello over tcp\n')).toBe('hello over tcp\n');
  });

  it('echoes udp', async () => {
    const r = await udpEcho('udp4', '127.0.0.1', portOf(srv, 'udp-echo'), 'hello over udp');
    expect(r).toEqual({ reply: 'hello over udp', from: '127.0.0.1' });
  });

  it('logs one line per request, connection and datagram', async () => {
    const http1 = portOf(srv, 'http');
    const echo = portOf(srv, 'tcp-echo');
    const udp = portOf(srv, 'udp-echo');
    rmSync(log, { force: true }); // the server appends: it recreates the file
    await get('127.0.0.1', http1, '/');
    await tcpEcho(echo, 'x');
    await udpEcho('udp4', '127.0.0.1', udp, 'y');
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.service, l.port, l.client])).toEqual([
      ['http', http1, '127.0.0.1'],
      ['tcp-echo', echo, '127.0.0.1'],
      ['udp-echo', udp, '127.0.0.1'],
    ]);
    for (const l of lines) {
      expect(l.clientPort).toEqual(expect.any(Number));
      expect(new Date(l.t as string).toISOString()).toBe(l.t);
    }
  });
});

describe('service server: every address (default)', () => {
  it('reports IPv4 clients of the dual-stack listener as plain IPv4, and IPv6 ones as IPv6', async () => {
    const srv = await start(['--node', 'r1', '--http', '0', '--udp-echo', '0']);
    const port = portOf(srv, 'http');
    const v4 = JSON.parse((await get('127.0.0.1', port, '/')).body) as Record<string, unknown>;
    expect(v4).toMatchObject({ client: '127.0.0.1', local: '127.0.0.1' });
    expect((await udpEcho('udp4', '127.0.0.1', portOf(srv, 'udp-echo'), 'v4')).reply).toBe('v4');
    if (await hasIpv6Loopback()) {
      const v6 = await get('::1', port, '/');
      expect(v6.headers['x-netlab-client']).toBe('::1');
      expect(JSON.parse(v6.body)).toMatchObject({ client: '::1', local: '::1' });
      expect(await udpEcho('udp6', '::1', portOf(srv, 'udp-echo'), 'v6')).toEqual({ reply: 'v6', from: '::1' });
    }
    srv.child.kill('SIGTERM');
    expect((await srv.exited).code).toBe(0);
  });
});

describe('service server: lifecycle', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('exits 0 promptly on %s, even with open connections', async (signal) => {
    const srv = await start(['--node', 'h1', '--bind', '127.0.0.1', '--http', '0', '--tcp-echo', '0', '--udp-echo', '0']);
    // An idle keep-alive HTTP connection (after one answered request) and an idle echo connection.
    const keep = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: portOf(srv, 'http'), path: '/', agent: keep }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      }).on('error', reject);
    });
    const idle = net.connect(portOf(srv, 'tcp-echo'), '127.0.0.1');
    idle.on('error', () => {});
    await new Promise((r) => idle.once('connect', r));
    const started = performance.now();
    srv.child.kill(signal);
    const { code, signal: killedBy } = await srv.exited;
    const ms = performance.now() - started;
    keep.destroy();
    idle.destroy();
    expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
    // close() gives up waiting after 500 ms and the server exits anyway; 5x that is a bound no load breaks, while a
    // server kept alive by its idle connections (HTTP keep-alive: 5 s; an echo connection: forever) still fails it.
    expect(ms).toBeLessThan(5 * 500);
  });

  it('exits 1 with ERROR and no READY when a port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runToEnd(['--node', 'h1', '--bind', '127.0.0.1', '--tcp-echo', '0', '--http', String(taken)]);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('READY');
      expect(r.stderr).toMatch(/^ERROR .*EADDRINUSE/m);
    } finally {
      blocker.close();
    }
  });

  it('exits 1 when the client log cannot be written', async () => {
    const r = await runToEnd(['--node', 'h1', '--bind', '127.0.0.1', '--http', '0', '--log', '/nonexistent-dir/clients.jsonl']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ERROR /);
  });

  it.each([
    [['--node', 'h1']],
    [['--http', '0']],
    [['--node', 'h1', '--http', 'eighty']],
    [['--node', 'h1', '--tcp-echo', '0', '--what']],
  ])('exits 2 with usage for %j', async (args) => {
    const r = await runToEnd(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('usage:');
  });
});
