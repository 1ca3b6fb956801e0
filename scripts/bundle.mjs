// After tsc: dist/envd.cjs, the CLI and the daemon in one file, which bin/envd and the
// daemon's autostart run (ENVD_NODE_ENTRY in src/version.ts).
//
// Why: Node resolves, reads and compiles each ES module on its own; the export path of
// dist/cli/main.js loaded about 100 files and the daemon about as many, which was most of
// a cold start. One CommonJS file is read once and compiled lazily; every module in it is
// still initialized only when it is first imported (esbuild turns `import()` of a bundled
// module into a call), so a verb loads what it loaded before and nothing more.
//
// CommonJS rather than ESM: Node loads it on its faster path, and `require()` of a
// dependency stays where the code calls it. `import.meta.url` (src/version.ts finds the
// package root with it) becomes this file's own URL; the file sits directly in dist/, as
// dist/version.js does, so the root comes out the same.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'envd.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Whitespace only: names stay, so stacks (ENVD_DEBUG=1) and profiles stay readable.
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'import.meta.url': '__envd_module_url' },
  banner: { js: '"use strict";const __envd_module_url=require("node:url").pathToFileURL(__filename).href;' },
});
