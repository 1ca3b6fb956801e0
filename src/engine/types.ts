
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
  /**
   * The asking shell sees a new generation only as a new mtime second or a new inode (tcsh,
   * or a client that does not say which shell it is): the daemon's generation file then
   * gets a new inode whenever it changes twice within one second (src/daemon/generation.ts).
   */
  coarseWatcher?: boolean;
}

export class NotCachedError extends Error {
  constructor() {
    super('the answer needs an evaluation');
  }
}
