// netlab's launcher: one per netlab invocation and sandbox, started once inside the sandbox (its namespaces and its
// cgroup) and asked over its stdin to start each process of the lab there, so no process needs its own
// nsenter/setpriv/cgroup wrapper. Plain Node, no dependencies; netlab passes this text with `node -e` (the file's
// path may not be visible inside the sandbox, whose /tmp is private).
//
// Protocol, one JSON object per line. netlab → launcher (stdin):
//   {"op":"spawn","id":N,"argv":[file,...args],"input":"…"?}   start argv (never through a shell); stdin gets input
//   {"op":"kill","id":N,"signal":"SIGTERM"}                     signal the process started as N
// launcher → netlab (stdout):
//   {"ready":true}                                               once, at start: it reads requests from now on
//   {"id":N,"o":"<base64>"} / {"id":N,"e":"<base64>"}           a chunk of its stdout / stderr
//   {"id":N,"exit":code|null,"signal":name|null,"error":{code,message}?}   it ended (after its last output)
// When netlab closes stdin (it exited or died), every process still running is killed and the launcher exits.
// It only starts what it is asked to: it runs as root inside the box, with nothing the lab's processes lack.
'use strict';
const { spawn } = require('node:child_process');

const { NETLAB_BOX_AS: AS, ...inherited } = process.env;
const ENV = { ...inherited, LANG: 'C', LC_ALL: 'C' };
/**
 * Where the box's memory limit is an rlimit (no cgroup), the launcher itself runs without the address-space cap
 * (Node reserves more address space than it uses) and puts it on each process it starts.
 */
const PREFIX = AS && /^\d+$/.test(AS) ? ['prlimit', `--as=${AS}`, '--'] : [];
/** id → the running child and the signal it gets when netlab goes away. */
const kids = new Map();
// Writes to a pipe or socket are synchronous on Linux: a process printing without end waits on netlab, not on memory.
const send = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);

function start(m) {
  const id = m.id;
  if (!Number.isSafeInteger(id) || kids.has(id) || !Array.isArray(m.argv) || !m.argv.length || !m.argv.every((a) => typeof a === 'string')) return;
  const input = typeof m.input === 'string' ? m.input : undefined;
  let child;
  try {
    const argv = [...PREFIX, ...m.argv];
    child = spawn(argv[0], argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: ENV });
  } catch (e) {
    send({ id, exit: null, signal: null, error: { code: e.code ?? 'EINVAL', message: String(e.message) } });
    return;
  }
  kids.set(id, { child, death: m.death === 'SIGINT' ? 'SIGINT' : 'SIGKILL' });
  let error;
  child.on('error', (e) => (error = { code: e.code ?? 'ERROR', message: String(e.message) }));
  child.stdout.on('data', (d) => send({ id, o: d.toString('base64') }));
  child.stderr.on('data', (d) => send({ id, e: d.toString('base64') }));
  child.on('close', (code, signal) => {
    kids.delete(id);
    send({ id, exit: code, signal, ...(error ? { error } : {}) });
  });
  if (input !== undefined) {
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  }
}

function kill(m) {
  const k = kids.get(m.id);
  if (k && typeof m.signal === 'string' && /^SIG[A-Z0-9]+$/.test(m.signal)) {
    try {
      k.child.kill(m.signal);
    } catch {
      /* gone, or not a signal */
    }
  }
}

let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (m && m.op === 'spawn') start(m);
    else if (m && m.op === 'kill') kill(m);
  }
});
send({ ready: true });
process.stdin.on('end', () => {
  for (const { child, death } of kids.values()) {
    try {
      child.kill(death);
    } catch {
      /* gone */
    }
  }
  process.exit(0);
});
