import { identityDifference, identityOf, identityOfEnv, sameIdentity, type Identity } from '../config/identity.js';
import { QuietGc } from './memory.js';
import type { EnvdPaths } from '../config/paths.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../engine/types.js';
import type { Env } from '../env/diff.js';
import { ProtocolError } from '../protocol/errors.js';
import { Dispatcher } from '../protocol/dispatch.js';
import {
  PROTOCOL_VERSION, budgetFromWire,
  type HelloInfo, type RequestFrame, type ResponseBody,
} from '../protocol/messages.js';
import { METHODS } from '../protocol/methods.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import type { Generation } from './generation.js';
import type { Backend, DaemonEngine, KeptReply, LeaveAnswer, SessionState } from './backend.js';
import type { DaemonLogger } from './log.js';
import type { DependencyWatcher } from './watcher.js';
import { watchedPaths } from '../engine/shell-state.js';
import { InstalledPackage } from './installed.js';
import { AnswerMemo, requestKey, type MemoWorld } from './answer-memo.js';
import { ReplyCache } from './hook-replay.js';
import { StatBatch } from './stat-batch.js';
import { Promotions, type Promotion, type PromotionResult, type ReplyEncoder } from './promotions.js';

/** A replayed answer tells the watcher its directories are in use at most this often. */
const TOUCH_EVERY_MS = 1000;

export interface CoreOptions {
  engine: DaemonEngine;
  generation: Generation;
  watcher: DependencyWatcher;
  log: DaemonLogger;
  paths: EnvdPaths;
  /** The version hello reports (the package's, unless a test knob overrides it). */
  version: string;
  /** Called after a `shutdown` request has been answered. */
  requestShutdown: (reason: string) => void;
}

/**
 * Serves requests, from JSON-lines connections and from hook streams alike, and keeps the
 * generation number and the watch set in step with what the engine did.
 */
export class DaemonCore implements Backend {
  private readonly gc = new QuietGc();
  readonly startedAt = Date.now();
  private bumpedThisTick = false;
  private syncScheduled = false;
  private lastDepVersion = -1;
  private lastDepKey = '';
  /** Whose config and allowlist this daemon uses; it serves no one else. */
  readonly identity: Identity;
  private readonly installed = new InstalledPackage();
  private steppingDown = false;
  /** Identities of foreign hook requests already logged (such a shell asks at many prompts). */
  private readonly foreignSeen = new Set<string>();
  /** Hook answers by request, re-validated by stamps on use (answer-memo.ts). */
  readonly memo = new AnswerMemo();
  /** The same answers encoded, by the hook request's bytes (hook-replay.ts). */
  readonly replies = new ReplyCache(this.memo);
  /** Hook requests answered from kept replies (hello reports it). */
  private replayed = 0;
  /** Stamps shared by the replies of one loop turn (stat-batch.ts). */
  readonly stats = new StatBatch();
  /** Answers not kept for now (a file changed within the second), worked out again later. */
  private readonly promotions = new Promotions((p) => this.promote(p), () => this.scheduleSync());
  /** The last few identities of hook environments, by the variables they derive from. */
  private readonly identities = new Map<string, string | null>();

  constructor(private readonly o: CoreOptions) {
    this.identity = identityOf(o.paths);
    o.engine.onChange(() => {
      this.bump();
      this.scheduleSync();
    });
  }

  /** Publish a new generation. Several changes within one tick need only one number. */
  bump(): void {
    if (this.bumpedThisTick) return;
    this.bumpedThisTick = true;
    this.o.generation.bump();
    setImmediate(() => { this.bumpedThisTick = false; });
  }

  /** Files outside the cache that always matter: config and the allowlist with its key. */
  pinnedPaths(): string[] {
    return [...this.o.engine.configFiles(), this.o.paths.allowlistFile, this.o.paths.keyFile];
  }

