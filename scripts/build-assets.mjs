// After tsc: the files bin/envd's front door prints without starting Node (see the top of
// bin/envd). Each is made by the same code the CLI runs, so the bytes are the CLI's:
//   dist/front-door/root             the package's real path, as Node sees it
//   dist/front-door/hook-SHELL       `envd hook SHELL` for that path and the default config
//   dist/front-door/hook-SHELL.src   the hook file it came from (relative to the root)
//   dist/front-door/hook.bash        bash's hook as its line sources it: no comment lines
//   dist/front-door/hook-more.bash   the sections of it that hook.bash loads on first use
//   dist/front-door/version          the package's version (package.json's)
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
const dist = join(root, 'dist');
const { hookScript, hookFile, hookCopyPath, hookCopies, hookMorePath, loadShell } = await import(join(dist, 'shells', 'files.js'));
const { SHELL_NAMES } = await import(join(dist, 'shells', 'names.js'));
const { defaultConfig } = await import(join(dist, 'config', 'config.js'));
const { markerNames } = await import(join(dist, 'engine', 'find.js'));

const out = join(dist, 'front-door');
mkdirSync(out, { recursive: true });
const config = defaultConfig();
const markers = markerNames(config.global.loadDotenv, config.go.auto);
for (const name of SHELL_NAMES) {
  const shell = await loadShell(name);
  // First the copy a sourcing shell's line names (written before that line, which names it
  // only when it is at least as new as the hook's files). The lazy part before it: a copy
  // is only used once it is there.
  if (shell.hookText !== undefined && shell.hookDropsComments === true) {
    const { copy, more } = hookCopies(shell);
    if (more !== null) writeFileSync(hookMorePath(shell), more);
    writeFileSync(hookCopyPath(shell), copy);
  }
  writeFileSync(join(out, `hook-${name}`), hookScript(shell, join(root, 'bin', 'envd'), markers));
  writeFileSync(join(out, `hook-${name}.src`), `${relative(root, hookFile(shell))}\n`);
}
// The package's version, for the front door's requests (bin/envd, _envd_version): one line
// where package.json would be read and searched on every call.
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(out, 'version'), `${version}\n`);
// Last: the front door uses these files only when this names the package they are in.
writeFileSync(join(out, 'root'), `${root}\n`);
