import { join } from 'node:path';
import { quoteBash } from '../env/quote.js';
import { renderPosix, sourcingHook } from './posix.js';
import type { CompletionTable, Shell } from './types.js';

/**
 * Names bash gives a meaning of its own, beyond names.ts's shell-owned list: arithmetic
 * evaluation (RANDOM, SRANDOM, OPTIND, HISTCMD: `a[$(cmd)]` in the value RUNS cmd),
 * readonly, dynamic or array variables, BASH_XTRACEFD (unsetting it closes the
 * descriptor), BASH_COMPAT (validated). Found by exporting a hostile value under each of
 * `compgen -v`'s names; test/render-names.test.ts re-runs that probe.
 */
const SPECIAL = new Set([
  'BASH_ALIASES', 'BASH_ARGC', 'BASH_ARGV', 'BASH_ARGV0', 'BASH_CMDS', 'BASH_COMMAND', 'BASH_COMPAT',
  'BASH_LINENO', 'BASH_REMATCH', 'BASH_SOURCE', 'BASH_SUBSHELL', 'BASH_VERSINFO', 'BASH_XTRACEFD',
  'BASHOPTS', 'BASHPID', 'DIRSTACK', 'EPOCHREALTIME', 'EPOCHSECONDS', 'EUID', 'FUNCNAME', 'GROUPS',
  'HISTCMD', 'LINENO', 'OPTIND', 'PIPESTATUS', 'PPID', 'RANDOM', 'SECONDS', 'SHELLOPTS', 'SRANDOM', 'UID',
]);

/** The data functions of shells/bash/completion.bash. */
function completionTable(t: CompletionTable): string {
  const subCases = t.parents.map((p) => `    ${quoteBash(p.name)}) _envd_subs=${quoteBash(p.subs.map((s) => s.name).join(' '))} ;;`);
  const specCases = t.leaves.map((l) => `    ${quoteBash(l.path)}) _envd_opts=${quoteBash(l.options.map((o) => o.name).join(' '))}; _envd_valopts=${quoteBash(l.valueOptions.join(' '))}; _envd_pos=(${l.positional.map(quoteBash).join(' ')}); _envd_rest=${quoteBash(l.rest)} ;;`);
  return [
    `_envd_verbs=${quoteBash(t.verbs.map((v) => v.name).join(' '))}`,
    '',
    '_envd_subcommands() {',
    "  _envd_subs=''",
    '  case $1 in',
    ...subCases,
    '  esac',
    '}',
    '',
    '_envd_spec() {',
    "  _envd_opts='' _envd_valopts='' _envd_pos=() _envd_rest=none",
    '  case $1 in',
    ...specCases,
    '    *) return 1 ;;',
    '  esac',
    '}',
  ].join('\n');
}

export const bash: Shell = {
  name: 'bash',
  hookFile: 'shells/bash/hook.bash',
  completionFile: 'shells/bash/completion.bash',
  hookLine: 'eval "$(envd hook bash)"',
  rcHint: '~/.bashrc',
  rcFiles: (_env, home) => ['.bashrc', '.bash_profile', '.bash_login', '.profile'].map((f) => join(home, f)),
  quote: quoteBash,
  nameVerdict: (name) => (SPECIAL.has(name) ? { ok: false, reason: 'bash gives this variable a meaning of its own' } : { ok: true }),
  valueAsApplied: (_name, value) => value,
  exportStatement: (name, value) => `export ${name}=${quoteBash(value)};`,
  render: (ops) => renderPosix(ops, quoteBash),
  completionTable,
  hookText: sourcingHook(quoteBash),
  hookDropsComments: true,
  // A new shell parses only what its idle prompts run: asking and applying come from a
  // second file when a prompt first asks (hook.bash, _envd_more).
  hookLazy: {
    from: 'ask',
    to: 'fallback',
    stub: '_envd_more() { :; }',
    loader: (id, file) => [
      `_envd_more_id=${id} _envd_more_ok='' _envd_more_file="\${BASH_SOURCE[0]%/*}/${file}"`,
      '_envd_more() { [[ -n $_envd_more_ok ]] || { builtin source "$_envd_more_file" 2>/dev/null && _envd_more_ok=1; }; }',
    ].join('\n'),
    guard: (id) => `[[ \${_envd_more_id-} == ${id} ]] || return 1`,
  },
  check: ['shellcheck', '--shell=bash'],
};
