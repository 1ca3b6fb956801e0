/** A name every shell can carry as an exported variable. */
export function isValidName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** Names whose value belongs to the shell itself, never to an .envrc. */
const SHELL_OWNED = new Set([
  'PWD', 'OLDPWD', 'SHLVL', '_', 'PS1', 'PS2', 'PS3', 'PS4', 'SHELLOPTS', 'BASHOPTS',
  'UID', 'EUID', 'PPID', 'BASHPID', 'BASH_ARGV0', 'RANDOM', 'SECONDS', 'LINENO', 'HISTCMD',
  'COLUMNS', 'LINES', 'IFS', 'OPTIND', 'OPTARG',
  // envd's and direnv's own evaluation-time variables are never part of a result.
  'DIRENV_IN_ENVRC', 'DIRENV_DUMP_FILE_PATH', 'DIRENV_CONFIG', 'DIRENV_BASH',
]);

/**
 * Variables the shell carries for envd (what is loaded and how to undo it): direnv's own,
 * in direnv's formats (src/engine/shell-state.ts).
 */
export const STATE_VARS = ['DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_DIFF', 'DIRENV_WATCHES'] as const;
/** What envd's earlier releases carried instead: read once to revert, then unset. */
export const LEGACY_STATE_VARS = ['ENVD_DIR', 'ENVD_FILE', 'ENVD_DIFF', 'ENVD_WATCHES'] as const;

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
