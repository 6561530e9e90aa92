#!/usr/bin/env node
// Bundles the CLI (tsc's dist/cli.js and everything it imports, dependencies included) into dist/bundle/, one chunk
// per lazily loaded verb, and makes dist/cli.js a two-line entry that imports it. Why: Node's ES module loader
// resolves, stats and reads every file of a module graph on every start (~230 files for `run`), which was most of
// netlab's start-up (docs/benchmark.md, start-up). The bundle is two directories below the package, like every
// module of dist/: the paths netlab resolves from import.meta.url (../../labs, ../../libexec, ../services/server.js,
// ../cli.js) stay right. dist/services/server.js and dist/grade/worker-main.js (started as processes of their own)
// stay tsc's output. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const entry = join(DIST, 'cli.js');
const unbundled = join(DIST, 'cli.unbundled.js');
// tsc rewrites dist/cli.js on every build; an earlier bundle's stub is never bundled again.
if (!readFileSync(entry, 'utf8').includes('// netlab-bundle-stub')) renameSync(entry, unbundled);
rmSync(join(DIST, 'bundle'), { recursive: true, force: true });
const result = await build({
  // Which sources went into which chunk: the start-up test (test/e2e/startup-loads.test.ts) reads it.
  metafile: true,
  entryPoints: { cli: unbundled },
  outdir: join(DIST, 'bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __netlabRequire } from 'node:module'; const require = __netlabRequire(import.meta.url);" },
  // execa is loaded on the first process started, by name (runner/execa-lazy.ts), from node_modules.
  external: ['execa'],
  legalComments: 'none',
  // Less to parse at every start; identifiers kept, so NETLAB_DEBUG=1's stacks still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
writeFileSync(join(DIST, 'bundle', 'meta.json'), JSON.stringify(result.metafile));
writeFileSync(entry, "#!/usr/bin/env node\n// netlab-bundle-stub: the CLI is dist/bundle/cli.js (scripts/bundle.mjs); tsc's own is dist/cli.unbundled.js.\nimport './bundle/cli.js';\n", { mode: 0o755 });
