/**
 * The trust store's contract, used by the engine (checks) and the CLI/daemon (changes).
 * A record approves one file's exact content at one real path:
 *   hash = lowercase hex sha256(realpath + "\n" + content)
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
