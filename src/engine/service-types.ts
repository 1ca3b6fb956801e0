import type { StatusInfo, TrustChange } from '../protocol/wire-types.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from './types.js';

// The wire owns these (src/protocol/wire-types.ts): the daemon sends them as they are.
export type { StatusInfo, TrustChange } from '../protocol/wire-types.js';

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
