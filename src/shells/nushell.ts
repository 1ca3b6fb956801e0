import { join } from 'node:path';
import { quoteNu } from '../env/quote-more.js';
import { nonEmpty } from './posix.js';
import type { EnvOp, Shell } from './types.js';

/**
 * Names nushell gives a meaning of its own (found by setting each through the real shell
 * and reading it back, test/more-shells-render.test.ts): FILE_PWD, CURRENT_FILE (refused
 * by the shell: "cannot be set manually"), ENV_CONVERSIONS and config (nushell's settings:
 * a string breaks them), the values nushell fills in itself, and the hook's own state
 * record `_envd`. Nushell's names are case-insensitive, so these are refused in any case.
 */
const SPECIAL = new Set([
  'file_pwd', 'current_file', 'env_conversions', 'config', 'last_exit_code', 'cmd_duration_ms',
  'nu_version', 'nu_lib_dirs', 'nu_plugin_dirs', 'pwd', '_envd',
]);

/**
 * A JSON object, name to value or null (unset), like `export json`: the hook applies it
 * with load-env and hide-env, so no answer text is evaluated as code.
 */
function render(ops: readonly EnvOp[]): string {
  // Null prototype: a variable may be called `__proto__`.
  const obj = Object.create(null) as Record<string, string | null>;
  for (const op of ops) obj[op.name] = op.kind === 'set' ? op.value : null;
  return JSON.stringify(obj);
}

/**
 * The syntax check: nu-check on the file given as main's argument (`--debug` makes a
 * failure an error naming the line; success prints nothing).
 */
const CHECK = 'def main [file: string] { nu-check --debug $file | ignore }';

export const nushell: Shell = {
  name: 'nushell',
  hookFile: 'shells/nushell/hook.nu',
  completionFile: null,
  hookLine: 'source ~/.config/nushell/envd.nu',
  rcHint: '~/.config/nushell/config.nu',
  rcFiles: (env, home) => [join(nonEmpty(env, 'XDG_CONFIG_HOME') ?? join(home, '.config'), 'nushell', 'config.nu')],
  quote: quoteNu,
  nameVerdict: (name) => (SPECIAL.has(name.toLowerCase()) ? { ok: false, reason: 'nushell gives this variable a meaning of its own' } : { ok: true }),
  valueAsApplied: (_name, value) => value,
  exportStatement: (name, value) => `$env.${quoteNu(name)} = ${quoteNu(value)}`,
  render,
  completionTable: null,
  utf8Only: true,
  check: ['nu', '-n', '-c', CHECK],
};
