// `netlab grade` on a class of the host-only exercise, for real: correct, partly correct, empty, broken, looping,
// fork-bombing and hostile submissions graded four at a time, each in a box of its own. The gradebook has the
// scores each deserves, no submission changes another's, hidden checks stay out of the learners' reports, a
// submission cannot read the rubric or another's work, and the shards of the class merge into the same gradebook.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRootOnly, netlab, ROOT, SANDBOX } from './helpers.js';

// Not under /tmp: the box has a /tmp of its own, so hiding there would prove nothing. /var/tmp is visible (read-only)
// in every box unless netlab hides what is in it. Named here, made (world-readable, as a course folder usually is:
// what keeps the box out must be netlab's hiding, not the mode) and removed by the suite when it runs: a skipped
// suite (the boxed and the unprivileged passes) makes nothing.
const BASE = join('/var/tmp', `netlab-e2e-grade-${process.pid}-${randomBytes(4).toString('hex')}`);

const SECRET = 'SECRET-hidden-check-7f3a';
const RUBRIC = join(BASE, 'rubric.yaml');
const SUBS = join(BASE, 'subs');

const ROUTE = 'ip route add default via 192.168.56.1\n';
const NAT = [
  'sysctl -w net.ipv4.ip_forward=1',
  'nft add table ip nat',
  'nft add chain ip nat postrouting "{ type nat hook postrouting priority srcnat ; }"',
  'nft add rule ip nat postrouting ip saddr 192.168.56.0/24 oifname wan masquerade',
].join('\n') + '\n';
const FORWARD_ONLY = 'sysctl -w net.ipv4.ip_forward=1\n';

/** id → its scripts (node → text), and the score it must get (or error). */
const CLASS: Record<string, { scripts: Record<string, string>; expect: number | 'error' }> = {
  // The reference solution: every point.
  alice: { scripts: { vm1: ROUTE, vm2: ROUTE, host: NAT }, expect: 10 },
  // Routes and forwarding but no masquerade: the gated check fails, what follows it is skipped: setup's 4 only.
  bob: { scripts: { vm1: ROUTE, vm2: ROUTE, host: FORWARD_ONLY }, expect: 4 },
  // The routes alone.
  carol: { scripts: { vm1: ROUTE, vm2: ROUTE }, expect: 4 },
  // Nothing handed in.
  dave: { scripts: {}, expect: 4 },
  // A script that does not parse: an error, nothing of it run.
  erin: { scripts: { vm1: ROUTE, host: 'if then fi (\n' }, expect: 'error' },
  // Loops for ever: stopped at the script time limit.
  frank: { scripts: { vm1: ROUTE, vm2: ROUTE, host: `${NAT}while :; do :; done\n` }, expect: 'error' },
  // A fork bomb: the box's process limit holds it, and says so.
  grace: { scripts: { host: `${NAT}f() { f | f & }; f\n`, vm1: ROUTE, vm2: ROUTE }, expect: 'error' },
  // The right answer, and then attempts on everyone else: other namespaces, netlab's processes, other results.
  heidi: {
    scripts: {
      vm1: ROUTE,
      vm2: ROUTE,
      host: `${NAT}kill -9 1 2>&1\nnsenter -t 1 -n -m ip netns list 2>&1\nip netns list\nrm -rf ${SUBS}/alice ${join(BASE, 'grades')} 2>&1\necho done\n`,
    },
    expect: 10,
  },
  // Deletes the namespaces of its own lab (all it can see) and kills every process it may: its own box falls.
  ivan: { scripts: { host: 'ip -all netns delete\nkill -9 -1\n' }, expect: 'error' },
  // The right answer, and reads the rubric and a classmate's work: both read as empty.
  judy: {
    scripts: {
      vm1: ROUTE,
      vm2: ROUTE,
      host: `${NAT}echo "rubric bytes: $(cat ${RUBRIC} | wc -c)"\necho "alice bytes: $(cat ${SUBS}/alice/host.sh 2>/dev/null | wc -c)"\ngrep -r . ${SUBS} ${join(BASE, 'grades')} 2>&1 | head -3\n`,
    },
    expect: 10,
  },
  // The answer as a bash script (its #! line is obeyed).
  ken: { scripts: { vm1: `#!/bin/bash\n[[ -n x ]] && ${ROUTE}`, vm2: ROUTE, host: NAT }, expect: 10 },
};

/** Lab files students wrote (id → text), and their scores: the host-only lab with the way out built in, and one that does not parse. */
const HOST_ONLY = readFileSync(join(ROOT, 'labs', 'host-only.yaml'), 'utf8');
const LAB_FILES: Record<string, { text: string; expect: number | 'error' }> = {
  lena: { text: HOST_ONLY.replace(/^name: host-only$/m, 'name: lenas-lab'), expect: 10 },
  mia: { text: 'name: mias-lab\nnodes: { vm1: {}\n', expect: 'error' },
};
const EXPECTED = Object.fromEntries([...Object.entries(CLASS), ...Object.entries(LAB_FILES)].map(([id, s]) => [id, s.expect]));

function writeClass(): void {
  mkdirSync(BASE, { mode: 0o755 });
  process.once('exit', () => rmSync(BASE, { recursive: true, force: true }));
  mkdirSync(SUBS);
  for (const [id, l] of Object.entries(LAB_FILES)) writeFileSync(join(SUBS, `${id}.yaml`), l.text);
  for (const [id, s] of Object.entries(CLASS)) {
    mkdirSync(join(SUBS, id));
    for (const [node, text] of Object.entries(s.scripts)) writeFileSync(join(SUBS, id, `${node}.sh`), text);
  }
  writeFileSync(
    RUBRIC,
    [
      'rubric: host-only-internet',
      'lab: host-only',
      'time_limit: 90s',
      'lab_checks:',
      '  "vm1 now reaches the internet server": { points: 3, gate: true }',
      'steps:',
      '  let-them-out:',
      `    - { kind: http, name: "${SECRET} vm2 reaches the internet server", from: vm2, to: internet, points: 2, hidden: true }`,
      '',
    ].join('\n'),
  );
}

