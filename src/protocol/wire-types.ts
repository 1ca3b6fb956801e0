/**
 * The values that cross the daemon's socket, owned here: the engine (src/engine) and the
 * client (src/cli/connect.ts) import them from this module, never the other way round.
 * Each closed set of words is an `as const` list, and its type derives from that list, so
 * the parser (messages.ts) and the type cannot drift apart.
 */
import type { Identity } from '../config/identity.js';
import type { Change, Env } from '../env/diff.js';

/** One question from a shell (through the daemon or the one-shot CLI): "I am here, with this env". */
export interface ExportRequest {
  cwd: string;
  /** The caller's exported environment, including envd's state variables. */
  env: Env;
}

/**
 * noop: nothing to do · loaded: entered or reloaded a directory · unloaded: left a
 * directory, nothing new loaded · blocked: the file is not approved (or its content or
 * sourced files changed) · denied: explicitly denied · failed: the evaluation failed (exit
 * status, timeout), nothing applied · pending: still evaluating past the budget, nothing
 * applied yet.
 */
export const OUTCOME_KINDS = ['noop', 'loaded', 'unloaded', 'blocked', 'denied', 'failed', 'pending'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

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
  /**
   * The same files as the hook checks them at every prompt (daemon only; absent: `deps`):
   * user config and extension files that do not exist are stood for by the nearest
   * directory that does (creating one changes its mtime), when several share it.
   */
  promptDeps?: string[];
  /**
   * The answer carries the result of an evaluation that finished while this request waited
   * (its end moved the daemon's generation by one): the shell has nothing more to ask for.
   */
  evaluated?: boolean;
}

/** What `envd allow|deny` did, for the CLI to report. */
export interface TrustChange {
  /** The real path of the env file whose approval changed. */
  file: string;
  message: string;
}

export const FOUND_KINDS = ['envrc', 'dotenv', 'go-auto'] as const;
export type FoundKind = (typeof FOUND_KINDS)[number];

/** `envd status`: what is loaded, what was found, whether it is allowed and why not. */
export interface StatusInfo {
  cwd: string;
  /** The env file that applies here (null: none). */
  found: string | null;
  foundKind: FoundKind | null;
  /** allowed | whitelisted | denied | blocked | none | store-error */
  trust: string;
  trustDetail: string;
  /** What the calling shell has loaded (from DIRENV_DIR / DIRENV_FILE). */
  loadedDir: string | null;
  loadedFile: string | null;
  /** Variables the loaded state changed. */
  changed: string[];
  daemon: { running: boolean; pid: number | null; version: string | null };
  configFiles: string[];
  configWarnings: string[];
}

export const WATCHER_STATES = ['on', 'off', 'degraded'] as const;
export type WatcherState = (typeof WATCHER_STATES)[number];

/**
 * Who a client is. `identity` (absent from clients before it existed) is checked by the
 * daemon: requests on a connection are served only after a hello whose identity is the
 * daemon's own.
 */
export interface ClientInfo {
  version: string;
  protocol: number;
  pid: number;
  identity: Identity | null;
}

/** What `hello` answers: enough to decide whether to keep this daemon, and for `daemon status`. */
export interface HelloInfo {
  pid: number;
  /** The daemon's package version. */
  version: string;
  protocol: number;
  socket: string;
  startedAt: number;
  uptimeMs: number;
  generation: number;
  /** Dependency paths of cached environments covered by an established watch. */
  watched: number;
  /** Directories asked for but not watched yet (the watcher works asynchronously). */
  watchPending: number;
  /** Evaluated environments in the cache. */
  cached: number;
  /** Hook requests answered from kept replies since the daemon started (hook-replay.ts). */
  replayed: number;
  watcher: WatcherState;
  /** False when the engine could not be loaded: the daemon answers hello but no work. */
  engine: boolean;
  /** Whose config and allowlist the daemon uses (null from daemons that do not say). */
  identity: Identity | null;
}
