import type { TrustVerdict } from '../allowlist/index.js';
import type { LoadStatus } from './shell-state.js';

/**
 * What one request needs to know to decide what to do. Facts that cost a stat or a read
 * are functions, asked only when the decision reaches them, so an idle prompt pays for the
 * state check alone (and entering a project never checks the old state's files).
 */
export interface Facts {
  /** An env file (or a `[go] auto` pin) applies in the request's directory. */
  found: boolean;
  /** The shell carries a state: a file it loaded, was blocked at or failed at, or a diff to revert. */
  shellHasState: boolean;
  /** The env file could not be read, or its owner or mode is unsafe (the service keeps why). */
  unreadable: boolean;
  /** The allowlist's verdict on what was read (meaningless when unreadable). */
  trust: TrustVerdict['kind'];
  /** The shell's state is about this same file. */
  sameFile: boolean;
  /** What the shell's state says happened to its file. */
  shellStatus: LoadStatus | null;
  /** Every fingerprint in the shell's state still matches. */
  stateUnchanged: () => boolean;
  /** A recorded sourced file that changed since the approval and blocks it, or null. */
  sourcedChanged: () => string | null;
  /** The hook says the shell is arriving at this file's project (flag `n`). */
  fresh: boolean;
  /** A cached result for this file and starting environment still holds. */
  cached: () => boolean;
}

/** Why nothing is done. */
export type NothingReason =
  | 'no-project'     // no env file here, and the shell has nothing loaded
  | 'unchanged'      // same file, same fingerprints, still trusted: the shell is current
  | 'still-blocked'; // same file, same fingerprints, still not approved: said already

/** Why the file is not run (the shell leaves whatever it had loaded). */
export type RefuseReason =
  | 'unreadable'      // cannot be read safely (FIFO, too big, NUL, unsafe owner or mode)
  | 'not-approved'    // new or changed content
  | 'denied'          // `envd deny`
  | 'store-error'     // the allowlist cannot be read or verified
  | 'sourced-changed';// a file the approval recorded as sourced changed since

export type Decision =
  | { action: 'nothing'; reason: NothingReason }
  | { action: 'unload'; reason: 'left-project' }
  | { action: 'refuse'; reason: Exclude<RefuseReason, 'sourced-changed'> }
  | { action: 'refuse'; reason: 'sourced-changed'; changed: string }
  /** Run the file: `entering` runs it fresh, as direnv does on every entry; `not-cached` joins a running one. */
  | { action: 'evaluate'; reason: 'entering' | 'not-cached' }
  | { action: 'use-cache'; reason: 'cached' };

/**
 * The one place that decides what a request does. direnv's order: no file, leave; a file
 * that cannot be read or is not trusted, refuse; nothing changed since the shell's last
 * answer, nothing; else run it (or use the result already known). Pure: every fact comes
 * in through `f` (test/engine-decide.test.ts).
 */
export function decide(f: Facts): Decision {
  if (!f.found) return f.shellHasState ? { action: 'unload', reason: 'left-project' } : { action: 'nothing', reason: 'no-project' };
  if (f.unreadable) return { action: 'refuse', reason: 'unreadable' };
  const trusted = f.trust === 'allowed' || f.trust === 'whitelisted';
  // Nothing changed since the shell's last answer: same file, same dependencies, same trust.
  if (f.sameFile) {
    if ((f.shellStatus === 'loaded' || f.shellStatus === 'failed') && trusted && f.stateUnchanged()) return { action: 'nothing', reason: 'unchanged' };
    if (f.shellStatus === 'blocked' && !trusted && f.stateUnchanged()) return { action: 'nothing', reason: 'still-blocked' };
  }
  if (!trusted) {
    return { action: 'refuse', reason: f.trust === 'denied' ? 'denied' : f.trust === 'store-error' ? 'store-error' : 'not-approved' };
  }
  // A recorded sourced file changed: blocked before anything runs.
  const changed = f.sourcedChanged();
  if (changed !== null) return { action: 'refuse', reason: 'sourced-changed', changed };
  // Entering (this shell had not loaded this file): the file runs, so `$(git branch)` or
  // `$(date)` are fresh. A cached result only stands in when the run outlasts the budget.
  if (f.fresh && (!f.sameFile || f.shellStatus !== 'loaded')) return { action: 'evaluate', reason: 'entering' };
  return f.cached() ? { action: 'use-cache', reason: 'cached' } : { action: 'evaluate', reason: 'not-cached' };
}