  /** Bring the watch set up to date, off the request's path (after the reply is written). */
  scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      try {
        // Only when the set may have changed: entering a cached project reorders the
        // cache but changes nothing to watch.
        const version = this.o.engine.dependencyVersion();
        if (version === this.lastDepVersion) return;
        this.lastDepVersion = version;
        // A project evaluated again on entry (a new version) usually depends on the same
        // files: the same list needs no sync (which resolves and stats every path).
        const deps = this.o.engine.dependencies();
        const pinned = this.pinnedPaths();
        const key = [...deps, '\0', ...pinned].join('\0');
        if (key === this.lastDepKey) return;
        this.lastDepKey = key;
        this.o.watcher.sync(deps, pinned);
      } catch (err) {
        this.o.watcher.reportError(err);
      }
    });
  }

  /** The watcher saw these paths change: refresh what depended on them, tell the hooks. */
  onWatchedChange(paths: string[]): void {
    this.o.log.info({ paths }, 'dependencies changed');
    // A link among them may point elsewhere now: the next sync resolves them again (the
    // watcher forgot what they resolved to, watch-paths.ts), even if the list is the same.
    this.lastDepKey = '';
    let relevant = true;
    try {
      relevant = this.o.engine.invalidate(paths);
    } catch (err) {
      this.o.log.error({ err: errorMessage(err) }, 'invalidate failed');
    }
    if (relevant) this.bump();
    this.scheduleSync();
  }

  hello(): HelloInfo {
    return {
      pid: process.pid,
      version: this.o.version,
      protocol: PROTOCOL_VERSION,
      socket: this.o.paths.socketPath,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      generation: this.o.generation.current,
      watched: this.o.watcher.count,
      watchPending: this.o.watcher.pending,
      cached: this.o.engine.cachedCount(),
      replayed: this.replayed,
      watcher: this.o.watcher.state,
      engine: true,
      identity: this.identity,
    };
  }

  /**
   * Why a hook request from this environment is not ours to serve, or null when it is.
   * The hooks send their exported environment; HOME, XDG_CONFIG_HOME, XDG_DATA_HOME and
   * DIRENV_CONFIG there decide whose config and allowlist apply.
   */
  foreignEnv(env: Readonly<Record<string, string>>): string | null {
    const stale = this.superseded();
    if (stale !== null) return stale;
    // Only these decide an identity (identity.ts); every prompt of a shell sends the same.
    const key = [env.HOME, env.XDG_CONFIG_HOME, env.XDG_DATA_HOME, env.DIRENV_CONFIG].map((v) => v === undefined ? '\u0001' : v).join('\0');
    const known = this.identities.get(key);
    if (known !== undefined) return known;
    const theirs = identityOfEnv(env);
    const why = sameIdentity(this.identity, theirs) ? null : identityDifference(this.identity, theirs);
    if (this.identities.size >= 16) this.identities.clear();
    this.identities.set(key, why);
    return why;
  }

  /** Backend.foreign: foreignEnv, logged once per identity. */
  foreign(env: Readonly<Record<string, string>>): string | null {
    const why = this.foreignEnv(env);
    if (why !== null && !this.foreignSeen.has(why) && this.foreignSeen.size < 100) {
      this.foreignSeen.add(why);
      this.o.log.info({ why }, 'hook request of another identity: told to use the CLI');
    }
    return why;
  }

  markers(): string[] {
    return this.o.engine.markers();
  }

  leaveFrom(after: Env): LeaveAnswer | null {
    return this.o.engine.leaveFrom(after);
  }

  /**
   * Why this daemon must not serve any more (its package on disk is now another version),
   * or null. It then stops after the current answers: the hook that was told `v` asks the
   * CLI, which starts the installed version.
   */
  superseded(stats?: StatBatch): string | null {
    const now = this.installed.replacedBy(stats);
    if (now === null) return null;
    const why = `envd ${now} is installed now; this daemon (envd ${this.o.version}) steps down`;
    if (!this.steppingDown) {
      this.steppingDown = true;
      setImmediate(() => this.o.requestShutdown(why));
    }
    return why;
  }

  /** Export for both transports; the hook side passes the async budget from config. */
  async export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    if (opts.coarseWatcher === true) this.o.generation.needNewInodes();
    try {
      // A request to run the file (entering, flag `n`) is answered from the memo only with
      // what the flag cannot change (answer-memo.ts FILE_ONLY_KINDS: leaving, nothing to
      // do); nothing with `[go] auto`, whose answers depend on SDK discovery as well.
      const fresh = opts.fresh === true;
      const memoable = !this.o.engine.config.go.auto;
      const key = memoable ? requestKey(req) : '';
      const generation = this.o.generation.current;
      const kept = memoable ? this.memo.get(key, generation, fresh) : null;
      if (kept !== null) {
        this.o.watcher.touch(req.cwd, watchedPaths(req.env, kept.change));
        return kept;
      }
      const startedAt = Date.now();
      const outcome = await this.o.engine.export(req, opts);
      if (memoable) {
        const put = this.memo.put(key, req, outcome, this.world(generation), startedAt, fresh);
        if (typeof put === 'object') this.promotions.noteUnsettled(key, put.settlesAt);
      }
      // What the shell now depends on stays watched while shells use it.
      this.o.watcher.touch(req.cwd, watchedPaths(req.env, outcome.change));
      return outcome;
    } finally {
      this.scheduleSync();
      this.gc.poke();
    }
  }

  /**
   * Backend.replay: the encoded records kept for these request bytes, when the answer
   * they came from still holds (its stamps, this generation); else null, and the request
   * takes the whole path. Nothing is parsed or evaluated here.
   */
  replay(raw: string): KeptReply | null {
    if (this.superseded(this.stats) !== null) return null;
    const generation = this.o.generation.current;
    const r = this.replies.get(raw, generation, this.stats);
    if (r === null) return null;
    const now = Date.now();
    if (now - r.touchedAt >= TOUCH_EVERY_MS) {
      r.touchedAt = now;
      this.o.watcher.touch(r.cwd, r.watched);
    }
    this.gc.poke();
    this.replayed++;
    // The generation now (an answer that holds across generations was kept under an older
    // one; a hook told that one would ask again at every prompt).
    return { body: r.body, generation };
  }

  /**
   * Backend.keepReply: `encode` makes the hook side's records for `outcome` (answered to
   * `req` under `generation`); kept for these bytes if the memo kept that very answer.
   * Not kept because a file was changed too recently: worked out again once it has
   * settled (promote), so that the shell's next prompt finds it kept.
   */
  keepReply(raw: string, req: ExportRequest, outcome: ExportOutcome, generation: number, encode: ReplyEncoder): void {
    if (this.o.engine.config.go.auto) return;
    const key = requestKey(req);
    const e = this.memo.entry(key);
    if (e !== undefined && e.live && e.outcome === outcome && (e.generation === generation || !e.generational)) {
      this.replies.put(raw, { entry: e, body: encode(outcome), cwd: req.cwd, watched: watchedPaths(req.env, outcome.change), touchedAt: Date.now() });
      return;
    }
    this.promotions.add(key, raw, req, encode);
  }

  private world(generation: number): MemoWorld {
    return { generation, markers: this.o.engine.markers(), pinned: [this.o.paths.keyFile] };
  }

  /**
   * An answer not kept because its files were changed within the second, worked out again
   * now that they are older: from the cache only (no evaluation is started for a shell
   * that is not asking), then kept as any answer is, so that the same request (the
   * shell's next prompt there) is served from its kept reply.
   */
  private async promote(p: Promotion): Promise<PromotionResult> {
    if (this.superseded() !== null || this.o.engine.config.go.auto) return 'never';
    const generation = this.o.generation.current;
    const startedAt = Date.now();
    const outcome = await this.o.engine.export(p.req, { budgetMs: 0, cachedOnly: true });
    const put = this.memo.put(requestKey(p.req), p.req, outcome, this.world(generation), startedAt);
    if (put === 'kept') this.keepReply(p.raw, p.req, outcome, generation, p.encode);
    return put;
  }

  /** Directories lost their watch while results still depend on them (see the watcher). */
  onUnwatched(dirs: string[]): void {
    this.o.log.info({ dirs: dirs.length }, 'directories unwatched (idle or over the bound); shells will ask once');
    this.bump();
  }

  budgetMs(): number {
    return this.o.engine.config.global.asyncBudgetMs;
  }

  generation(): number {
    return this.o.generation.current;
  }

  /** One JSON request. Throws ProtocolError; the connection decides whether to close. */
  async handle(frame: RequestFrame, session: SessionState): Promise<ResponseBody> {
    const method = METHODS[frame.type];
    if (frame.v !== PROTOCOL_VERSION && !method.versionFree) {
      throw new ProtocolError(
        'VERSION_MISMATCH',
        `this daemon (pid ${process.pid}, envd ${this.o.version}) speaks protocol ${PROTOCOL_VERSION}, the request ${frame.v}; restart it with 'envd daemon restart'`,
      );
    }
    // A hello is still answered (its version tells the client to replace this daemon).
    const stale = this.superseded();
    if (stale !== null && method.needsIdentity) throw new ProtocolError('VERSION_MISMATCH', `${stale}; ask again`);
    if (frame.type === 'hello') {
      // Every client gets the hello (it says whose daemon this is); only one of this
      // identity gets anything else on this connection.
      const theirs = frame.client.identity;
      session.identityOk = theirs !== null && sameIdentity(this.identity, theirs);
    } else if (method.needsIdentity && !session.identityOk) {
      throw new ProtocolError('IDENTITY_MISMATCH', `this daemon (pid ${process.pid}) serves HOME ${this.identity.home} (config ${this.identity.configDir}, data ${this.identity.dataDir}); it answers a connection only after a hello with that identity`);
    }
    return this.dispatcher.dispatch(frame, session);
  }

  /** What a handler threw, as the error reply says it. */
  private failure(err: unknown, frame: RequestFrame): ProtocolError {
    if (err instanceof EnvdError) return new ProtocolError('SERVICE_ERROR', err.message, err.code);
    this.o.log.error({ err: errorMessage(err), type: frame.type }, 'request failed');
    return new ProtocolError('INTERNAL', `internal error: ${errorMessage(err)}`);
  }

  /** The daemon's handler of each request declared in src/protocol/methods.ts. */
  private readonly dispatcher = new Dispatcher<SessionState>({
    hello: () => this.hello(),
    ping: () => undefined,
    // tcsh's hook falls back to the CLI: `envd export tcsh` says so (coarse), as an older
    // CLI that does not say is taken to. Any other format keeps in-place generation writes.
    export: (r) => this.export(r.req, { budgetMs: budgetFromWire(r.budgetMs), coarseWatcher: 'coarse' in r ? r.coarse : true }),
    allow: async (r) => {
      const result = await this.o.engine.allow(r.path, r.cwd);
      this.bump();
      return result;
    },
    deny: async (r) => {
      const result = await this.o.engine.deny(r.path, r.cwd);
      this.bump();
      return result;
    },
    prune: async () => {
      const removed = await this.o.engine.prune();
      if (removed > 0) this.bump();
      return { removed };
    },
    status: async (r) => {
      const result = await this.o.engine.status(r.req);
      return { ...result, daemon: { running: true, pid: process.pid, version: this.o.version } };
    },
    shutdown: () => {
      setImmediate(() => this.o.requestShutdown('shutdown requested by a client'));
      return { pid: process.pid };
    },
  }, (err, frame) => this.failure(err, frame));
}
