import { join } from 'node:path';
import { quoteElvish } from '../env/quote-more.js';
import { nonEmpty } from './posix.js';
import type { EnvOp, Shell } from './types.js';

/**
 * elvish code: `set-env "NAME" "VALUE"` / `unset-env "NAME"` inside one `if $true { … }`.
 * elvish parses a whole chunk before running any of it, so a cut-off answer is a parse
 * error and applies nothing. Double-quoted strings with `\xHH` escapes: elvish strings are
 * bytes, so every value, UTF-8 or not, is exact. (direnv's `export elvish` prints JSON
 * instead, which cannot carry bytes that are not UTF-8.) The name is quoted too: elvish
 * reads a bare word as a string, but then every argument is a string literal, no exceptions.
 * No name has a meaning of its own to elvish beyond names.ts's list (probed in
 * test/more-shells-render.test.ts).
 */
function render(ops: readonly EnvOp[]): string {
  const stmts = ops.map((op) => (op.kind === 'set' ? `set-env ${quoteElvish(op.name)} ${quoteElvish(op.value)}` : `unset-env ${quoteElvish(op.name)}`));
  return `if $true {\n${stmts.map((s) => `  ${s}\n`).join('')}}\n`;
}

export const elvish: Shell = {
  name: 'elvish',
  hookFile: 'shells/elvish/hook.elv',
  completionFile: null,
  hookLine: 'eval (envd hook elvish | slurp)',
  rcHint: '~/.config/elvish/rc.elv',
  rcFiles: (env, home) => [join(nonEmpty(env, 'XDG_CONFIG_HOME') ?? join(home, '.config'), 'elvish', 'rc.elv'), join(home, '.elvish', 'rc.elv')],
  quote: quoteElvish,
  nameVerdict: () => ({ ok: true }),
  valueAsApplied: (_name, value) => value,
  exportStatement: (name, value) => `set-env ${quoteElvish(name)} ${quoteElvish(value)}`,
  render,
  completionTable: null,
  check: ['elvish', '-norc', '-compileonly'],
};
