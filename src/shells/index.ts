import { bash } from './bash.js';
import { elvish } from './elvish.js';
import { fish } from './fish.js';
import { SHELL_NAMES, type ShellName } from './names.js';
import { nushell } from './nushell.js';
import { tcsh } from './tcsh.js';
import type { Shell } from './types.js';
import { zsh } from './zsh.js';

export { COMPLETION_SHELLS, EXPORT_FORMATS, SHELL_NAMES, isExportFormat, isShellName, type ExportFormat, type ShellName } from './names.js';
export type { Shell } from './types.js';

/**
 * The registry: one module per name in SHELL_NAMES (the type checker holds them to it;
 * files.ts's LOADERS load one alone, for `envd hook` and `envd completion`).
 * Importing it reads no file and starts nothing.
 */
export const SHELLS: Readonly<Record<ShellName, Shell>> = { bash, zsh, fish, elvish, tcsh, nushell };

/** The shells in SHELL_NAMES order. */
export function allShells(): Shell[] {
  return SHELL_NAMES.map((n) => SHELLS[n]);
}
