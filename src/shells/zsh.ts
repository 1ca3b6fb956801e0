import { join } from 'node:path';
import { quoteZsh } from '../env/quote.js';
import { nonEmpty, renderPosix, sourcingHook } from './posix.js';
import type { CompletionTable, Described, Shell } from './types.js';

/**
 * Names zsh gives a meaning of its own, beyond names.ts's shell-owned list: integer
 * specials (math-evaluated; UID/EUID/GID/EGID call setuid/setgid), USERNAME (switches user
 * when privileged), readonly and array/hash specials (lowercase names tied to the shell:
 * path, fpath, options, functions...), and PROMPT/prompt, which are PS1 under another
 * name. Found by exporting a hostile value under each of `$parameters`' specials;
 * test/render-names.test.ts re-runs that probe.
 */
const SPECIAL = new Set([
  // integer, readonly or behaviour-changing scalars
  'ARGC', 'COLUMNS', 'EGID', 'EPOCHREALTIME', 'EPOCHSECONDS', 'ERRNO', 'EUID', 'FUNCNEST', 'GID',
  'HISTCHARS', 'HISTCMD', 'HISTSIZE', 'KEYBOARD_HACK', 'KEYTIMEOUT', 'LINENO', 'LINES', 'LISTMAX',
  'MAILCHECK', 'OPTIND', 'PPID', 'PROMPT', 'RANDOM', 'SAVEHIST', 'SECONDS', 'SHLVL', 'TRY_BLOCK_ERROR',
  'TRY_BLOCK_INTERRUPT', 'TTYIDLE', 'UID', 'USERNAME', 'WATCH', 'ZLE_RPROMPT_INDENT', 'ZSH_EVAL_CONTEXT',
  'ZSH_SUBSHELL', 'ZCURSES_COLORS', 'ZCURSES_COLOR_PAIRS',
  // arrays, hashes and scalars tied to the shell's own state
  'aliases', 'argv', 'builtins', 'cdpath', 'commands', 'dirstack', 'dis_aliases', 'dis_builtins',
  'dis_functions', 'dis_functions_source', 'dis_galiases', 'dis_patchars', 'dis_reswords', 'dis_saliases',
  'epochtime', 'errnos', 'fignore', 'fpath', 'funcfiletrace', 'funcsourcetrace', 'funcstack', 'functions',
  'functions_source', 'functrace', 'galiases', 'histchars', 'history', 'historywords', 'jobdirs',
  'jobstates', 'jobtexts', 'keymaps', 'langinfo', 'mailpath', 'manpath', 'mapfile', 'module_path',
  'modules', 'nameddirs', 'options', 'parameters', 'path', 'patchars', 'pipestatus', 'prompt', 'psvar',
  'reswords', 'saliases', 'signals', 'status', 'sysparams', 'termcap', 'terminfo', 'userdirs',
  'usergroups', 'watch', 'widgets', 'zcurses_attrs', 'zcurses_colors', 'zcurses_keycodes', 'zcurses_windows',
  'zsh_eval_context', 'zsh_scheduled_events',
]);

/** `'name:desc' ...` for _describe, which splits at the first unescaped colon. */
function described(items: readonly Described[]): string {
  return items.map((i) => quoteZsh(`${i.name.replace(/:/g, '\\:')}:${i.desc}`)).join(' ');
}

/**
 * The data functions of shells/zsh/completion.zsh. They set the caller's locals (`verbs`,
 * `subs`, `opts`, `valopts`, `pos`, `rest`): zsh's locals are visible to the functions called.
 */
function completionTable(t: CompletionTable): string {
  const subCases = t.parents.map((p) => `    (${quoteZsh(p.name)}) subs=(${described(p.subs)}) ;;`);
  const specCases = t.leaves.map((l) => `    (${quoteZsh(l.path)}) opts=(${described(l.options)}); valopts=(${l.valueOptions.map(quoteZsh).join(' ')}); pos=(${l.positional.map(quoteZsh).join(' ')}); rest=${quoteZsh(l.rest)} ;;`);
  return [
    '_envd_verbs() {',
    `  verbs=(${described(t.verbs)})`,
    '}',
    '',
    '_envd_subcommands() {',
    '  case $1 in',
    ...subCases,
    '  esac',
    '}',
    '',
    '_envd_spec() {',
    '  case $1 in',
    ...specCases,
    '    (*) return 1 ;;',
    '  esac',
    '}',
  ].join('\n');
}

export const zsh: Shell = {
  name: 'zsh',
  hookFile: 'shells/zsh/hook.zsh',
  completionFile: 'shells/zsh/completion.zsh',
  hookLine: 'eval "$(envd hook zsh)"',
  rcHint: '~/.zshrc',
  rcFiles: (env, home) => ['.zshrc', '.zprofile', '.zshenv'].map((f) => join(nonEmpty(env, 'ZDOTDIR') ?? home, f)),
  quote: quoteZsh,
  nameVerdict: (name) => (SPECIAL.has(name) ? { ok: false, reason: 'zsh gives this variable a meaning of its own' } : { ok: true }),
  valueAsApplied: (_name, value) => value,
  exportStatement: (name, value) => `export ${name}=${quoteZsh(value)};`,
  render: (ops) => renderPosix(ops, quoteZsh),
  completionTable,
  hookText: sourcingHook(quoteZsh),
  check: ['zsh', '-n'],
};
