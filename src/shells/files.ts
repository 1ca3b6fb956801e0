import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENVD_BIN_PATH, PACKAGE_ROOT } from '../version.js';
import type { ShellName } from './names.js';
import type { Shell } from './types.js';

/**
 * The shells' real files (shells/NAME/*), linted as they are, and what `envd hook SHELL`
 * and `envd completion SHELL` print from them. Both are plain text substitution (or none;
 * fish's hook also leaves out whole comment lines), so anything that can read the file and
 * quote one word could print the same bytes.
 *
 * The hook's substitutions (or, for a shell with `hookText`, the variables its one line
 * sets before sourcing the file where it is): `@ENVD_BIN@` (exactly once), the path of the
 * envd binary, and `@ENVD_MARKERS@`, the file names the hook looks for from its first
 * prompt (`.envrc:.env`, plus Go's pin files under `[go] auto`), each as one word quoted
 * for that shell. A new
 * shell thus finds a directory holding only a pin file without first having been told the
 * names by an answer (`k` records still update them). A shell with `hookDropsComments`
 * (fish) gets the file without its comment-only and blank lines. Everything else (runtime dir,
 * socket, generation file) the hook works out when it is loaded, from the environment,
 * exactly as src/config/paths.ts does.
 */
export const BIN_PLACEHOLDER = '@ENVD_BIN@';
export const MARKERS_PLACEHOLDER = '@ENVD_MARKERS@';
export const DEFAULT_HOOK_MARKERS = ['.envrc', '.env'];

/** Absolute path of a shell's hook file. */
export function hookFile(shell: Shell): string {
  return join(PACKAGE_ROOT, shell.hookFile);
}

/** Absolute path of a shell's completion file (null: envd has none for that shell). */
export function completionFile(shell: Shell): string | null {
  return shell.completionFile === null ? null : join(PACKAGE_ROOT, shell.completionFile);
}

export function hookScript(shell: Shell, bin: string = ENVD_BIN_PATH, markers: readonly string[] = DEFAULT_HOOK_MARKERS): string {
  const names = markers.filter((m) => m !== '' && !m.includes(':') && !m.includes('/') && !m.includes('\0'));
  if (shell.hookText !== undefined) return shell.hookText(hookFile(shell), bin, names);
  const text = readFileSync(hookFile(shell), 'utf8');
  const parts = text.split(BIN_PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`${shell.hookFile} must contain ${BIN_PLACEHOLDER} exactly once`);
  const printed = parts.join(shell.quote(bin)).split(MARKERS_PLACEHOLDER).join(shell.quote(names.join(':')));
  return shell.hookDropsComments === true ? withoutCommentLines(printed) : printed;
}

/** TEXT without its lines that are blank or only a comment (`#` after any indentation). */
export function withoutCommentLines(text: string): string {
  return text.split('\n').filter((l) => !/^[ \t]*(#|$)/.test(l)).join('\n') + '\n';
}

/** The completion script: the file as it is (its verb table is generated into it; see types.ts); null without one. */
export function completionScript(shell: Shell): string | null {
  const file = completionFile(shell);
  return file === null ? null : readFileSync(file, 'utf8');
}

/**
 * One shell's module, imported on demand: `envd hook bash` and `envd completion bash` load
 * bash's module only (index.ts's registry loads them all, for the code that needs any).
 */
const LOADERS: Readonly<Record<ShellName, () => Promise<Shell>>> = {
  bash: () => import('./bash.js').then((m) => m.bash),
  zsh: () => import('./zsh.js').then((m) => m.zsh),
  fish: () => import('./fish.js').then((m) => m.fish),
  elvish: () => import('./elvish.js').then((m) => m.elvish),
  tcsh: () => import('./tcsh.js').then((m) => m.tcsh),
  nushell: () => import('./nushell.js').then((m) => m.nushell),
};

export function loadShell(name: ShellName): Promise<Shell> {
  return LOADERS[name]();
}
