'use strict';
// dist/envd.cjs (copied there by scripts/bundle.mjs): runs the bundle, dist/envd-bundle.cjs,
// with V8's code cache for it when the build left one that fits this Node and these flags.
//
// Why: compiling the 0.6 MB bundle was 13-17 ms of every Node start of envd (the CLI
// without a daemon, the daemon's own start), a fifth of a cold start. V8 takes the cache
// only for the same source, V8 version and flags; anything else is compiled as before
// (the cache is then read for nothing, ~0.1 ms). The caches are written by the build
// (ENVD_WRITE_CODE_CACHE=1 below), next to the bundle, as part of the package: nothing is
// written at run time. The bundle runs as Node would run it (the same wrapper, `require`,
// `module`, `__filename`), in this context.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const Module = require('node:module');

const file = join(__dirname, 'envd-bundle.cjs');
// One cache per set of Node flags (the CLI runs with none, the daemon with its own).
let key = 0x811c9dc5;
for (const ch of process.execArgv.join('\0')) key = Math.imul(key ^ ch.charCodeAt(0), 0x01000193) >>> 0;
const cacheFile = join(__dirname, `envd-bundle.${key.toString(16)}.cache`);
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const bundle = new Module(file, module);
bundle.filename = file;
bundle.paths = module.paths;
bundle.loaded = true;
if (process.env.ENVD_WRITE_CODE_CACHE === '1') {
  // At exit: the functions the run compiled are in the cache too.
  process.once('exit', () => {
    try {
      writeFileSync(cacheFile, script.createCachedData());
    } catch (err) {
      process.stderr.write(`envd: code cache not written: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  });
}
script.runInThisContext()(bundle.exports, Module.createRequire(file), bundle, file, __dirname);
