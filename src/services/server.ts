// netlab's service server: the http / tcp-echo / udp-echo endpoints a lab runs inside a node's namespace so checks have
// something to talk to. A standalone program (node: builtins only), started by runner/processes.ts:
//   node dist/services/server.js --node NAME [--http PORT]... [--tcp-echo PORT]... [--udp-echo PORT]... [--bind ADDR] [--log FILE]
// It prints `READY [{"service","port","proto"},…]` on stdout once every listener is up (port 0 reports the real port),
// or `ERROR <message>` on stderr and exits 1 if any listen fails; bad arguments exit 2; SIGTERM/SIGINT exit 0.
import { appendFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

type Service = 'http' | 'tcp-echo' | 'udp-echo';
type Proto = 'tcp' | 'udp';

/** One service the command line asked for. */
export interface ServiceSpec {
  service: Service;
  port: number;
}

/** What the server runs: parsed and validated arguments. */
export interface ServerConfig {
  node: string;
  services: ServiceSpec[];
  bind?: string;
  log?: string;
}

/** One entry of the READY line. */
export interface BoundService {
  service: Service;
  port: number;
  proto: Proto;
}

const SERVICES: readonly Service[] = ['http', 'tcp-echo', 'udp-echo'];
const PROTO: Record<Service, Proto> = { http: 'tcp', 'tcp-echo': 'tcp', 'udp-echo': 'udp' };

/** Shown on stderr with exit code 2 when the arguments are wrong. */
export const USAGE = `usage: node server.js --node NAME [--http PORT]... [--tcp-echo PORT]... [--udp-echo PORT]... [--bind ADDR] [--log FILE]
  --node NAME       node name reported in answers (required)
  --http PORT       HTTP server answering 200 with JSON {node, client, clientPort, local, localPort, method, path};
                    /status/NNN (100..599) answers with status NNN
  --tcp-echo PORT   TCP echo server
  --udp-echo PORT   UDP echo server (IPv4 and, if available, IPv6)
  --bind ADDR       listen on ADDR only (default: every address, IPv4 and IPv6)
  --log FILE        append one JSON line per client connection/request/datagram
Each service flag is repeatable; at least one is required. Port 0 picks a free port (reported in the READY line).`;

/** Thrown for a bad command line (exit 2). */
export class UsageError extends Error {}

/** Parses argv (without node and script) into a config; throws UsageError for anything wrong. */
export function parseServerArgs(argv: readonly string[]): ServerConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        node: { type: 'string' },
        http: { type: 'string', multiple: true },
        'tcp-echo': { type: 'string', multiple: true },
        'udp-echo': { type: 'string', multiple: true },
        bind: { type: 'string' },
        log: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, tokens } = parsed;
  const node = values.node;
  if (node === undefined || node === '') throw new UsageError('--node NAME is required');
  // The name goes into a header: printable ASCII only.
  if (!/^[\x21-\x7e]+$/.test(node)) throw new UsageError(`--node "${node}" must be printable ASCII without spaces`);
  const services: ServiceSpec[] = [];
  const seen = new Set<string>();
  // Tokens keep the command-line order of the services (the READY line lists them in that order).
  for (const t of tokens) {
    if (t.kind !== 'option' || !SERVICES.includes(t.name as Service)) continue;
    const service = t.name as Service;
    const port = parsePort(t.value, service);
    const key = `${port}/${PROTO[service]}`;
    if (port !== 0 && seen.has(key)) throw new UsageError(`port ${key} is given twice`);
    seen.add(key);
    services.push({ service, port });
  }
  if (services.length === 0) throw new UsageError('give at least one service: --http, --tcp-echo or --udp-echo');
  if (values.bind !== undefined && net.isIP(values.bind) === 0) throw new UsageError(`--bind "${values.bind}" is not an IP address`);
  if (values.log === '') throw new UsageError('--log needs a file name');
  return {
    node,
    services,
    ...(values.bind !== undefined ? { bind: values.bind } : {}),
    ...(values.log !== undefined ? { log: values.log } : {}),
  };
}

function parsePort(value: string | undefined, service: Service): number {
  if (value === undefined || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`--${service} needs a port 0..65535, got "${value ?? ''}"`);
  }
  return Number(value);
}

