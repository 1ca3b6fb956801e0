import type { ExportOptions, ExportOutcome, ExportRequest } from './types.js';

/** What `envd allow|deny` did, for the CLI to report. */
export interface TrustChange {
  /** The real path of the env file whose approval changed. */
  file: string;
  message: string;
}

/** `envd status`: what is loaded, what was found, whether it is allowed and why not. */
export interface StatusInfo {
  cwd: string;
  /** The env file that applies here (null: none). */
  found: string | null;
  foundKind: 'envrc' | 'dotenv' | 'go-auto' | null;
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

/**
 * One interface, two implementations: `LocalService` (src/engine/service.ts) runs the
 * engine in this process; the daemon client forwards the same calls over the socket.
 * The daemon itself serves requests with a LocalService.
 */
export interface Service {
  export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome>;
  /** PATH: a file, or a directory (its .envrc, else .env); relative to cwd. */
  allow(path: string, cwd: string): Promise<TrustChange>;
  deny(path: string, cwd: string): Promise<TrustChange>;
  prune(): Promise<number>;
  status(req: ExportRequest): Promise<StatusInfo>;
  close(): Promise<void>;
}
