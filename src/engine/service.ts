import { statSync } from 'node:fs';
import { openAllowlist, type TrustVerdict } from '../allowlist/index.js';
import { configFilePaths, loadConfig, type Config, type LoadedConfig } from '../config/config.js';
import { resolvePaths, tildePath, type EnvdPaths } from '../config/paths.js';
import { emptyChange, revert } from '../env/diff.js';
import type { Env, ProcessEnv } from '../env/diff.js';
import type { RpcHandler } from '../eval/rpc-types.js';
import type * as GoAuto from '../go/auto.js';
import type { CachedGoProvider } from '../go/types.js';
import { assertUtf8Path } from '../util/byte-paths.js';
import { errorMessage } from '../util/errors.js';
import { envdVersion } from '../version.js';
import { compactResult, ResultCache } from './cache.js';
import { coreRpcHandlers } from './core-rpc.js';
import { decide, type Decision } from './decide.js';
import { evaluateFile, extensionPlaces, type EvalResult } from './evaluate.js';
import { markerNames, type FoundFile } from './find.js';
import { fingerprint } from './fingerprint.js';
import { applyResult, formatMessage, leaveFrom, leaveKey, settle, unloaded, withDeps, type AnswerContext } from './outcome.js';
import type { Service, StatusInfo, TrustChange } from './service-types.js';
import { readShellState, stateStillValid, withoutState } from './shell-state.js';
import { recordDirOf } from './state-records.js';
import { statusOf } from './status.js';
import { findTarget, Probes, readTarget, type Target } from './target.js';
import { Trust } from './trust.js';
import { NotCachedError, type ExportOptions, type ExportOutcome, type ExportRequest } from './types.js';
import { keepRecent } from '../util/recent.js';

export interface LocalServiceOptions {
  paths?: EnvdPaths;
  env?: ProcessEnv;
  /** Extra RPC handlers (Go, stdlib extras) by name. */
  handlers?: Record<string, RpcHandler>;
  /** This process outlives requests (the daemon): work may go on in the background ([go] install = "auto"). */
  background?: boolean;
}

/**
 * The engine, used by the one-shot CLI in-process and by the daemon for every request. A
 * thin composition: the config, the trust operations (trust.ts), the result cache
 * (cache.ts), where new env files would matter (target.ts), the RPC handlers; one
 * request is one `decide` (decide.ts), carried out here and answered by outcome.ts.
 */
/**
 * Evaluation results kept (least recently used out first). Entering a project runs its
 * file anyway (flag n); a kept result serves the prompts of shells still in it, and stands
 * in past the budget. 64 covers the projects in use at once; each more costs memory
 * (its result, what re-runs it, its watched directories) in a daemon that lives for days.
 */
const KEPT_RESULTS = 64;

export class LocalService implements Service {
  readonly paths: EnvdPaths;
  private loaded: LoadedConfig;
  /** Leave answers by leaveKey, per config as loaded (a config edit is a new object). */
  private readonly leaves = new WeakMap<LoadedConfig, Map<string, { outcome: ExportOutcome; names: string[] } | null>>();
  private configStamp: string;
  private readonly trust: Trust;
  private readonly cache: ResultCache;
  private readonly probes = new Probes();
  private handlers: Record<string, RpcHandler>;
  private readonly coreHandlers: Record<string, RpcHandler>;
  private goProvider: CachedGoProvider | null = null;
  private extraHandlersLoaded = false;
  /** Loads of the handlers built from the config (they bring new watch roots). */
  private handlerLoads = 0;
  /** src/go/auto.ts, loaded only when `[go] auto` is on (see prepare()). */
  private goAuto: typeof GoAuto | null = null;
  private readonly listeners: (() => void)[] = [];
  private readonly processEnv: ProcessEnv;
  private readonly background: boolean;
  /** configFiles() and userFiles(): fixed for the service's life, as its paths are (not joined again per answer). */
  private readonly userPaths: { config: readonly string[]; all: ReadonlySet<string> };

  constructor(opts: LocalServiceOptions = {}) {
    this.background = opts.background === true;
    this.processEnv = opts.env ?? process.env;
    this.paths = opts.paths ?? resolvePaths(this.processEnv);
    const config = configFilePaths(this.paths);
    this.userPaths = { config, all: new Set([...config, ...Object.values(extensionPlaces(this.paths))]) };
    this.loaded = loadConfig(this.paths);
    this.configStamp = this.stampConfig();
    this.trust = new Trust(this.paths, openAllowlist(this.paths, this.loaded.config));
    this.cache = new ResultCache({ max: KEPT_RESULTS, onSettled: () => this.notify() });
    this.coreHandlers = { ...coreRpcHandlers(), ...(opts.handlers ?? {}) };
    this.handlers = this.coreHandlers;
  }