/** The submissions' paths, as `grade` is given them. */
const subs = [...Object.keys(CLASS).map((id) => join(SUBS, id)), ...Object.keys(LAB_FILES).map((id) => join(SUBS, `${id}.yaml`))];

interface Row {
  id: string;
  status: string;
  score: number;
  max: number;
}
const gradebook = (dir: string) => JSON.parse(readFileSync(join(dir, 'gradebook.json'), 'utf8')) as { max: number; rows: Row[] };
const scores = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.id, r.status === 'error' ? 'error' : r.score]));

// Grading is always boxed: the suite's boxed pass would only do it again.
(SANDBOX ? describe.skip : describeRootOnly('cgroups count the forks a fork bomb was refused'))('netlab grade (real sandboxes)', () => {
  beforeAll(writeClass);
  afterAll(() => rmSync(BASE, { recursive: true, force: true }));
  const out = join(BASE, 'grades');
  const common = ['--rubric', RUBRIC, '--script-time-limit', '5s', '-q'];

  it('grades a class of 13 four at a time: every submission gets its own score, nothing leaks', async () => {
    const r = await netlab(['grade', 'host-only', ...common, ...subs, '--jobs', '4', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const book = gradebook(out);
    expect(book.max).toBe(10);
    expect(scores(book.rows)).toEqual(EXPECTED);
    expect(book.rows.map((r) => r.id)).toEqual(Object.keys(EXPECTED).sort());
    // The reasons errors give are the students' feedback.
    const err = Object.fromEntries(book.rows.map((r) => [r.id, (r as Row & { error?: string }).error ?? '']));
    expect(err.erin).toMatch(/^host\.sh does not parse \(sh -n\): host\.sh: 1: Syntax error/);
    expect(err.frank).toMatch(/host\.sh did not finish within 5s/);
    expect(err.grace).toMatch(/forks without end/);
    // What ivan's script did is named, not how its shell happened to end (which depends on timing).
    expect(err.ivan).toBe('host.sh deleted the namespace of node(s) host, vm1, vm2, internet: there is nothing left to check');
    // A lab file that does not parse: its problems, file:line:col, are the student's feedback.
    expect(err.mia).toMatch(/the lab file is not valid:[\s\S]*mia\.yaml:\d+:\d+/);
    // The table on stdout and the CSV say the same.
    const csv = readFileSync(join(out, 'gradebook.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toBe('id,status,score,max,passed,failed,errors,duration_ms,first_failing_check,error');
    expect(csv.find((l) => l.startsWith('alice,'))).toMatch(/^alice,graded,10,10,/);
    expect(r.stdout).toMatch(/^alice\s+10\/10/m);
  }, 300_000);

  it('hidden checks are graded, and absent from the learners\' reports; the rubric and others\' work read as empty', () => {
    for (const id of Object.keys(EXPECTED)) {
      const dir = join(out, id);
      for (const f of readdirSync(dir).filter((f) => f.startsWith('learner'))) expect(readFileSync(join(dir, f), 'utf8'), `${id}/${f}`).not.toContain(SECRET);
      expect(readFileSync(join(dir, 'output.log'), 'utf8'), `${id}/output.log`).not.toContain(SECRET);
    }
    expect(readFileSync(join(out, 'alice', 'report.json'), 'utf8')).toContain(SECRET);
    const judy = readFileSync(join(out, 'judy', 'output.log'), 'utf8');
    expect(judy).toContain('rubric bytes: 0');
    expect(judy).toMatch(/alice bytes: 0/);
    // heidi's rm -rf found nothing to remove: alice's work and the results are where they were.
    expect(readFileSync(join(SUBS, 'alice', 'host.sh'), 'utf8')).toBe(NAT);
  });

  it('the shards of the class, merged, give the same gradebook as one run', async () => {
    const one = join(BASE, 'shard-1');
    const two = join(BASE, 'shard-2');
    const [a, b] = await Promise.all([
      netlab(['grade', 'host-only', ...common, ...subs, '--jobs', '2', '--shard', '1/2', '--out', one]),
      netlab(['grade', 'host-only', ...common, ...subs, '--jobs', '2', '--shard', '2/2', '--out', two]),
    ]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(gradebook(one).rows.length + gradebook(two).rows.length).toBe(subs.length);
    const merged = join(BASE, 'merged');
    const m = await netlab(['gradebook', 'merge', one, two, '--out', merged]);
    expect(m.exitCode, m.stderr).toBe(0);
    // Durations differ from run to run; everything else is the same.
    const strip = (rows: Row[]) => rows.map(({ durationMs: _d, ...rest }: Row & { durationMs?: number }) => rest);
    expect(strip(gradebook(merged).rows)).toEqual(strip(gradebook(out).rows));
    // A missing shard is refused.
    const half = await netlab(['gradebook', 'merge', one]);
    expect(half.exitCode).toBe(2);
    expect(half.stderr).toMatch(/shard 2 of 2 is missing/);
  }, 300_000);

  it('--resume grades only what is not graded yet', async () => {
    rmSync(join(out, 'carol'), { recursive: true });
    const r = await netlab(['grade', 'host-only', '--rubric', RUBRIC, '--script-time-limit', '5s', ...subs, '--out', out, '--resume']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr.match(/graded before, --resume/g)?.length).toBe(subs.length - 1);
    expect(scores(gradebook(out).rows).carol).toBe(4);
  }, 120_000);
});
