import type { Readable, Writable } from 'node:stream';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../engine/types.js';
import { errorMessage } from '../util/errors.js';
import type { DaemonLogger } from './log.js';

/** What the hook side (src/daemon/hook-connection.ts) needs from the daemon. */
export interface HookBackend {
  export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome>;
  generation(): number;
  budgetMs(): number;
}

/** The hook side's entry points, as declared in its contract. */
export interface HookModule {
  serveHookStream(input: Readable, output: Writable, backend: HookBackend): void;
  startFifoTransport(runtimeDir: string, backend: HookBackend, log: DaemonLogger): { close(): Promise<void> };
}

function isHookModule(m: unknown): m is HookModule {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return typeof o.serveHookStream === 'function' && typeof o.startFifoTransport === 'function';
}

/**
 * Load the hook side when it is there. It is a separate module with its own owner; a
 * daemon without it still serves the CLI, and hooks fall back to `envd export`.
 */
export async function loadHookModule(log: DaemonLogger): Promise<HookModule | null> {
  const specifier = './hook-connection.js';
  try {
    const mod: unknown = await import(specifier);
    if (isHookModule(mod)) return mod;
    log.warn('hook-connection module lacks serveHookStream/startFifoTransport; hook transports disabled');
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'hook transports unavailable; hooks will fall back to the CLI');
  }
  return null;
}
