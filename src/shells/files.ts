import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  if (shell.hookText !== undefined) return shell.hookText(sourcedHookFile(shell), bin, names);
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

/**
 * Where the build writes a sourcing shell's hook as that shell loads it (bash:
 * dist/front-door/hook.bash), for shells with both `hookText` and `hookDropsComments`.
 */
export function hookCopyPath(shell: Shell): string {
  return join(PACKAGE_ROOT, 'dist', 'front-door', basename(shell.hookFile));
}

// `builtin source "${BASH_SOURCE[0]%/*}/FILE"`: a file beside the hook, inlined in the copy.
const SOURCED_BESIDE = /^builtin source "\$\{BASH_SOURCE\[0\]%\/\*\}\/([A-Za-z0-9._-]+)"$/;

/** The hook file with each file it sources from beside it put in place of that line. */
function inlinedHook(shell: Shell): string {
  const file = hookFile(shell);
  return readFileSync(file, 'utf8').split('\n').map((line) => {
    const m = SOURCED_BESIDE.exec(line);
    return m?.[1] === undefined ? line : readFileSync(join(dirname(file), m[1]), 'utf8');
  }).join('\n');
}

/**
 * Where the build writes the sections of a sourcing shell's hook that its copy loads on
 * first use (bash: dist/front-door/hook-more.bash), for shells with `hookLazy`.
 */
export function hookMorePath(shell: Shell): string {
  const name = basename(shell.hookFile);
  const dot = name.lastIndexOf('.');
  return join(PACKAGE_ROOT, 'dist', 'front-door', `${name.slice(0, dot)}-more${name.slice(dot)}`);
}

/** The id of the lazy sections' text: the copy loads a second file only of the same build. */
function lazyId(more: string): string {
  return createHash('sha256').update(more).digest('hex').slice(0, 16);
}

/**
 * The build's copies of a sourcing shell's hook. `copy`: the hook file with each file it
 * sources from beside it put in place of that line, without blank and comment-only lines.
 * bash lexes a sourced file a character at a time, comments included: half of `source
 * hook.bash` (~0.7 of 1.45 ms of CPU) went to its comment lines, on every new shell.
 * With `hookLazy`, the copy also leaves out the sections only a prompt that asks needs,
 * and has the loader in place of the stub; `more` is those sections behind their guard
 * line (null without `hookLazy`): a new shell parses ~8 of the 15 KB (~0.5 ms less CPU).
 */
export function hookCopies(shell: Shell): { copy: string; more: string | null } {
  const head = `# ${shell.hookFile} as ${shell.name} loads it, written by the build without its comment lines: edit that file.\n`;
  const text = inlinedHook(shell);
  const lazy = shell.hookLazy;
  if (lazy === undefined) return { copy: head + withoutCommentLines(text), more: null };
  const at = (name: string): number => {
    const m = new RegExp(`^# ---- ${name} -+$`, 'm').exec(text);
    if (m === null) throw new Error(`${shell.hookFile} has no section '${name}'`);
    return m.index;
  };
  const from = at(lazy.from);
  const to = at(lazy.to);
  const more = withoutCommentLines(text.slice(from, to));
  const id = lazyId(more);
  const lines = (text.slice(0, from) + text.slice(to)).split('\n');
  const stub = lines.indexOf(lazy.stub);
  if (stub === -1 || lines.indexOf(lazy.stub, stub + 1) !== -1) throw new Error(`${shell.hookFile} must hold the line '${lazy.stub}' once`);
  lines[stub] = lazy.loader(id, basename(hookMorePath(shell)));
  return {
    copy: head + withoutCommentLines(lines.join('\n')),
    more: `# ${shell.hookFile}'s sections ${lazy.from} to ${lazy.to}, loaded by the build's copy on first use: edit that file.\n${lazy.guard(id)}\n${more}`,
  };
}

/**
 * The file the line of a sourcing shell sources: the build's copy when there is one at
 * least as new as every file beside the hook (a hook edited since the build is sourced
 * where it is), else the hook file itself.
 */
export function sourcedHookFile(shell: Shell): string {
  const file = hookFile(shell);
  if (shell.hookDropsComments !== true) return file;
  const copy = hookCopyPath(shell);
  try {
    const built = statSync(copy).mtimeMs;
    const dir = dirname(file);
    for (const f of readdirSync(dir)) if (statSync(join(dir, f)).mtimeMs > built) return file;
    return copy;
  } catch {
    return file;
  }
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
