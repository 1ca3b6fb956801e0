import type { MoreShell } from '../env/render-more.js';
import type { Change, Env } from '../env/diff.js';

export type ShellName = 'bash' | 'zsh' | 'fish';
export type ExportFormat = ShellName | 'json' | 'gha' | MoreShell;

/** One question from a shell (through the daemon or the one-shot CLI): "I am here, with this env". */
export interface ExportRequest {
  cwd: string;
  /** The caller's exported environment, including envd's state variables. */
  env: Env;
}

export type OutcomeKind =
  | 'noop'       // nothing to do
  | 'loaded'     // entered or reloaded a directory
  | 'unloaded'   // left a directory, nothing new loaded
  | 'blocked'    // the file is not approved (or its content/sourced files changed)
  | 'denied'     // explicitly denied
  | 'failed'     // the evaluation failed (exit status, timeout): nothing applied
  | 'pending';   // still evaluating past the budget: nothing applied yet

export interface ExportOutcome {
  kind: OutcomeKind;
  /** Everything the shell must set/unset, envd's own state variables included. */
  change: Change;
  /** Lines for stderr, each already starting with `envd: `. */
  messages: string[];
  /** The env file this answer is about (null outside any project). */
  file: string | null;
  /**
   * What the shell's state now depends on (the env file, sourced and watched files, the
   * allowlist and config files): the hook re-asks at the next prompt when one is newer
   * than its stamp. Absent: the hook keeps relying on the generation alone.
   */
  deps?: string[];
}

export interface ExportOptions {
  /** How long to wait for an evaluation before answering `pending` (Infinity: wait). */
  budgetMs: number;
  /**
   * The shell is entering this file's project (hook flag `n`): run it, as direnv does on
   * every entry, rather than replay a cached result (which stands in only past the budget).
   */
  fresh?: boolean;
}