  // ---- config -------------------------------------------------------------------------

  /** The config as of the last request (each request re-checks the files once). */
  get config(): Config {
    return this.loaded.config;
  }

  configWarnings(): string[] {
    return this.loaded.warnings;
  }

  configFiles(): readonly string[] {
    return this.userPaths.config;
  }

  /** The user's config files and every place an extension may be read from. */
  private userFiles(): ReadonlySet<string> {
    return this.userPaths.all;
  }

  markers(): string[] {
    const c = this.config;
    return markerNames(c.global.loadDotenv, c.go.auto);
  }

  /** A change to a config file takes effect at the next request. */
  private stampConfig(): string {
    return this.configFiles().map((f) => {
      const st = statSync(f, { throwIfNoEntry: false });
      return st === undefined ? '-' : `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
    }).join('|');
  }

  refreshConfig(): void {
    const stamp = this.stampConfig();
    if (stamp === this.configStamp) return;
    this.configStamp = stamp;
    this.loaded = loadConfig(this.paths);
    this.trust.setConfig(this.loaded.config);
    this.cache.clear();
    // Handlers built from the config (the Go SDK list: [go] sdk_dirs) are built again.
    this.extraHandlersLoaded = false;
    this.handlers = this.coreHandlers;
    this.goProvider = null;
  }

  /** Handlers of other modules (Go, stdlib extras), loaded on first evaluation. */
  private async allHandlers(): Promise<Record<string, RpcHandler>> {
    if (!this.extraHandlersLoaded) {
      this.extraHandlersLoaded = true;
      const { extraHandlers } = await import('./extra-handlers.js');
      const extra = await extraHandlers(this.paths, this.config, this.processEnv, { background: this.background });
      // The core's own handlers win over same-named extras.
      this.handlers = { ...extra.handlers, ...this.coreHandlers };
      this.goProvider = extra.go;
      this.handlerLoads++;
    }
    return this.handlers;
  }

  /** Load what the current config needs before answering. */
  private async prepare(): Promise<Config> {
    this.refreshConfig();
    const config = this.config;
    if (config.go.auto && this.goAuto === null) this.goAuto = await import('../go/auto.js');
    return config;
  }

  // ---- daemon hooks -------------------------------------------------------------------

  /** Called when a background evaluation finishes (the daemon bumps its generation). */
  onChange(cb: () => void): void {
    this.listeners.push(cb);
  }

  private notify(): void {
    for (const cb of this.listeners) {
      try { cb(); } catch { /* a listener's problem is not ours */ }
    }
  }

  /** A number that changes whenever dependencies() may return a different set. */
  dependencyVersion(): number {
    return this.cache.version + this.probes.version + this.handlerLoads;
  }

  /** Files and directories the cached results depend on (to watch). */
  dependencies(): string[] {
    return [...new Set([...this.goProvider?.watchRoots() ?? [], ...this.probes.paths(), ...this.cache.dependencies()])];
  }

  cachedCount(): number {
    return this.cache.size;
  }

  /**
   * Something changed on disk: drop the results that depended on it and evaluate them again
   * in the background, so the next request is answered from the cache.
   */
  invalidate(changedPaths: string[]): boolean {
    // The allowlist as this process itself last wrote it (recording sourced files) is not
    // news: no answer changes, and a new generation would only make every shell ask again.
    const changed = changedPaths.filter((c) => !this.trust.isOwnWrite(c));
    if (changed.length === 0) return false;
    // A Go SDK appeared or went away under one of the discovery roots: look again.
    const roots = this.goProvider?.watchRoots() ?? [];
    if (changed.some((c) => roots.some((r) => c === r || c.startsWith(r + '/')))) this.goProvider?.refresh();
    this.cache.invalidate(changed);
    this.notify();
    return true;
  }

  // ---- export -------------------------------------------------------------------------

  async export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    return withDeps(req.env, await this.answer(req, opts), this.paths.allowlistFile, this.configFiles(), this.userFiles(), this.paths.home);
  }

  /** What every answer is worked out with, besides the shell's own environment. */
  private contextBase(config: Config): Omit<AnswerContext, 'current' | 'state' | 'base'> {
    return { config, home: this.paths.home, allowlistFile: this.paths.allowlistFile, recordDir: recordDirOf(this.paths), configFiles: this.configFiles() };
  }

  /**
   * What leaving for a directory without an env file would answer a shell whose environment
   * is `after` (outcome.ts leaveFrom), with the config of the answer just given.
   */
  leaveFrom(after: Env): { outcome: ExportOutcome; names: string[] } | null {
    // The same shells enter the same projects: the same key under the same config is the
    // same answer object (hook-session.ts keeps its records by it).
    let known = this.leaves.get(this.loaded);
    if (known === undefined) {
      known = new Map();
      this.leaves.set(this.loaded, known);
    }
    const key = leaveKey(after);
    if (known.has(key)) return known.get(key) ?? null;
    const answer = leaveFrom(this.contextBase(this.config), after, [...this.loaded.warnings]);
    keepRecent(known, key, answer, 64);
    return answer;
  }

  private async answer(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    const config = await this.prepare();
    // Paths are bytes: a directory whose name is not UTF-8 is refused, never looked up
    // under a look-alike name (test/trust-paths.test.ts).
    assertUtf8Path('the current directory', req.cwd);
    const current = req.env;
    const cb = this.contextBase(config);
    const state = readShellState(current, { allowlistFile: cb.allowlistFile, recordDir: cb.recordDir });
    const c: AnswerContext = { ...cb, current, state, base: withoutState(state.diff !== null ? revert(current, state.diff) : current) };
    const messages = [...this.loaded.warnings];
    const fmt = (text: string): string => formatMessage(config, text);

    const found = findTarget(req.cwd, config, this.goAuto);
    this.probes.record(req.cwd, found, config);
    let target: Target | null = null;
    let verdict: TrustVerdict | null = null;
    let readError: unknown = null;
    if (found !== null) {
      try {
        target = readTarget(found, this.paths.home, this.goAuto);
        verdict = this.trust.verdictFor(target);
      } catch (err) {
        readError = err;
      }
    }
    // Computed only when a result is looked up or run (never on the idle prompt's path).
    let key: string | undefined;
    const keyOf = (t: Target): string => (key ??= this.cache.key({ ...t.found, realFile: t.realFile, hash: t.hash }, c.base));
    let cached: EvalResult | null | undefined;
    const decision: Decision = decide({
      found: found !== null,
      shellHasState: state.file !== null || state.diff !== null,
      unreadable: readError !== null,
      trust: verdict?.kind ?? 'unknown',
      sameFile: found !== null && state.file === found.path,
      shellStatus: state.status,
      stateUnchanged: () => stateStillValid(state),
      sourcedChanged: () => (verdict !== null ? this.trust.blockingSourced(verdict, config) : null),
      fresh: opts.fresh === true,
      cached: () => target !== null && (cached ??= this.cache.get(keyOf(target))) !== null,
    });

    if (decision.action === 'nothing') return { kind: 'noop', change: emptyChange(), messages, file: found?.path ?? null };
    if (decision.action === 'unload' || found === null) return unloaded(c, messages);
    const shown = tildePath(found.path, this.paths.home);
    if (decision.action === 'refuse') {
      switch (decision.reason) {
        case 'unreadable':
          // Unreadable or unsafe: leave the previous directory, say why, and remember the file.
          return settle(c, found, 'failed', [fingerprint(found.path)], [...messages, fmt(errorMessage(readError).replace(/^envd: /, ''))]);
        case 'store-error':
          return settle(c, found, 'blocked', [fingerprint(target?.realFile ?? found.path)], [...messages, fmt((verdict?.kind === 'store-error' ? verdict.message : '').replace(/^envd: /, ''))]);
        case 'denied':
        case 'not-approved':
          return settle(c, found, decision.reason === 'denied' ? 'denied' : 'blocked', [fingerprint(target?.realFile ?? found.path)], [...messages, fmt(`${shown} is blocked. Run 'envd allow' to approve its content`)]);
        case 'sourced-changed':
          return settle(c, found, 'blocked', [fingerprint(target?.realFile ?? found.path), fingerprint(decision.changed)],
            [...messages, fmt(`${shown} is blocked: ${tildePath(decision.changed, this.paths.home)} changed since the approval. Run 'envd allow' to approve its content`)]);
      }
    }
    if (target === null || verdict === null) throw new Error('unreachable: a file to run was read and judged');
    if (decision.action === 'use-cache' && cached != null) return applyResult(c, found, cached, messages);
    if (opts.cachedOnly === true) throw new NotCachedError();

    // Evaluate: joined to a running evaluation of the same key, except when entering, which
    // wants a run that starts now. Past the budget, entering stands in the last result.
    const entering = decision.reason === 'entering';
    const last = entering ? this.cache.get(keyOf(target)) : null;
    const run = this.makeRun(target, c.base, verdict.kind === 'whitelisted', opts.budgetMs === Infinity);
    const pending = entering ? this.cache.startFresh(keyOf(target), run) : this.cache.start(keyOf(target), run);
    const result = await withBudget(pending, opts.budgetMs);
    if (result !== null) {
      // hook-session.ts: the generation this answer may carry is the one after the bump.
      const outcome = applyResult(c, found, result, messages);
      return { ...outcome, evaluated: true };
    }
    if (last !== null) {
      messages.push(fmt(`${shown} is still running; the last result applies meanwhile, the fresh one at the next prompt after it finishes`));
      return applyResult(c, found, last, messages, true);
    }
    messages.push(fmt(`loading ${shown} (still running; applied at a prompt after it finishes)`));
    return { kind: 'pending', change: emptyChange(), messages, file: found.path };
  }

  private makeRun(t: Target, requestBase: Env, whitelisted: boolean, interactive: boolean): () => Promise<EvalResult> {
    // Cached reruns keep their starting environment; shells of one user mostly share it.
    const base = this.cache.internBase(requestBase);
    return async () => {
      const config = this.config;
      const fresh = this.trust.check(t.realFile, t.hash);
      const result = await evaluateFile({
        file: t.found.path,
        realFile: t.realFile,
        dir: t.found.dir,
        script: t.script,
        fileContent: t.content,
        hash: t.hash,
        fileStat: t.stat,
        base: { ...base },
        sourcedApproved: fresh.kind === 'allowed' ? fresh.sourced : null,
        trustAllSourced: whitelisted || config.trust.sourcedFiles === 'follow',
        isApproved: (p, h) => this.trust.isApproved(p, h),
        config,
        paths: this.paths,
        handlers: await this.allHandlers(),
        ...(interactive ? { onSlow: () => process.stderr.write(`envd: ${tildePath(t.found.path, this.paths.home)} is taking a while to execute. Use CTRL-C to give up.\n`) } : {}),
      });
      // First evaluation after an approval: what it sourced is approved along with it.
      if (result.kind === 'loaded' && fresh.kind === 'allowed' && fresh.sourced === null) {
        this.trust.recordSourcedLater(t.realFile, t.hash, result.sourced);
      }
      return compactResult(result, base);
    };
  }

  // ---- trust and status -----------------------------------------------------------------

  allow(path: string, cwd: string): Promise<TrustChange> {
    return this.trust.allow(path, cwd);
  }

  deny(path: string, cwd: string): Promise<TrustChange> {
    return this.trust.deny(path, cwd);
  }

  prune(): Promise<number> {
    return this.trust.prune();
  }

  async status(req: ExportRequest): Promise<StatusInfo> {
    const config = await this.prepare();
    assertUtf8Path('the current directory', req.cwd);
    const found = findTarget(req.cwd, config, this.goAuto);
    return statusOf({
      cwd: req.cwd,
      found,
      state: readShellState(req.env, { allowlistFile: this.paths.allowlistFile, recordDir: recordDirOf(this.paths) }),
      judge: () => this.trust.verdictFor(readTarget(found as FoundFile, this.paths.home, this.goAuto)),
      blockingSourced: (v) => this.trust.blockingSourced(v, config),
      home: this.paths.home,
      loaded: this.loaded,
    });
  }

  async close(): Promise<void> {
    await this.cache.idle();
    await this.trust.idle();
  }

  version(): string {
    return envdVersion();
  }
}

/** Resolve within the budget, or null (the evaluation goes on). */
function withBudget<T>(p: Promise<T>, budgetMs: number): Promise<T | null> {
  if (budgetMs === Infinity) return p;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => resolvePromise(null), budgetMs);
    p.then((v) => { clearTimeout(timer); resolvePromise(v); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}
