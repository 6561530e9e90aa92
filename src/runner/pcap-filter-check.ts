// `validate` extra: asks tcpdump itself whether each capture filter of the lab compiles (`tcpdump -d`, against an
// empty Ethernet capture file: no interface, no namespace, no privileges needed), so a typo is a located problem
// before anything is built instead of an error when the check runs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '../errors.js';
import { LabSource } from '../lab/source.js';
import type { Lab } from '../lab/types.js';
import type { Path } from '../lab/source.js';
import { run } from './exec.js';
import { which } from './preflight.js';

/** A pcap file header and nothing else: link type Ethernet (1), snapshot length 262144. */
export function emptyPcap(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(262144, 16);
  b.writeUInt32LE(1, 20);
  return b;
}

/** argv that compiles a filter for an Ethernet link and prints the BPF code (exit 1 and "syntax error" when it cannot). */
export function compileArgv(file: string, filter: string): string[] {
  return ['tcpdump', '-r', file, '-d', '--', filter];
}

/** Every capture filter of the lab with where it is written. */
export function captureFilters(lab: Lab): { filter: string; at: Path }[] {
  const out: { filter: string; at: Path }[] = [];
  for (const s of lab.stages) {
    for (const c of s.checks) {
      if (c.kind !== 'capture') continue;
      for (const key of ['filter', 'all', 'none'] as const) {
        const filter = c[key];
        if (filter !== undefined) out.push({ filter, at: [...c.at, key] });
      }
    }
  }
  return out;
}

/** Compiles every capture filter with tcpdump; undefined when tcpdump is not installed (or the lab has none). */
export async function pcapFilterCheck(lab: Lab): Promise<{ checked: number; problems: Problem[] } | undefined> {
  const filters = captureFilters(lab);
  if (!filters.length || !which('tcpdump')) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'netlab-filter-'));
  try {
    const file = join(dir, 'empty.pcap');
    await writeFile(file, emptyPcap());
    const problems: Problem[] = [];
    let src: LabSource | undefined;
    const runs = await Promise.all(filters.map((f) => run(compileArgv(file, f.filter), { timeoutMs: 10_000 })));
    for (const [i, f] of filters.entries()) {
      const r = runs[i]!;
      if (r.exitCode === 0) continue;
      const why = r.spawnError ?? (r.stderr.split('\n').find((l) => l.startsWith('tcpdump: ')) ?? r.stderr.trim()).replace(/^tcpdump: /, '');
      src ??= new LabSource(lab.file, await readFile(lab.file, 'utf8'));
      problems.push(src.problem(f.at, `tcpdump cannot compile the filter "${f.filter}": ${why}`, 'see `man pcap-filter`, e.g. "udp port 1194", "icmp", "not arp"'));
    }
    return { checked: filters.length, problems };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
