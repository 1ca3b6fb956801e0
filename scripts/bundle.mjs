// After tsc: dist/envd-bundle.cjs, the CLI and the daemon in one file, and dist/envd.cjs,
// which runs it with V8's code cache (scripts/entry.cjs), which bin/envd and the daemon's
// autostart run (ENVD_BUNDLE_ENTRY in src/version.ts); then the caches, one for the CLI's
// flags (none) and one for the daemon's.
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
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'envd-bundle.cjs'),
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

// The entry, and fresh caches (old ones would only be rejected: V8 checks the source).
const dist = join(root, 'dist');
copyFileSync(join(root, 'scripts', 'entry.cjs'), join(dist, 'envd.cjs'));
for (const f of readdirSync(dist)) if (/^envd-bundle\..*\.cache$/.test(f)) rmSync(join(dist, f));
const { DAEMON_NODE_FLAGS } = await import(join(dist, 'daemon', 'memory.js'));
for (const flags of [[], DAEMON_NODE_FLAGS]) {
  const r = spawnSync(process.execPath, [...flags, join(dist, 'envd.cjs'), '--version'], {
    env: { ...process.env, ENVD_WRITE_CODE_CACHE: '1' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`making the code cache: node ${flags.join(' ')} exited with ${r.status}`);
}
