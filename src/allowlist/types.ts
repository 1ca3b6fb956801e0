import type { Config } from '../config/config.js';

/**
 * The trust store's contract, used by the engine (checks) and the CLI/daemon (changes).
 * A record approves one file's exact content at one place (placeOf: the real path of the
 * directory it is evaluated in, plus its own name; a symlinked file is not resolved):
 *   hash = lowercase hex sha256(place + "\n" + content)
 * Every `realPath` parameter below is such a place.
 */
export type TrustVerdict =
  /** Approved. `sourced`: path -> hash of files the .envrc pulled in, null until the first
   *  evaluation after the approval has recorded them. */
  | { kind: 'allowed'; sourced: Record<string, string> | null }
  /** Trusted by `[whitelist]` in the config, without a record. */
  | { kind: 'whitelisted' }
  | { kind: 'denied' }
  /** Never approved, or approved with other content. */
  | { kind: 'unknown' }
  /** The store itself cannot be trusted (bad signature, torn, loose permissions...): nothing is trusted. */
  | { kind: 'store-error'; message: string };

export interface Allowlist {
  check(realPath: string, hash: string): TrustVerdict;
  /** Approve exactly this content; clears a deny of the path. Persists atomically. */
  allow(realPath: string, hash: string): void;
  /** Remember a deny for the path (any content); wins over allow records. */
  deny(realPath: string): void;
  /** Record the sourced files seen by the first evaluation after an approval. */
  recordSourced(realPath: string, hash: string, sourced: Record<string, string>): void;
  /** Drop records of files that are gone or whose content changed; returns how many. */
  prune(): number;
}

// --- Additions (the interface above is unchanged) -------------------------------------

/** What a change did besides the change itself: lines for the person who asked, each one
 *  sentence without the `envd: ` prefix (e.g. "the damaged allowlist was moved to ..."). */
export interface WriteReport {
  notices: string[];
}

/** What one evaluation sourced, for recordSourcedAll. */
export interface SourcedRecord {
  realPath: string;
  hash: string;
  sourced: Record<string, string>;
}

export type StoreStatus =
  | { ok: true; file: string; keyFile: string; publicKey: string | null; records: number; denied: number }
  | { ok: false; message: string };

/**
 * What `openAllowlist()` returns: the `Allowlist` contract plus what the CLI and daemon need
 * to report. `allow`/`deny` return their notices (a store that could not be verified is
 * moved aside by them; see docs/security.md). They throw `EnvdError` (ALLOWLIST_PERMISSIONS,
 * ALLOWLIST_CORRUPT for a newer format, ALLOWLIST_LOCKED) when they cannot write safely.
 * `prune` throws `EnvdError` when the store cannot be verified. `check` never throws.
 */
export interface AllowlistStore extends Allowlist {
  allow(realPath: string, hash: string): WriteReport;
  deny(realPath: string): WriteReport;
  /**
   * recordSourced for the first evaluations of many files, in one write: each write
   * signs and rewrites the whole file, so a record at a time was quadratic in the
   * projects visited (1,000 first entries held the daemon's thread for over 15 s).
   */
  recordSourcedAll(records: readonly SourcedRecord[]): void;
  /** Counts for `envd status`, or why the store cannot be trusted. Never throws. */
  status(): StoreStatus;
  /** Use a reloaded config (the whitelist) from now on. */
  setConfig(config: Config): void;
}
