// Hostile input through the real CLI: alias bombs, deep nesting and oversized labs are refused with a location and
// exit 2 before anything exists; no input prints a stack trace; a closed stdout is quiet (and a run still tears
// down); an --output that cannot be written is refused before the build, and one that fails at the end is not lost.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, describeLab, instanceNamespaces, netlab, STATE } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stack frame line as Node prints it: what no netlab output may contain. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const suffix = () => Math.random().toString(16).slice(2, 8);

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Billion laughs: nine levels of nine aliases; the alias that crosses the limit is on line 8 (checks[3][0]). */
function bomb(): string {
  const lines = ['name: bomb', 'nodes: { a: {} }', 'goals: &a0 [x, x, x, x, x, x, x, x, x]', 'checks:'];
  for (let i = 1; i <= 9; i++) lines.push(`  - &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  return write('bomb.yaml', lines.join('\n') + '\n');
}

/** 20,000 nodes, each with a link to a hub bridge: a lab that would eat the machine if it were built. */
function huge(name: string): string {
  const n = 20_000;
  const lines = [`name: ${name}`, 'nodes:', '  hub: {}', ...Array.from({ length: n }, (_, i) => `  n${i}: {}`), 'links:'];
  for (let i = 0; i < n; i++) lines.push(`  - endpoints: ["n${i}:eth0", "hub:p${i}"]`);
  return write(`${name}.yaml`, lines.join('\n') + '\n');
}

/** Runs the CLI with its stdout already closed by the reader (as `| head -0` would), collecting stderr. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('node', [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stderr }));
  });
}

describe('hostile lab files (no root needed)', () => {
  it('an alias bomb is exit 2 at the alias, with no stack trace, for validate, show, graph and plan', async () => {
    const file = bomb();
    for (const verb of ['validate', 'show', 'graph', 'plan']) {
      const r = await netlab([verb, file]);
      expect(r.exitCode, `${verb}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`${file}:8:10  checks[3][0]  YAML: aliases expand to more than 10000 values`);
      expect(r.stderr).toContain('--max-aliases');
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toMatch(/internal error|ReferenceError/);
    }
  });

  it('10,000 nested [ is exit 2 with a location, not a stack overflow', async () => {
    const file = write('deep.yaml', `name: deep\nnodes: ${'['.repeat(10_000)}\n`);
    const r = await netlab(['validate', file]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}:2:71  (root)  YAML: collections nested more than 64 deep`);
    expect(r.stderr).not.toMatch(/Maximum call stack|internal error/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('a directory named like a lab file is a usage error, not an internal one', async () => {
    const d = join(dir, 'dir.yaml');
    mkdirSync(d, { recursive: true });
    const r = await netlab(['plan', d]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('is a directory, not a lab file');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('--max-* raises a limit, and refuses a value that is not a whole number', async () => {
    const file = write('three.yaml', 'name: three\nnodes: { a: {}, b: {}, c: {} }\n');
    expect((await netlab(['validate', file, '--max-nodes', '3'])).exitCode).toBe(0);
    const low = await netlab(['validate', file, '--max-nodes', '2']);
    expect(low.exitCode).toBe(2);
    expect(low.stderr).toContain(`${file}:2:1  nodes  lab has 3 nodes; the limit is 2`);
    const bad = await netlab(['validate', file, '--max-nodes', 'lots']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--max-nodes takes a whole number of at least 1');
  });

  it('a closed stdout is quiet: schema and plan exit 0 with nothing on stderr', async () => {
    for (const args of [['schema'], ['plan', 'veth-routing'], ['show', 'veth-routing'], ['graph', 'veth-routing', '-f', 'dot'], ['validate', '--json', 'veth-routing']]) {
      const r = await withClosedStdout(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
  });
});

describeLab('hostile lab files and outputs against run (real namespaces)', () => {
  it('a 20,000-node lab is exit 2 for validate and run, before any namespace or state record exists', async () => {
    const name = `huge-${suffix()}`;
    const file = huge(name);
    // Written out, it is over 1 MiB: refused for its size before it is parsed.
    const size = await netlab(['validate', file]);
    expect(size.exitCode, size.stderr).toBe(2);
    expect(size.stderr).toMatch(/is \d+ bytes; the limit is 1048576 bytes \(1 MiB\)/);
    const v = await netlab(['validate', file, '--max-file-size', '4000000']);
    expect(v.exitCode, v.stderr).toBe(2);
    expect(v.stderr).toContain(`${file}:2:1  nodes  lab has 20001 nodes; the limit is 500`);
    expect(v.stderr).toContain(`${file}:20004:1  links  lab has 20000 links; the limit is 1000`);
    const instance = `${name}-x`;
    const r = await netlab(['run', file, '-i', instance, '--max-file-size', '4000000']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('lab has 20001 nodes; the limit is 500');
    expect(r.stderr).toContain('--max-nodes 20001');
    expect(r.stderr).not.toMatch(/\[STARTED\]|Build /);
    expect(instanceNamespaces(instance)).toEqual([]);
    expect(existsSync(`${STATE}/${instance}.json`)).toBe(false);
  }, 180_000); // two full parses of a 1.1 MB file: seconds each on a loaded machine

  it('run with a closed stdout still tears down and exits with the run status', async () => {
    const instance = `lim-pipe-${suffix()}`;
    const r = await withClosedStdout(['run', 'veth-routing', '-i', instance, '-q']);
    expect(r.stderr).not.toMatch(/EPIPE|internal error/);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code, r.stderr).toBe(0);
    expect(instanceNamespaces(instance)).toEqual([]);
    expect(existsSync(`${STATE}/${instance}.json`)).toBe(false);
  });

  it('-o into a missing directory (or onto a directory) is exit 2 before anything is built; nothing is created', async () => {
    const instance = `lim-out-${suffix()}`;
    const missing = join(dir, 'missing-dir');
    for (const out of [join(missing, 'r.xml'), dir]) {
      const r = await netlab(['run', 'veth-routing', '-i', instance, '-f', 'junit', '-o', out]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(`cannot write the report to ${out}: `);
      expect(r.stderr).toContain('nothing was built');
      expect(r.stderr).not.toMatch(/\[STARTED\]/);
      expect(r.stderr).not.toMatch(STACK);
      expect(instanceNamespaces(instance)).toEqual([]);
    }
    expect(existsSync(missing)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.xml'))).toEqual([]);
  });

  it('a report that cannot be written at the end (disk full: /dev/full) goes to stdout instead, exit 3, lab torn down', async () => {
    const instance = `lim-full-${suffix()}`;
    const r = await netlab(['run', 'veth-routing', '-i', instance, '-q', '-f', 'json', '-o', '/dev/full']);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toContain('could not write the json report to /dev/full: ENOSPC');
    expect(r.stderr).toContain('it follows on stdout');
    expect((JSON.parse(r.stdout) as { instance: string }).instance).toBe(instance);
    expect(r.stderr).not.toMatch(STACK);
    expect(instanceNamespaces(instance)).toEqual([]);
  });
});

describe('netlab graph (no root needed)', () => {
  it('draws each format on stdout, exit 0; an unknown step or format is a usage error, exit 2', async () => {
    for (const f of ['ascii', 'mermaid', 'dot']) {
      const r = await netlab(['graph', 'host-only', '-f', f, '--step', 'let-them-out']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain('masquerade src 192.168.56.0/24 out wan');
    }
    const step = await netlab(['graph', 'host-only', '--step', '7']);
    expect(step.exitCode).toBe(2);
    expect(step.stderr).toContain('lab host-only has no step "7"');
    expect(step.stderr).toContain('hint: steps: 0 setup, 1 let-them-out');
    expect((await netlab(['graph', 'host-only', '-f', 'svg'])).exitCode).toBe(2);
  });
});
