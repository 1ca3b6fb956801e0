
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
  /**
   * Answer only what needs no evaluation (a cached result, an unload, a refusal); throws
   * NotCachedError instead of starting one. The daemon re-derives an answer this way once
   * its files have settled (src/daemon/core.ts), when no shell is waiting.
   */
  cachedOnly?: boolean;
}

export class NotCachedError extends Error {
  constructor() {
    super('the answer needs an evaluation');
  }
}
