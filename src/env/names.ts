/** A name every shell can carry as an exported variable. */
export function isValidName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * The one list of names the shell owns, and the named subsets other modules need. Every
 * subset is built from the groups below, so a name is written once.
 */
/** What bash changes in every shell as it runs: `cd`, a subshell, each command. */
const SHELL_MOVES = ['PWD', 'OLDPWD', 'SHLVL', '_'] as const;
/** The terminal's size, which the shell keeps current. */
const TERMINAL_SIZE = ['COLUMNS', 'LINES'] as const;
/** direnv's (and envd's) evaluation-time variables: set for an evaluation, never part of a result. */
export const EVAL_TIME_VARS = ['DIRENV_IN_ENVRC', 'DIRENV_DUMP_FILE_PATH', 'DIRENV_CONFIG', 'DIRENV_BASH'] as const;

/** Names whose value belongs to the shell itself, never to an .envrc (refused by checkName). */
export const SHELL_OWNED: ReadonlySet<string> = new Set([
  ...SHELL_MOVES, 'PS1', 'PS2', 'PS3', 'PS4', 'SHELLOPTS', 'BASHOPTS',
  'UID', 'EUID', 'PPID', 'BASHPID', 'BASH_ARGV0', 'RANDOM', 'SECONDS', 'LINENO', 'HISTCMD',
  ...TERMINAL_SIZE, 'IFS', 'OPTIND', 'OPTARG',
  ...EVAL_TIME_VARS,
]);

/**
 * Names that differ between terminals of one user and say nothing about a project: left
 * out of cache keys and of cached starting environments, and never part of a result
 * (test/engine-cache.test.ts). The shell's moving names and size, and the terminal's own
 * identity (not the shell's, so not in SHELL_OWNED).
 */
export const PER_TERMINAL: ReadonlySet<string> = new Set([...SHELL_MOVES, ...TERMINAL_SIZE, 'TERM_SESSION_ID', 'WINDOWID', 'TMUX_PANE']);

/**
 * Variables the shell carries for envd (what is loaded and how to undo it): direnv's own,
 * in direnv's formats, so direnv's hook, `direnv show_dump` and prompts read them, and a
 * shell can switch between the two hooks (src/engine/shell-state.ts).
 */
export const STATE_VARS = ['DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_DIFF', 'DIRENV_WATCHES'] as const;
/** What envd's earlier releases carried instead: still read (and unset), so such a shell reverts once. */
export const LEGACY_STATE_VARS = ['ENVD_DIR', 'ENVD_FILE', 'ENVD_DIFF', 'ENVD_WATCHES'] as const;
/** Every state variable of any release: what a request's base environment is without. */
export const ALL_STATE_VARS: readonly string[] = [...STATE_VARS, ...LEGACY_STATE_VARS];

/**
 * Refused names an evaluation changes without the user's doing (bash moves them, direnv's
 * evaluation sets them), and the ones direnv drops without a word (PS1, SHELLOPTS): an
 * .envrc that exports them loses them silently, with no "not exporting" line.
 */
export const DROPPED_SILENTLY: ReadonlySet<string> = new Set([
  ...SHELL_MOVES, 'PS1', 'SHELLOPTS', 'DIRENV_CONFIG', 'DIRENV_BASH', 'DIRENV_IN_ENVRC', ...STATE_VARS,
]);

export type NameVerdict = { ok: true } | { ok: false; reason: string };

/** Whether a name may be emitted to a shell at all (envd's own state variables included). */
export function checkName(name: string): NameVerdict {
  if (!isValidName(name)) return { ok: false, reason: 'not a valid variable name' };
  if (SHELL_OWNED.has(name)) return { ok: false, reason: 'owned by the shell' };
  if (name.startsWith('BASH_FUNC_')) return { ok: false, reason: 'an exported bash function' };
  if (name.startsWith('__fish')) return { ok: false, reason: 'owned by fish' };
  if (name.toLowerCase().startsWith('__envd')) return { ok: false, reason: "reserved for envd's evaluation" };
  return { ok: true };
}

/** Whether an .envrc may set or unset this name; the reason is shown as a warning. */
export function checkEnvrcName(name: string): NameVerdict {
  const v = checkName(name);
  if (!v.ok) return v;
  if (name.startsWith('ENVD_') || (STATE_VARS as readonly string[]).includes(name)) {
    return { ok: false, reason: "reserved for envd's own state" };
  }
  return { ok: true };
}

/** Longest value envd will put in a shell (Linux's MAX_ARG_STRLEN is 128 KiB). */
export const MAX_VALUE_BYTES = 128 * 1024;
