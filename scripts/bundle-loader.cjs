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
// The bundle is ASCII (scripts/bundle.mjs checks): latin1 reads it without UTF-8 decoding.
const source = fs.readFileSync(file, 'latin1');
const tag = `${source.slice(0, source.indexOf('\n'))} ${process.version} ${process.arch}`;
const enabled = process.env.NETLAB_CODE_CACHE !== '0';

let cachedData;
if (enabled) {
  try {
    const data = fs.readFileSync(cacheFile);
    const nl = data.indexOf(10);
    if (nl > 0 && data.toString('latin1', 0, nl) === tag) cachedData = data.subarray(nl + 1);
  } catch {
    // no cache yet
  }
}

// The bundle is one function expression, wrapped as Node wraps a CommonJS module (scripts/bundle.mjs).
const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
if (enabled && (!cachedData || script.cachedDataRejected) && writable(__dirname)) {
  process.once('exit', () => {
    const tmp = `${cacheFile}.tmp-${process.pid}`;
    try {
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${tag}\n`, 'latin1'), script.createCachedData()]));
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
