import type { Config } from '../config/config.js';
import type { Env } from '../env/diff.js';
import type { Service } from '../engine/service-types.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../engine/types.js';
import type { RequestFrame, ResponseBody } from '../protocol/messages.js';
import type { ReplyEncoder } from './promotions.js';

/** What a JSON connection has established so far. */
export interface SessionState {
  /** A hello carried the daemon's own identity (see DaemonCore.handle). */
  identityOk: boolean;
}

/**
 * The thing that answers, as every transport sees it: the JSON-lines connection
 * (connection.ts), hook streams on the socket (hook-connection.ts) and bash's FIFO pairs
 * (fifo.ts) all talk to the daemon through this and nothing else. DaemonCore implements it;
 * BackendGate stands in for it while the engine loads.
 */
/** A kept hook reply (hook-replay.ts): its records up to `g`, and the generation to send. */
export interface KeptReply {
  body: Buffer;
  generation: number;
}

export interface Backend {
  /** One JSON request. Throws ProtocolError; the connection decides whether to close. */
  handle(frame: RequestFrame, session: SessionState): Promise<ResponseBody>;
  /** A hook's question; the hook side passes the async budget from config. */
  export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome>;
  /** The generation number hooks compare with their own. */
  generation(): number;
  /** How long an evaluation may take before the answer is `pending` (config async_budget). */
  budgetMs(): number;
  /** File names the hooks look for when walking up (`.envrc`, `.env`, Go pins). */
  markers(): string[];
  /**
   * Why a request with this environment is not the daemon's to serve (another HOME, config
   * or data dir), or null. Such a request is answered `v`: the hook asks `envd export`,
   * which works in-process with that environment's own config and allowlist.
   */
  foreign(env: Readonly<Record<string, string>>): string | null;
  /**
   * The records kept for a hook request's bytes after its id (hook-replay.ts), still
   * valid now, and the generation the reply carries; null: serve it the whole way.
   */
  replay(raw: string): KeptReply | null;
  /** Keep the records `encode` makes for `outcome`, for a request's bytes (see replay). */
  keepReply(raw: string, req: ExportRequest, outcome: ExportOutcome, generation: number, encode: ReplyEncoder): void;
  /**
   * What leaving for a directory without an env file would answer a shell whose
   * environment is `after`, and the names it depends on (a hook's leave plan); null: none.
   */
  leaveFrom(after: Env): LeaveAnswer | null;
}

/** A leave worked out beforehand (src/engine/outcome.ts leaveFrom). */
export interface LeaveAnswer {
  outcome: ExportOutcome;
  names: string[];
}

/**
 * The engine as the daemon sees it: the one seam between src/daemon and src/engine
 * (serving.ts loads LocalService, which provides it).
 */
export interface DaemonEngine extends Service {
  dependencies(): string[];
  onChange(cb: () => void): void;
  /** False when nothing any answer depends on changed (e.g. envd's own bookkeeping write). */
  invalidate(paths: string[]): boolean;
  /** Changes whenever dependencies() may return a different set. */
  dependencyVersion(): number;
  configFiles(): readonly string[];
  cachedCount(): number;
  /** File names the hooks look for when walking up (`.envrc`, `.env`, Go pins). */
  markers(): string[];
  leaveFrom(after: Env): LeaveAnswer | null;
  readonly config: Config;
}

/**
 * The part of a Backend the hook transports use. `markers` and `foreign` may be left out
 * (a backend that cannot say): the hooks then get the default markers and every request
 * is served.
 */
export type HookBackend = Pick<Backend, 'export' | 'generation' | 'budgetMs'> & Partial<Pick<Backend, 'markers' | 'foreign' | 'replay' | 'keepReply' | 'leaveFrom'>>;

/**
 * A Backend for the time the real one is not there: connections that arrive while the
 * engine loads wait for it, and once the daemon stops they are told so.
 */
export class BackendGate implements Backend {
  private current: Backend | null = null;
  private closed = false;
  private settle: (b: Backend | null) => void = () => {};
  private readonly ready = new Promise<Backend | null>((r) => { this.settle = r; });

  /** Whether requests are answered now (hook streams are refused before: the hook falls back). */
  get isOpen(): boolean {
    return this.current !== null;
  }

  open(backend: Backend): void {
    if (this.closed) return;
    this.current = backend;
    this.settle(backend);
  }

  close(): void {
    this.closed = true;
    this.current = null;
    this.settle(null);
  }

  async handle(frame: RequestFrame, session: SessionState): Promise<ResponseBody> {
    return (await this.wait()).handle(frame, session);
  }

  async export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    return (await this.wait()).export(req, opts);
  }

  generation(): number {
    return this.now().generation();
  }

  budgetMs(): number {
    return this.now().budgetMs();
  }

  markers(): string[] {
    return this.now().markers();
  }

  leaveFrom(after: Env): LeaveAnswer | null {
    return this.now().leaveFrom(after);
  }

  foreign(env: Readonly<Record<string, string>>): string | null {
    return this.now().foreign(env);
  }

  replay(raw: string): KeptReply | null {
    return this.current === null ? null : this.current.replay(raw);
  }

  keepReply(raw: string, req: ExportRequest, outcome: ExportOutcome, generation: number, encode: ReplyEncoder): void {
    this.current?.keepReply(raw, req, outcome, generation, encode);
  }

  private async wait(): Promise<Backend> {
    const b = this.closed ? null : (this.current ?? await this.ready);
    if (b === null || this.closed) throw new Error('the daemon is stopping');
    return b;
  }

  private now(): Backend {
    if (this.current === null) throw new Error('the daemon is not ready');
    return this.current;
  }
}