/** Reports an IPv4-mapped IPv6 address (::ffff:1.2.3.4) as the plain IPv4 address a lab wrote. */
export function plainAddress(addr: string | undefined): string {
  if (addr === undefined) return '';
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(addr);
  return m ? (m[1] as string) : addr;
}

/** Errors of an IPv6 listen that mean "no IPv6 here" (not "port taken"): fall back to IPv4. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT', 'EINVAL']);

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** The running server: its listeners and open connections, so a signal can close everything at once. */
class Services {
  private readonly tcpServers: net.Server[] = [];
  private readonly udpSockets: dgram.Socket[] = [];
  private readonly connections = new Set<net.Socket>();
  private logBroken = false;

  constructor(private readonly cfg: ServerConfig) {}

  /** Appends one client line to --log; a failing write is reported once on stderr and never stops the server. */
  private logClient(service: Service, port: number, client: string | undefined, clientPort: number | undefined): void {
    if (this.cfg.log === undefined) return;
    const line = { t: new Date().toISOString(), service, port, client: plainAddress(client), clientPort: clientPort ?? 0 };
    try {
      appendFileSync(this.cfg.log, `${JSON.stringify(line)}\n`);
      this.logBroken = false;
    } catch (e) {
      if (!this.logBroken) process.stderr.write(`warning: cannot write ${this.cfg.log}: ${(e as Error).message}\n`);
      this.logBroken = true;
    }
  }

  /** Starts one service and resolves with the port it got. */
  async start(spec: ServiceSpec): Promise<number> {
    if (spec.service === 'udp-echo') return this.startUdp(spec.port);
    const server = spec.service === 'http' ? this.httpServer() : this.echoServer();
    this.tcpServers.push(server);
    server.on('connection', (sock: net.Socket) => {
      this.connections.add(sock);
      sock.once('close', () => this.connections.delete(sock));
    });
    const port = await this.listenTcp(server, spec.port);
    server.on('error', (e) => process.stderr.write(`${spec.service} port ${port}: ${e.message}\n`));
    return port;
  }

