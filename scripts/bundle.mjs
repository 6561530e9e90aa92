#!/usr/bin/env node
// Bundles the CLI (tsc's dist/cli.js and everything it imports, dependencies included) into one CommonJS script,
// dist/bundle/netlab.cjs, run by dist/bundle/load.cjs (scripts/bundle-loader.cjs) with V8's code cache, and makes
// dist/cli.js a short entry that loads it (and answers `--version` by itself). Why (docs/benchmark.md, start-up):
// Node's ES module loader resolves, stats and reads every file of a module graph on every start (~230 files for
// `run`), and compiling what it read was the next largest part; Node 20 can keep compiled code only for a script
// compiled through vm.Script. Each verb's modules still run only when that verb does: esbuild wraps a module that is
// imported with import() in a lazy initialiser. The bundle is two directories below the package, like every module
// of dist/: the paths netlab resolves from import.meta.url (../../labs, ../../libexec, ../services/server.js,
// ../cli.js) stay right. dist/services/server.js and dist/grade/worker-main.js (started as processes of their own)
// stay tsc's output. Run by `npm run build` after tsc; it ends by running `validate` once, which checks the bundle
// runs and writes its code cache.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'bundle');
const entry = join(DIST, 'cli.js');
const unbundled = join(DIST, 'cli.unbundled.js');
// tsc rewrites dist/cli.js on every build; an earlier bundle's stub is never bundled again.
if (!readFileSync(entry, 'utf8').includes('// netlab-bundle-stub')) renameSync(entry, unbundled);
rmSync(OUT, { recursive: true, force: true });

/**
 * Replaces each `from` with its `to`; each must be in `text` exactly once, else the build fails: the patches below
 * change a dependency's or esbuild's text, and one that no longer matches is to be looked at, not skipped.
 */
function replaceOnce(text, where, pairs) {
  for (const [from, to] of pairs) {
    if (text.split(from).length !== 2) throw new Error(`${where}: "${from}" is not there once; scripts/bundle.mjs needs a look`);
    text = text.replace(from, () => to);
  }
  return text;
}

/**
 * string-width (yargs' and cliui's, for help text) builds an Intl.Segmenter and a /^\p{RGI_Emoji}$/v regex when it is
 * loaded, ~45 ms of every command's start-up, used only when a help text holds something other than printable ASCII.
 * Both are made on first use instead. The replaced lines are checked: a string-width that no longer has them fails
 * the build, so that this is looked at again.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/](?:.*[\\/])?string-width[\\/]index\.js$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      if (!text.includes('Intl.Segmenter')) return undefined; // an older string-width (cli-table3's): nothing to do
      // string-width 7 (cliui's) has the segmenter but no RGI_Emoji regex.
      const rgi = text.includes('\\p{RGI_Emoji}$/v');
      text = replaceOnce(text, args.path, [
        ['const segmenter = new Intl.Segmenter();', 'let segmenterMade;\nconst segmenter = { segment: (s) => (segmenterMade ??= new Intl.Segmenter()).segment(s) };'],
        ...(rgi ? [['const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;', "let rgiEmojiMade;\nconst rgiEmojiRegex = { test: (s) => (rgiEmojiMade ??= new RegExp('^\\\\p{RGI_Emoji}$', 'v')).test(s) };"]] : []),
      ]);
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * zod re-exports all of its ~40 message locales (~300 KB of the bundle, read at every start); netlab's messages are
 * its own, in English, and zod itself uses `en`. The locale index keeps `en` only.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

const result = await build({
  // Which sources went into the bundle: the start-up test (test/e2e/startup-loads.test.ts) reads it.
  metafile: true,
  entryPoints: { netlab: unbundled },
  outdir: OUT,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // A CommonJS script has no import.meta: the bundle's own file stands in for the module's.
  define: { 'import.meta.url': '__netlabModuleUrl', 'import.meta.dirname': '__dirname' },
  banner: {
    js: [
      "const __netlabModuleUrl = require('node:url').pathToFileURL(__filename).href;",
      // Called as each lazily initialised module runs (below): test/fixtures/load-recorder sets the global to record them.
      'const __netlabInit = (o) => globalThis.__netlabLoaded?.(Object.getOwnPropertyNames(o)[0]);',
    ].join('\n'),
  },
  // execa is loaded on the first process started, by name (runner/execa-lazy.ts), from node_modules.
  external: ['execa'],
  charset: 'ascii',
  legalComments: 'none',
  // Less to parse at every start; identifiers kept, so NETLAB_DEBUG=1's stacks still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [lazyStringWidth, englishOnly],
  logLevel: 'warning',
});

// The first line names this build: the loader uses a code cache only if it was made from the same one.
const bundleFile = join(OUT, 'netlab.cjs');
// The entry's shebang is dropped: the bundle is never run directly.
let code = readFileSync(bundleFile, 'latin1').replace(/^#!.*\n/, '');
// esbuild's lazy initialisers (an ES module's, a CommonJS module's) say which module they run, so that the start-up
// test sees what each command loads; a changed esbuild fails here rather than making that test blind.
code = replaceOnce(code, 'the bundle (esbuild\'s helpers)', [
  ['return fn&&(res=(0,fn[__getOwnPropNames(fn)[0]])(fn=0)),res', 'return fn&&(__netlabInit(fn),res=(0,fn[__getOwnPropNames(fn)[0]])(fn=0)),res'],
  ['return mod||(0,cb[__getOwnPropNames(cb)[0]])((mod={exports:{}}).exports,mod),mod.exports', 'return mod||(__netlabInit(cb),(0,cb[__getOwnPropNames(cb)[0]])((mod={exports:{}}).exports,mod)),mod.exports'],
]);
if (/[^\x00-\x7f]/.test(code)) throw new Error(`${bundleFile} is not ASCII (the loader reads it as latin1)`);
// Wrapped as Node wraps a CommonJS module, here rather than by the loader: no 1.7 MB string is copied at each start.
writeFileSync(
  bundleFile,
  `// netlab-build ${createHash('sha256').update(code).digest('hex')}\n(function (exports, require, module, __filename, __dirname) {${code}\n})`,
  'latin1',
);
copyFileSync(join(ROOT, 'scripts', 'bundle-loader.cjs'), join(OUT, 'load.cjs'));
writeFileSync(join(OUT, 'meta.json'), JSON.stringify(result.metafile));

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
writeFileSync(
  entry,
  [
    '#!/usr/bin/env node',
    "// netlab-bundle-stub: the CLI is dist/bundle/netlab.cjs, run by dist/bundle/load.cjs (scripts/bundle.mjs); tsc's own is dist/cli.unbundled.js.",
    "import { createRequire } from 'node:module';",
    `if (process.argv.length === 3 && process.argv[2] === '--version') process.stdout.write(${JSON.stringify(`${version}\n`)});`,
    "else createRequire(import.meta.url)('./bundle/load.cjs');",
    '',
  ].join('\n'),
  { mode: 0o755 },
);

// Runs the bundle once (a broken bundle fails the build here) and leaves the code cache of a command that loads the
// lab file path: the schema, the YAML parser, the planner.
execFileSync(process.execPath, [entry, 'validate', join(ROOT, 'labs', 'veth-routing.yaml')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NETLAB_CODE_CACHE: '1' } });
