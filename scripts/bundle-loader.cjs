'use strict';
// dist/bundle/load.cjs (scripts/bundle.mjs copies this file there): runs the CLI's bundle, dist/bundle/netlab.cjs,
// with V8's code cache, dist/bundle/netlab.cjs.cache. Compiling the bundle was the largest part of every command's
// start-up (docs/benchmark.md, start-up); with the cache V8 takes the compiled code, lazily compiled functions
// included, instead of parsing 1.7 MB. Node 20 has no module.enableCompileCache(), and what it has for ES modules
// needs a flag; a CommonJS script compiled through vm.Script takes `cachedData` on every Node version.
//
// The cache is used only when its first line names this very bundle (the build id that scripts/bundle.mjs wrote into
// the bundle's first line), this Node version and this architecture, and V8 checks its own version and flags again.
// Otherwise the bundle compiles as usual, and when the directory is writable the cache is written anew at exit (a
// Node upgrade): to a temporary file, then renamed, so a concurrent reader never sees half of one.
// NETLAB_CODE_CACHE=0 neither reads nor writes it.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, 'netlab.cjs');
const cacheFile = `${file}.cache`;
const enabled = process.env.NETLAB_CODE_CACHE !== '0';
// The cache's first line is its tag, padded with spaces so that the compiled code after it starts at a multiple of
// ALIGN: V8 copies cached data that is not pointer-aligned before reading it.
const ALIGN = 16;

// Every page a process touches for the first time costs a page fault, ~16 µs on the 2-core VM netlab is measured on
// (docs/benchmark.md, start-up): the bundle (1.4 MB) and its cache (1.2 MB) are read into one buffer, the cache over
// the source once the source is a string, so that their pages are touched once.
let buffer;
/** Opens a file and learns its size: one fstat for each file. */
function open(name) {
  const fd = fs.openSync(name, 'r');
  return { fd, size: fs.fstatSync(fd).size };
}
/** Reads an opened file into the shared buffer (grown to at least `atLeast`), and closes it. */
function read(f, atLeast) {
  try {
    if (!buffer || buffer.length < f.size) buffer = Buffer.allocUnsafeSlow(Math.max(f.size, atLeast));
    let got = 0;
    while (got < f.size) {
      const n = fs.readSync(f.fd, buffer, got, f.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buffer.subarray(0, got);
  } finally {
    fs.closeSync(f.fd);
  }
}

// Opened before the bundle is read, so that the buffer is made big enough for it once (and a cache renamed over this
// one meanwhile is not half read).
let cache;
if (enabled) {
  try {
    cache = open(cacheFile);
  } catch {
    // no cache yet
  }
}
const cacheSize = cache?.size ?? 0;
// The bundle is ASCII (scripts/bundle.mjs checks): latin1 reads it without UTF-8 decoding.
const source = read(open(file), cacheSize).toString('latin1');
const tag = `${source.slice(0, source.indexOf('\n'))} ${process.version} ${process.arch}`;

let cachedData;
if (cache) {
  try {
    const data = read(cache, 0);
    const nl = data.indexOf(10);
    if (nl > 0 && (nl + 1) % ALIGN === 0 && data.toString('latin1', 0, nl).trimEnd() === tag) cachedData = data.subarray(nl + 1);
  } catch {
    // unreadable: compiled without it
  }
}

// The bundle is one function expression, wrapped as Node wraps a CommonJS module (scripts/bundle.mjs).
const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
buffer = cachedData = undefined;
if (enabled && (!cacheSize || script.cachedDataRejected !== false) && writable(__dirname)) {
  process.once('exit', () => {
    const tmp = `${cacheFile}.tmp-${process.pid}`;
    const head = `${tag} `.padEnd(Math.ceil((tag.length + 2) / ALIGN) * ALIGN - 1);
    try {
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${head}\n`, 'latin1'), script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  });
}

const bundle = new Module(file, module);
bundle.filename = file;
bundle.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, __dirname);

function writable(dir) {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