  private httpServer(): http.Server {
    const node = this.cfg.node;
    const server = http.createServer((req, res) => {
      const sock = req.socket;
      const client = plainAddress(sock.remoteAddress);
      const localPort = sock.localPort ?? 0;
      this.logClient('http', localPort, client, sock.remotePort);
      const path = req.url ?? '/';
      const m = /^\/status\/(\d{3})(?:[?#].*)?$/.exec(path);
      const status = m ? Number(m[1]) : 200;
      const useStatus = status >= 100 && status <= 599 ? status : 200;
      const headers = { 'X-Netlab-Node': node, 'X-Netlab-Client': client };
      if (useStatus < 200) {
        // A 1xx is never a final answer in HTTP/1.1: send it as the only answer and close, so a client sees it (curl's
        // %{http_code} reports it) instead of waiting for a final response forever.
        const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        sock.end(`HTTP/1.1 ${useStatus} ${http.STATUS_CODES[useStatus] ?? 'Informational'}\r\n${head}Connection: close\r\n\r\n`);
        return;
      }
      const body = `${JSON.stringify({
        node,
        client,
        clientPort: sock.remotePort ?? 0,
        local: plainAddress(sock.localAddress),
        localPort,
        method: req.method ?? '',
        path,
      })}\n`;
      res.writeHead(useStatus, {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(body);
    });
    return server;
  }

  private echoServer(): net.Server {
    return net.createServer((sock) => {
      this.logClient('tcp-echo', sock.localPort ?? 0, sock.remoteAddress, sock.remotePort);
      sock.on('error', () => sock.destroy());
      sock.pipe(sock);
    });
  }

  /** Listens on --bind, or on :: (dual stack) falling back to 0.0.0.0 where the namespace has no IPv6. */
  private async listenTcp(server: net.Server, port: number): Promise<number> {
    const bind = this.cfg.bind;
    if (bind !== undefined) {
      await listenOnce(server, { host: bind, port });
    } else {
      try {
        await listenOnce(server, { host: '::', port, ipv6Only: false });
      } catch (e) {
        if (!NO_IPV6.has(errCode(e) ?? '')) throw e;
        await listenOnce(server, { host: '0.0.0.0', port });
      }
    }
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  /** udp4 on 0.0.0.0 and udp6 on :: (IPv6 only) on the same port; only one family with --bind. */
  private async startUdp(port: number): Promise<number> {
    const bind = this.cfg.bind;
    if (bind !== undefined) {
      return this.bindUdp(net.isIPv6(bind) ? 'udp6' : 'udp4', bind, port);
    }
    // With port 0 the IPv4 socket picks the port and IPv6 follows; retry in the rare case it is taken on IPv6.
    for (let attempt = 0; ; attempt++) {
      const v4port = await this.bindUdp('udp4', '0.0.0.0', port);
      try {
        await this.bindUdp('udp6', '::', v4port);
        return v4port;
      } catch (e) {
        const code = errCode(e) ?? '';
        if (NO_IPV6.has(code)) return v4port;
        if (port !== 0 || code !== 'EADDRINUSE' || attempt >= 4) throw e;
        this.udpSockets.pop()?.close();
      }
    }
  }

  private bindUdp(type: 'udp4' | 'udp6', address: string, port: number): Promise<number> {
    const sock = dgram.createSocket({ type, ipv6Only: type === 'udp6' && address === '::' });
    return new Promise<number>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address, port }, () => {
        sock.off('error', reject);
        const bound = sock.address().port;
        this.udpSockets.push(sock);
        sock.on('error', (e) => process.stderr.write(`udp-echo port ${bound}: ${e.message}\n`));
        sock.on('message', (msg, rinfo) => {
          this.logClient('udp-echo', bound, rinfo.address, rinfo.port);
          sock.send(msg, rinfo.port, rinfo.address, () => {
            /* a lost echo is the client's timeout, not our error */
          });
        });
        resolve(bound);
      });
    }).catch((e: unknown) => {
      sock.close();
      throw e;
    });
  }

  /** Closes every listener and connection; resolves when closed, or after `capMs` at most. */
  async close(capMs = 500): Promise<void> {
    for (const c of this.connections) c.destroy();
    const closing: Promise<void>[] = [];
    for (const s of this.tcpServers) {
      if (s instanceof http.Server) s.closeAllConnections();
      if (s.listening) closing.push(new Promise((r) => s.close(() => r())));
    }
    for (const u of this.udpSockets) {
      closing.push(
        new Promise((r) => {
          try {
            u.close(() => r());
          } catch {
            r();
          }
        }),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((r) => {
      timer = setTimeout(r, capMs);
    });
    await Promise.race([Promise.all(closing), cap]);
    clearTimeout(timer);
  }
}

function listenOnce(server: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts);
  });
}

/** The program: parse, listen on everything, say READY (or ERROR), serve until SIGTERM/SIGINT. */
async function main(argv: readonly string[]): Promise<void> {
  let cfg: ServerConfig;
  try {
    cfg = parseServerArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`netlab services: ${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  // The launcher stops reading stdout after READY; never die of a write to a closed pipe.
  process.stdout.on('error', () => {});
  const services = new Services(cfg);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void services.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const fail = (message: string): never => {
    process.stderr.write(`ERROR ${message}\n`);
    process.exit(1);
  };
  if (cfg.log !== undefined) {
    try {
      appendFileSync(cfg.log, '');
    } catch (e) {
      fail(`cannot write the client log ${cfg.log}: ${(e as Error).message}`);
    }
  }
  const bound = await Promise.all(
    cfg.services.map(async (s): Promise<BoundService> => {
      try {
        return { service: s.service, port: await services.start(s), proto: PROTO[s.service] };
      } catch (e) {
        return fail(`${s.service} port ${s.port}: ${(e as Error).message}`);
      }
    }),
  );
  if (stopping) return;
  process.stdout.write(`READY ${JSON.stringify(bound)}\n`);
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  const self = realpathSync(fileURLToPath(import.meta.url));
  for (const candidate of [script, `${script}.js`]) {
    try {
      if (realpathSync(candidate) === self) return true;
    } catch {
      /* not this one */
    }
  }
  return false;
}

// Run only as a program, so tests can import the pure parts.
if (isEntry()) {
  void main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`ERROR ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
