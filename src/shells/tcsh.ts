import { join } from 'node:path';
import { quoteTcsh } from '../env/quote-more.js';
import type { EnvOp, Shell } from './types.js';

/**
 * `setenv NAME '…';` / `unsetenv NAME;` lines, for the hook to `source` from a file (a
 * backquote substitution would split the text at newlines). tcsh has no byte escapes:
 * bytes go into the file as they are (`rawBytes`: written with encodeBytes), which tcsh
 * keeps whatever the locale (tested through a real tcsh). tcsh runs a sourced file line by
 * line, so a cut-off file would apply its first lines: the hook sources it only when
 * `envd export` exited normally (0, or 1 for a refused file), i.e. wrote it whole. Each
 * statement ends in `;` too, so direnv's own tcsh hook line (eval of a backquote, which
 * joins the lines) also works; values with a newline need the file.
 * PWD is the shell's own (names.ts already refuses it); the rest store what they are given.
 */
function render(ops: readonly EnvOp[]): string {
  return ops.map((op) => (op.kind === 'set' ? `setenv ${op.name} ${quoteTcsh(op.value)};\n` : `unsetenv ${op.name};\n`)).join('');
}

/**
 * tcsh has no functions: its prompt hook is the `precmd` alias, which sources the hook
 * file again, so the file is used where it is and `envd hook tcsh` prints one line that
 * sets the binary, the names and the file's path and sources it (for eval `envd hook tcsh`).
 * tcsh splits the names at blanks and would expand globs in them: plain names only.
 */
function hookText(file: string, bin: string, markers: readonly string[]): string {
  const names = markers.filter((m) => /^[A-Za-z0-9._+-]+$/.test(m)).join(':');
  return `set _envd_bin = ${quoteTcsh(bin)}; set _envd_kline = ${quoteTcsh(names)}; set _envd_self = ${quoteTcsh(file)}; source "$_envd_self"\n`;
}

export const tcsh: Shell = {
  name: 'tcsh',
  hookFile: 'shells/tcsh/hook.tcsh',
  completionFile: null,
  hookLine: 'eval "`envd hook tcsh`"',
  rcHint: '~/.tcshrc',
  rcFiles: (_env, home) => ['.tcshrc', '.cshrc', '.login'].map((f) => join(home, f)),
  quote: quoteTcsh,
  nameVerdict: () => ({ ok: true }),
  valueAsApplied: (_name, value) => value,
  exportStatement: (name, value) => `setenv ${name} ${quoteTcsh(value)};`,
  render,
  completionTable: null,
  hookText,
  rawBytes: true,
  check: ['tcsh', '-f', '-n'],
};
