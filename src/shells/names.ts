/**
 * The shells envd supports, as one list: the `ShellName` union derives from it, and the
 * registry (index.ts) must have one module per name. Kept apart from the modules so that
 * code which only needs the names (argument checks, types) imports nothing else.
 */
export const SHELL_NAMES = ['bash', 'zsh', 'fish', 'elvish', 'tcsh', 'nushell'] as const;

export type ShellName = (typeof SHELL_NAMES)[number];

export function isShellName(s: string): s is ShellName {
  return (SHELL_NAMES as readonly string[]).includes(s);
}

/**
 * The shells with a completion file (their modules' completionFile; elvish, tcsh and
 * nushell have none yet): what `envd completion` takes. test/cli-verbs.test.ts holds the
 * modules to this list.
 */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const satisfies readonly ShellName[];

export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export function isCompletionShell(s: string): s is CompletionShell {
  return (COMPLETION_SHELLS as readonly string[]).includes(s);
}

/** What `envd export` and `envd dotenv` write: each shell's code, JSON, GitHub Actions' env file. */
export const EXPORT_FORMATS = [...SHELL_NAMES, 'json', 'gha'] as const;

export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(s: string): s is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(s);
}
