import type { EnvOp } from './types.js';

/**
 * bash and zsh: `envd hook SHELL` prints one line that names the binary and the marker
 * names and sources the hook file where it is. The rc line then costs what direnv's does:
 * a 22 KB text through `$(...)` and `eval` cost ~1 ms more than sourcing the file, and
 * the front door (bin/envd) prints this line without reading the hook at all.
 */
export function sourcingHook(quote: (v: string) => string): (file: string, bin: string, markers: readonly string[]) => string {
  return (file, bin, markers) => `_envd_bin=${quote(bin)}; _envd_kdef=${quote(markers.join(':'))}; builtin source ${quote(file)}\n`;
}

/**
 * bash and zsh render alike: `{ export NAME=WORD; unset -v 'NAME'; }`.
 * `unset -v`: plain `unset` in bash removes a FUNCTION of that name when no variable has
 * it. The name is quoted because a bare word could be a zsh global alias (oh-my-zsh
 * defines `L`, `G`, `H`, `NUL`…: `unset -v L` would become `unset -v | less`). In
 * `NAME=…` the word is never a bare name, so no alias can match it.
 */
export function renderPosix(ops: readonly EnvOp[], quote: (v: string) => string): string {
  const stmts = ops.map((op) => (op.kind === 'set' ? `export ${op.name}=${quote(op.value)};` : `unset -v '${op.name}';`));
  return `{ ${stmts.join(' ')} }`;
}

/** The value of an environment variable when it is set and not empty. */
export function nonEmpty(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v !== '' ? v : undefined;
}
