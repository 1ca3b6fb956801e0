
export type { ExportFormat, ShellName } from '../shells/names.js';

// The wire owns these (src/protocol/wire-types.ts); the engine answers in them.
export type { ExportOutcome, ExportRequest } from '../protocol/wire-types.js';

export interface ExportOptions {
  /** How long to wait for an evaluation before answering `pending` (Infinity: wait). */
  budgetMs: number;
  /**
   * The shell is entering this file's project (hook flag `n`): run it, as direnv does on
   * every entry, rather than replay a cached result (which stands in only past the budget).
   */
  fresh?: boolean;
}
