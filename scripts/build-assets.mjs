// After tsc: the files bin/envd's front door prints without starting Node (see the top of
// bin/envd). Each is made by the same code the CLI runs, so the bytes are the CLI's:
//   dist/front-door/root             the package's real path, as Node sees it
//   dist/front-door/hook-SHELL       `envd hook SHELL` for that path and the default config
//   dist/front-door/hook-SHELL.src   the hook file it came from (relative to the root)
//   dist/front-door/completion-SHELL `envd completion SHELL`
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
const dist = join(root, 'dist');
const { completionScript } = await import(join(dist, 'cli', 'completion.js'));
const { hookScript, hookFile } = await import(join(dist, 'hook', 'script.js'));
const { defaultConfig } = await import(join(dist, 'config', 'config.js'));
const { markerNames } = await import(join(dist, 'engine', 'find.js'));

const out = join(dist, 'front-door');
mkdirSync(out, { recursive: true });
const config = defaultConfig();
const markers = markerNames(config.global.loadDotenv, config.go.auto);
for (const shell of ['bash', 'zsh', 'fish']) {
  writeFileSync(join(out, `completion-${shell}`), completionScript(shell));
  writeFileSync(join(out, `hook-${shell}`), hookScript(shell, join(root, 'bin', 'envd'), markers));
  writeFileSync(join(out, `hook-${shell}.src`), `${relative(root, hookFile(shell))}\n`);
}
// Last: the front door uses these files only when this names the package they are in.
writeFileSync(join(out, 'root'), `${root}\n`);
