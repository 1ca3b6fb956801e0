import { createHash } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loadConfig, type Config, type LoadedConfig } from '../config/config.js';
import { resolvePaths, tildePath, type EnvdPaths } from '../config/paths.js';
import { changeBetween, diffBetween, emptyChange, revert, summarize, type Env, type EnvDiff } from '../env/diff.js';
import { MAX_VALUE_BYTES } from '../env/names.js';
import type { RpcHandler } from '../eval/rpc-types.js';
import { contentHash, judgeFile, openAllowlist, placeOf, type AllowlistStore, type TrustVerdict } from '../allowlist/index.js';
import { MAX_ENV_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';
import { lockPathFor, withLockAsync } from '../allowlist/lock.js';
import { assertUtf8Path } from '../util/byte-paths.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { envdVersion } from '../version.js';
import { coreRpcHandlers } from './core-rpc.js';
import { evaluateFile, type EvalResult } from './evaluate.js';
import { findEnvFile, markerNames, type FoundFile } from './find.js';
import { goAutoMarker } from '../go/auto.js';
import type * as GoAuto from '../go/auto.js';
import type { CachedGoProvider } from '../go/types.js';
import { stillValid, fingerprint, treePaths, type Fingerprint } from './fingerprint.js';
import { recordDirOf } from './state-records.js';
import { readShellState, stateStillValid, stateVars, stillValidExcept, STATE_NAMES, watchedPaths, withoutState, type LoadStatus, type ShellState } from './shell-state.js';
import type { Service, StatusInfo, TrustChange } from './service-types.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from './types.js';
import { copyNameMap, newNameMap } from '../env/map.js';
import { red } from '../util/colour.js';

/** Variables that differ between terminals of one user and say nothing about a project. */
const VOLATILE = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'TERM_SESSION_ID', 'WINDOWID', 'TMUX_PANE', 'COLUMNS', 'LINES']);
const MAX_CACHE = 512;
/** watch_dir entries a hook checks at every prompt (each a stat). */
const MAX_HOOK_TREE_PATHS = 256;

interface CacheEntry {
  result: EvalResult;
  /** What to re-run in the background when a dependency changes. */
  rerun: () => Promise<EvalResult>;
}

interface Target {
  found: FoundFile;
  /** The place the file is evaluated (placeOf): what its approval, deny and cached result
   *  belong to. For a file that is not a symlink, its real path. */
  realFile: string;
  content: Buffer;
  hash: string;
  script: Buffer;
  /** fstat of the descriptor the content was read from; null for `[go] auto`'s own content. */
  stat: Stats | null;
}

export interface LocalServiceOptions {
  paths?: EnvdPaths;
  env?: Record<string, string | undefined>;
  /** Extra RPC handlers (Go, stdlib extras) by name. */
  handlers?: Record<string, RpcHandler>;
  /** This process outlives requests (the daemon): work may go on in the background ([go] install = "auto"). */
  background?: boolean;
}

/**
 * The engine: one implementation of finding, trusting, evaluating and diffing, used by the
 * one-shot CLI in-process and by the daemon for every request.
 */
export class LocalService implements Service {
  readonly paths: EnvdPaths;
  private loaded: LoadedConfig;
  private configStamp: string;
  private readonly allowlist: AllowlistStore;
  private handlers: Record<string, RpcHandler>;
  private readonly coreHandlers: Record<string, RpcHandler>;
  private goProvider: CachedGoProvider | null = null;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly bases = new Map<string, Env>();
  /** Env file names where one would apply if created (recent requests' directories). */
  private readonly probes = new Map<string, string[]>();
  /** Moves whenever the set of dependencies may have changed (not on LRU reordering). */
  private depVersion = 0;
  /** The allowlist as this process last wrote it (bookkeeping writes are not news). */
  private ownAllowlistWrite: string | null = null;
  /** Bookkeeping writes deferred past the answer; close() waits for them. */
  private readonly pendingWrites = new Set<Promise<void>>();
  private readonly inflight = new Map<string, Promise<EvalResult>>();
  private readonly listeners: (() => void)[] = [];
  private readonly processEnv: Record<string, string | undefined>;
  private extraHandlersLoaded = false;
  /** src/go/auto.ts, loaded only when `[go] auto` is on (see prepare()). */
  private goAuto: typeof GoAuto | null = null;
  private readonly background: boolean;

  constructor(opts: LocalServiceOptions = {}) {
    this.background = opts.background === true;
    this.processEnv = opts.env ?? process.env;
    this.paths = opts.paths ?? resolvePaths(this.processEnv);
    this.loaded = loadConfig(this.paths);
    this.configStamp = this.stampConfig();
    this.allowlist = openAllowlist(this.paths, this.loaded.config);
    this.coreHandlers = { ...coreRpcHandlers(), ...(opts.handlers ?? {}) };
    this.handlers = this.coreHandlers;
  }

  /** The config as of the last request (each request re-checks the files once). */
  get config(): Config {
    return this.loaded.config;
  }

  configWarnings(): string[] {
    return this.loaded.warnings;
  }

  configFiles(): string[] {
    return [join(this.paths.direnvConfigDir, 'direnv.toml'), join(this.paths.direnvConfigDir, 'config.toml'), this.paths.configFile];
  }

  markers(): string[] {
    const c = this.config;
    return markerNames(c.global.loadDotenv, c.go.auto);
  }

  /**
   * The config files' fingerprints, in every shell's state: a config edit makes each
   * shell's next request evaluate again (strict_env, eval_timeout...), not answer no-op.
   */
  private configPrints(): Fingerprint[] {
    return this.configFiles().map((f) => fingerprint(f));
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
    this.allowlist.setConfig(this.loaded.config);
    this.cache.clear();
    this.depVersion++;
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
      this.depVersion++;
    }
    return this.handlers;
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
    return this.depVersion;
  }

  /** Files and directories the cached results depend on (to watch). */
  dependencies(): string[] {
    const out = new Set<string>(this.goProvider?.watchRoots() ?? []);
    for (const list of this.probes.values()) for (const p of list) out.add(p);
    for (const e of this.cache.values()) for (const d of e.result.deps) out.add(d.p);
    return [...out];
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
    const changed = changedPaths.filter((c) => !(c === this.paths.allowlistFile && this.ownAllowlistWrite !== null && this.ownAllowlistWrite === stampOf(c)));
    if (changed.length === 0) return false;
    // A Go SDK appeared or went away under one of the discovery roots: look again.
    const roots = this.goProvider?.watchRoots() ?? [];
    if (changed.some((c) => roots.some((r) => c === r || c.startsWith(r + '/')))) this.goProvider?.refresh();
    const hit = (d: Fingerprint): boolean => changed.some((c) => d.p === c || c.startsWith(d.p + '/') || d.p.startsWith(c + '/'));
    for (const [key, entry] of [...this.cache]) {
      if (!entry.result.deps.some(hit)) continue;
      this.cache.delete(key);
      this.depVersion++;
      if (stillValid(entry.result.deps.slice(0, 1))) {
        // The env file itself is unchanged, so its approval holds: refresh the result.
        // Nobody waits for this refresh: a failure must not become an unhandled
        // rejection (which ends the daemon). It leaves no entry; the next request
        // evaluates and reports.
        this.startEval(key, entry.rerun).catch(() => undefined);
      }
    }
    this.notify();
    return true;
  }

  // ---- export -------------------------------------------------------------------------

  /**
   * Where shell records beyond direnv's format are kept (shell-state.ts): in memory, and in
   * the cache for the next process (a one-shot CLI, a restarted daemon, `envd current`).
   */
  private records(): { allowlistFile: string; recordDir: string } {
    return { allowlistFile: this.paths.allowlistFile, recordDir: recordDirOf(this.paths) };
  }

  /** Load what the current config needs before answering. */
  private async prepare(config: Config): Promise<void> {
    if (config.go.auto && this.goAuto === null) this.goAuto = await import('../go/auto.js');
  }

  async export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    return this.withDeps(req.env, await this.answer(req, opts));
  }

  private async answer(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    this.refreshConfig();
    const config = this.config;
    await this.prepare(config);
    const home = this.paths.home;
    // Paths are bytes: a directory whose name is not UTF-8 is refused, never looked up
    // under a look-alike name (RELIABILITY 30).
    assertUtf8Path('the current directory', req.cwd);
    const current = req.env;
    const state = readShellState(current, this.records());
    const base = withoutState(state.diff !== null ? revert(current, state.diff) : current);
    const cwd = req.cwd;
    const messages: string[] = [];
    for (const w of this.loaded.warnings) messages.push(w);

    const found = this.findTarget(cwd, config);
    this.recordProbes(cwd, found, config);
    if (found === null) {
      if (state.file === null && state.diff === null) return { kind: 'noop', change: emptyChange(), messages, file: null };
      if (state.dir !== null) messages.push(this.fmt('unloading'));
      return { kind: 'unloaded', change: changeBetween(current, base, touched(state, null)), messages, file: null };
    }

    let target: Target;
    let verdict: TrustVerdict;
    try {
      target = this.readTarget(found);
      verdict = this.verdictFor(target);
    } catch (err) {
      // Unreadable or unsafe: leave the previous directory, say why, and remember the file.
      return this.settle(current, base, state, found, 'failed', [fingerprint(found.path)], [...messages, this.fmt(errorMessage(err).replace(/^envd: /, ''))]);
    }

    const trusted = verdict.kind === 'allowed' || verdict.kind === 'whitelisted';

    // Nothing changed since the shell's last answer: same file, same dependencies, same trust.
    if (state.file === found.path && stateStillValid(state)) {
      if ((state.status === 'loaded' || state.status === 'failed') && trusted) {
        return { kind: 'noop', change: emptyChange(), messages, file: found.path };
      }
      if (state.status === 'blocked' && !trusted) {
        return { kind: 'noop', change: emptyChange(), messages, file: found.path };
      }
    }

    if (!trusted) {
      const msg = verdict.kind === 'store-error'
        ? verdict.message
        : `${tildePath(found.path, home)} is blocked. Run 'envd allow' to approve its content`;
      return this.settle(current, base, state, found, verdict.kind === 'denied' ? 'denied' : 'blocked', [fingerprint(target.realFile)], [...messages, this.fmt(msg.replace(/^envd: /, ''))]);
    }

    // A recorded sourced file changed: blocked before anything runs.
    const sourcedApproved = verdict.kind === 'allowed' ? verdict.sourced : null;
    if (sourcedApproved !== null && config.trust.sourcedFiles === 'strict') {
      const p = this.changedSourced(sourcedApproved);
      if (p !== null) {
        const msg = `${tildePath(found.path, home)} is blocked: ${tildePath(p, home)} changed since the approval. Run 'envd allow' to approve its content`;
        return this.settle(current, base, state, found, 'blocked', [fingerprint(target.realFile), fingerprint(p)], [...messages, this.fmt(msg)]);
      }
    }

    const key = this.cacheKey(target, base);
    // Entering (this shell had not loaded this file): the file runs, as direnv runs it on
    // every entry, so `$(git branch)` or `$(date)` are fresh. A cached result only stands
    // in when the fresh run takes longer than the budget.
    const entering = opts.fresh === true && (state.file !== found.path || state.status !== 'loaded');
    let result = entering ? null : this.cachedResult(key);
    let stale = false;
    let evaluated = false;
    if (result === null) {
      const last = entering ? this.cachedResult(key) : null;
      const run = this.makeRun(target, base, verdict, opts.budgetMs === Infinity);
      const pending = entering ? this.startFresh(key, run) : this.startEval(key, run);
      result = await withBudget(pending, opts.budgetMs);
      evaluated = result !== null;
      if (result === null && last !== null) {
        messages.push(this.fmt(`${tildePath(found.path, home)} is still running; the last result applies meanwhile, the fresh one at the next prompt after it finishes`));
        result = last;
        stale = true;
      } else if (result === null) {
        messages.push(this.fmt(`loading ${tildePath(found.path, home)} (still running; applied at a prompt after it finishes)`));
        return { kind: 'pending', change: emptyChange(), messages, file: found.path };
      }
    }
    const outcome = this.applyResult(current, base, state, found, result, messages, stale);
    return evaluated ? { ...outcome, evaluated } : outcome;
  }

  /**
   * The files a hook compares with its stamp at every prompt (builtin `-nt`), so an edit
   * made by the previous command is seen at the next prompt whatever the watcher is doing:
   * those in the shell's new state, plus the allowlist and config files (allow, deny and
   * config edits).
   */
  private withDeps(current: Env, o: ExportOutcome): ExportOutcome {
    if (o.kind === 'pending' || o.kind === 'unloaded' || o.file === null) return o;
    const after = copyNameMap(current);
    for (const n of o.change.unset) delete after[n];
    for (const [n, v] of Object.entries(o.change.set)) after[n] = v;
    const st = readShellState(after);
    const mine = st.file === o.file;
    // The paths themselves come from DIRENV_WATCHES (whatever the record says about them:
    // an ambiguous record has no exact list), and the env file always.
    const out = new Set<string>([o.file, ...(mine ? watchedPaths(current, o.change) : [])]);
    // A watch_dir tree: its entries too (bounded: past that, the watcher and the request's
    // tree signature still notice; the hook stats each of these at every prompt).
    let room = MAX_HOOK_TREE_PATHS;
    for (const w of mine ? st.exact ?? st.candidates.at(-1) ?? [] : []) {
      if (w.d !== 1 || room <= 0) continue;
      const paths = treePaths(w.p, room);
      room -= paths.length;
      for (const p of paths) out.add(p);
    }
    out.add(this.paths.allowlistFile);
    for (const f of this.configFiles()) out.add(f);
    return { ...o, deps: [...out] };
  }

  /**
   * Start an evaluation that is not joined to one already running (which may have begun
   * before what the caller wants fresh); its result replaces the cached one.
   */
  private startFresh(key: string, run: () => Promise<EvalResult>): Promise<EvalResult> {
    const running = this.inflight.get(key);
    if (running === undefined) return this.startEval(key, run);
    const p = running.catch(() => undefined).then(() => this.startEval(key, run));
    return p;
  }

  /**
   * A recorded sourced file whose content changed (and is not approved itself), or null.
   * Gone is a state the approved file allows for (source_env_if_exists): it runs without
   * it. Brought back with other content, it is blocked again.
   */
  private changedSourced(sourced: Record<string, string> | null): string | null {
    for (const [p, h] of Object.entries(sourced ?? {})) {
      let now: string | null = null;
      try {
        now = contentHash(p, readRegularFile(p, MAX_ENV_FILE_BYTES).bytes);
      } catch (err) {
        if (err instanceof SafeReadError && err.reason === 'NOT_FOUND') continue;
        now = null;
      }
      if (now !== h && !this.isApproved(p, now)) return p;
    }
    return null;
  }

  private isApproved(realPath: string, hash: string | null): boolean {
    if (hash === null) return false;
    const v = this.allowlist.check(realPath, hash);
    return v.kind === 'allowed' || v.kind === 'whitelisted';
  }

  /**
   * A new .envrc (or .env) created between cwd and the file that applies now would change
   * the answer: name those paths as dependencies so the daemon watches for them (direnv
   * notices such a file at the next prompt; so does envd).
   */
  private recordProbes(cwd: string, found: FoundFile | null, config: Config): void {
    if (this.probes.has(cwd)) {
      const list = this.probes.get(cwd) ?? [];
      this.probes.delete(cwd);
      this.probes.set(cwd, list);
      return;
    }
    const names = markerNames(config.global.loadDotenv, false);
    const list: string[] = [];
    let dir = cwd;
    // Not `/` itself: nobody keeps an .envrc there, and chokidar misreports nested watches
    // that include the root.
    for (let depth = 0; depth < 16 && dir !== '/'; depth++) {
      if (found !== null && dir === found.dir) break;
      for (const n of names) list.push(join(dir, n));
      const up = resolve(dir, '..');
      if (up === dir) break;
      dir = up;
    }
    this.probes.set(cwd, list);
    this.depVersion++;
    while (this.probes.size > 64) {
      const oldest = this.probes.keys().next().value;
      if (oldest === undefined) break;
      this.probes.delete(oldest);
    }
  }

  /** The env file that applies in cwd, or a `[go] auto` pin when no env file is nearer. */
  private findTarget(cwd: string, config: Config): FoundFile | null {
    const found = findEnvFile(cwd, config.global.loadDotenv);
    const auto = config.go.auto && this.goAuto !== null ? this.goAuto.autoGoEnvrc(cwd, config) : null;
    if (auto !== null && (found === null || auto.dir.length > found.dir.length)) {
      return { path: goAutoMarker(auto.dir), dir: auto.dir, kind: 'go-auto' };
    }
    return found;
  }

  /**
   * Read the env file once (never blocking, never past the size cap: it may be anyone's
   * file in a parent directory) and hash the bytes that will run. Throws EnvdError.
   */
  private readTarget(found: FoundFile): Target {
    const realFile = placeOf(found.path);
    if (found.kind === 'go-auto') {
      const content = Buffer.from(this.goAuto?.AUTO_GO_CONTENT ?? 'use go\n');
      return { found, realFile, content, hash: contentHash(realFile, content), script: content, stat: null };
    }
    const { bytes: content, stat } = readRegularFile(realFile, MAX_ENV_FILE_BYTES);
    const hash = contentHash(realFile, content);
    if (content.includes(0)) throw new EnvdError('FILE_UNSAFE', `${tildePath(found.path, this.paths.home)} contains a NUL byte; it is not a shell script`);
    if (content.length > MAX_VALUE_BYTES - 1024) throw new EnvdError('FILE_UNSAFE', `${tildePath(found.path, this.paths.home)} is over ${MAX_VALUE_BYTES / 1024 - 1} KiB; split it with source_env`);
    // A .env file is loaded by the stdlib's dotenv, which is handed these same bytes.
    const script = found.kind === 'dotenv' ? Buffer.from(`dotenv ${shellSingleQuote(found.path)}\n`) : content;
    return { found, realFile, content, hash, script, stat };
  }

  /**
   * The allowlist's verdict on what was read, after the file's owner and mode are judged
   * (on the descriptor the bytes came from). A whitelisted file is trusted whatever it
   * says, so it is judged more strictly (see judgeFile). Throws EnvdError('FILE_UNSAFE').
   */
  private verdictFor(t: Target): TrustVerdict {
    // A Go pin with no env file runs no user code: it only selects among installed SDKs.
    if (t.found.kind === 'go-auto' || t.stat === null) return { kind: 'whitelisted' };
    const verdict = this.allowlist.check(t.realFile, t.hash);
    const safety = judgeFile(t.found.path, t.stat, verdict.kind === 'whitelisted' ? 'none' : 'content');
    if (!safety.ok) throw new EnvdError('FILE_UNSAFE', safety.message);
    return verdict;
  }

  private cacheKey(t: Target, base: Env): string {
    const h = createHash('sha256');
    // The directory as found too: the evaluation runs there (PATH_add bin gives that
    // spelling of it), so a result belongs to it.
    h.update(`${t.found.dir}\0${t.realFile}\0${t.hash}\0${t.found.kind}\0`);
    for (const k of Object.keys(base).sort()) {
      if (VOLATILE.has(k)) continue;
      h.update(`${k}\0${base[k] ?? ''}\0`);
    }
    return h.digest('hex');
  }

  private cachedResult(key: string): EvalResult | null {
    const e = this.cache.get(key);
    if (e === undefined) return null;
    if (!stillValid(e.result.deps)) {
      this.cache.delete(key);
      this.depVersion++;
      return null;
    }
    // Keep recently used entries last (Map order) for eviction.
    this.cache.delete(key);
    this.cache.set(key, e);
    return e.result;
  }

  private makeRun(t: Target, requestBase: Env, verdict: TrustVerdict, interactive: boolean): () => Promise<EvalResult> {
    const whitelisted = verdict.kind === 'whitelisted';
    // Cached reruns keep their starting environment; shells of one user mostly share it.
    const base = this.internBase(requestBase);
    return async () => {
      const config = this.config;
      const fresh = this.allowlist.check(t.realFile, t.hash);
      const sourcedApproved = fresh.kind === 'allowed' ? fresh.sourced : null;
      const result = await evaluateFile({
        file: t.found.path,
        realFile: t.realFile,
        dir: t.found.dir,
        script: t.script,
        fileContent: t.content,
        hash: t.hash,
        base: { ...base },
        sourcedApproved,
        trustAllSourced: whitelisted || config.trust.sourcedFiles === 'follow',
        isApproved: (p, h) => this.isApproved(p, h),
        config,
        paths: this.paths,
        handlers: await this.allHandlers(),
        ...(interactive ? { onSlow: () => process.stderr.write(`envd: ${tildePath(t.found.path, this.paths.home)} is taking a while to execute. Use CTRL-C to give up.\n`) } : {}),
      });
      // First evaluation after an approval: what it sourced is approved along with it.
      if (result.kind === 'loaded' && fresh.kind === 'allowed' && fresh.sourced === null) {
        this.deferWrite(() => this.allowlist.recordSourced(t.realFile, t.hash, result.sourced));
      }
      return compactResult(result, base);
    };
  }

  /**
   * One shared copy of each distinct starting environment (without what differs between
   * terminals), so 500 cached projects of one user do not hold 500 copies of it.
   */
  private internBase(base: Env): Env {
    const stable: Env = newNameMap();
    for (const k of Object.keys(base).sort()) if (!VOLATILE.has(k)) stable[k] = base[k] ?? '';
    const key = createHash('sha256').update(JSON.stringify(stable)).digest('hex');
    const known = this.bases.get(key);
    if (known !== undefined) return known;
    if (this.bases.size >= MAX_CACHE) this.bases.clear();
    this.bases.set(key, stable);
    return stable;
  }

  /**
   * Bookkeeping writes to the allowlist (signing, fsync under a lock: milliseconds) happen
   * after the answer has gone out, not on the prompt's path; close() waits for them.
   */
  private deferWrite(write: () => void): void {
    const p = new Promise<void>((resolveWrite) => {
      setImmediate(() => {
        // The lock is waited for without blocking: a daemon serves every shell meanwhile.
        this.underLock(() => {
          write();
          this.ownAllowlistWrite = stampOf(this.paths.allowlistFile);
        }).catch(() => { /* reported by status */ }).finally(resolveWrite);
      });
    });
    this.pendingWrites.add(p);
    void p.then(() => this.pendingWrites.delete(p));
  }

  /** Start (or join) an evaluation; its result lands in the cache. */
  private startEval(key: string, run: () => Promise<EvalResult>): Promise<EvalResult> {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return existing;
    const p = run().then((result) => {
      this.inflight.delete(key);
      if (result.kind !== 'blocked') {
        this.cache.set(key, { result, rerun: run });
        this.depVersion++;
        while (this.cache.size > MAX_CACHE) {
          const oldest = this.cache.keys().next().value;
          if (oldest === undefined) break;
          this.cache.delete(oldest);
        }
      }
      this.notify();
      return result;
    }, (err: unknown) => {
      this.inflight.delete(key);
      throw err;
    });
    this.inflight.set(key, p);
    return p;
  }

  private applyResult(current: Env, base: Env, state: ShellState, found: FoundFile, r: EvalResult, messages: string[], stale = false): ExportOutcome {
    const home = this.paths.home;
    const loadingLine = this.fmt(`loading ${tildePath(found.path, home)}`);
    if (r.kind !== 'loaded' || r.delta === undefined) {
      return this.settle(current, base, state, found, r.kind === 'blocked' ? 'blocked' : 'failed', r.deps, [...messages, loadingLine, ...r.output, this.fmt(r.detail)]);
    }
    // The file's changes on top of this shell's own starting environment (a cached result
    // may come from another shell: PWD, OLDPWD, SHLVL… stay this shell's).
    const env: Env = copyNameMap(base);
    for (const [n, v] of Object.entries(r.delta)) {
      if (v === null) delete env[n]; else env[n] = v;
    }
    const diff = diffBetween(base, env);
    // A stand-in for a fresh run still going carries a fingerprint that matches nothing, so
    // the shell's next request (at the generation bump the fresh result brings) is not a no-op.
    const watches = [...r.deps, ...this.configPrints(), ...(stale ? [{ p: found.path, m: -2, s: -1 }] : [])];
    const target: Env = copyNameMap(env, stateVars({ dir: found.dir, file: found.path, diff, status: 'loaded', watches, asOf: state.readAt, ...this.records() }));
    const change = changeBetween(current, target, touched(state, diff));
    if (change.unset.length === 0 && Object.keys(change.set).length === 0) {
      return { kind: 'noop', change, messages, file: found.path };
    }
    const out = [...messages, loadingLine, ...r.output];
    if (!this.config.global.hideEnvDiff) {
      const summary = summarize(diff, (n) => n.startsWith('DIRENV_') || n.startsWith('ENVD_'));
      if (summary !== '') out.push(this.fmt(`export ${summary}`));
    }
    return { kind: 'loaded', change, messages: out, file: found.path };
  }

  /**
   * Blocked, denied or failed: leave whatever was loaded (restore the base), and record the
   * file and its fingerprints so the shell is not told again until something changes.
   */
  private settle(current: Env, base: Env, state: ShellState, found: FoundFile, kind: 'blocked' | 'denied' | 'failed', deps: Fingerprint[], messages: string[]): ExportOutcome {
    const status: LoadStatus = kind === 'failed' ? 'failed' : 'blocked';
    // As direnv: the directory is recorded with an empty diff, so the file is neither run
    // nor reported again until something it depends on changes (config edits included). A
    // blocked record also watches the allowlist (as direnv's watches its allow file): an
    // approval is a change.
    const all = [...deps, ...this.configPrints()];
    const watches = status === 'blocked' ? [...all, fingerprint(this.paths.allowlistFile)] : all;
    const target: Env = copyNameMap(base, stateVars({ dir: found.dir, file: found.path, diff: null, status, watches, asOf: state.readAt, ...this.records() }));
    const out = [...messages];
    // Still blocked, and only the allowlist moved (another file's approval): said already.
    if (status === 'blocked' && state.status === 'blocked' && state.file === found.path && stillValidExcept(state, this.paths.allowlistFile)) out.pop();
    // The last line says what went wrong: red on a terminal, as direnv shows its errors.
    const last = out.pop();
    if (last !== undefined) out.push(red(last));
    if (state.dir !== null) out.unshift(this.fmt('unloading'));
    return { kind, change: changeBetween(current, target, touched(state, null)), messages: out, file: found.path };
  }

  /** A message line in direnv's shape, honouring `log_format`. */
  private fmt(text: string): string {
    const f = this.loaded.config.global.logFormat;
    if (f !== null) return f.includes('%s') ? f.replace('%s', text) : f;
    return `envd: ${text}`;
  }

  // ---- trust --------------------------------------------------------------------------

  /** PATH (file or directory, relative to cwd) to the env file it means. */
  private resolveTrustPath(path: string, cwd: string): string {
    assertUtf8Path('the current directory', cwd);
    assertUtf8Path('the path', path);
    const p = path === '' ? cwd : isAbsolute(path) ? path : resolve(cwd, path);
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new EnvdError('NOT_FOUND', `${tildePath(p, this.paths.home)} does not exist`);
    }
    if (st.isDirectory()) {
      const found = path === '' ? findEnvFile(p, true) : findEnvFile(p, true);
      if (found === null || (path !== '' && found.dir !== p)) {
        throw new EnvdError('NOT_FOUND', `no .envrc or .env in ${tildePath(p, this.paths.home)} or above it; create one first`);
      }
      return found.path;
    }
    return p;
  }

  async allow(path: string, cwd: string): Promise<TrustChange> {
    const file = this.resolveTrustPath(path, cwd);
    const real = placeOf(file);
    const { bytes, stat } = readRegularFile(real, MAX_ENV_FILE_BYTES);
    const safety = judgeFile(file, stat, 'content');
    if (!safety.ok) throw new EnvdError('FILE_UNSAFE', safety.message);
    const hash = contentHash(real, bytes);
    const report = await this.underLock(() => this.allowlist.allow(real, hash));
    return { file: real, message: report.notices.map((n) => `envd: ${n}`).join('\n') };
  }

  async deny(path: string, cwd: string): Promise<TrustChange> {
    const file = this.resolveTrustPath(path, cwd);
    const real = placeOf(file);
    const report = await this.underLock(() => this.allowlist.deny(real));
    return { file: real, message: report.notices.map((n) => `envd: ${n}`).join('\n') };
  }

  async prune(): Promise<number> {
    return this.underLock(() => this.allowlist.prune());
  }

  /** Run an allowlist write holding its lock, taken without blocking the event loop. */
  private underLock<T>(fn: () => T): Promise<T> {
    return withLockAsync(lockPathFor(this.paths.allowlistFile), fn);
  }

  async status(req: ExportRequest): Promise<StatusInfo> {
    this.refreshConfig();
    const config = this.config;
    await this.prepare(config);
    assertUtf8Path('the current directory', req.cwd);
    const state = readShellState(req.env, this.records());
    const found = this.findTarget(req.cwd, config);
    let trust = 'none';
    let trustDetail = 'no .envrc here or above';
    if (found !== null) {
      try {
        const v = this.verdictFor(this.readTarget(found));
        // The same rule the export applies: a recorded sourced file that changed blocks it.
        const stale = v.kind === 'allowed' && config.trust.sourcedFiles === 'strict' ? this.changedSourced(v.sourced) : null;
        trust = v.kind === 'unknown' || stale !== null ? 'blocked' : v.kind;
        trustDetail = stale !== null ? `${tildePath(stale, this.paths.home)} changed since the approval: run 'envd allow'`
          : v.kind === 'allowed' ? 'approved with this exact content'
          : v.kind === 'whitelisted' ? (found.kind === 'go-auto' ? 'a Go version pin under [go] auto = true: it runs no code' : 'trusted by [whitelist] in the config')
            : v.kind === 'denied' ? "denied with 'envd deny'"
              : v.kind === 'store-error' ? v.message
                : "not approved (new or changed): run 'envd allow'";
      } catch (err) {
        trust = 'blocked';
        trustDetail = errorMessage(err);
      }
    }
    const changed = state.diff === null ? [] : Object.keys(state.diff.next).filter((n) => !n.startsWith('DIRENV_'));
    return {
      cwd: req.cwd,
      found: found?.path ?? null,
      foundKind: found?.kind ?? null,
      trust,
      trustDetail,
      loadedDir: state.dir,
      loadedFile: state.file,
      changed,
      daemon: { running: false, pid: null, version: null },
      configFiles: this.loaded.files,
      configWarnings: this.loaded.warnings,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
    await Promise.allSettled([...this.pendingWrites]);
  }

  version(): string {
    return envdVersion();
  }
}

/**
 * The only names whose value can differ between the shell's environment and an answer:
 * what the old state changed (reverted), what the new diff changes, and the state itself.
 */
function touched(state: ShellState, diff: EnvDiff | null): Set<string> {
  const names = new Set<string>(STATE_NAMES);
  for (const n of Object.keys(state.diff?.next ?? {})) names.add(n);
  for (const n of Object.keys(diff?.next ?? {})) names.add(n);
  return names;
}

/** Keep only what the evaluation changed (volatile names never count): small to cache. */
function compactResult(r: EvalResult, base: Env): EvalResult {
  if (r.env === null) return r;
  const delta = newNameMap<string | null>();
  const d = diffBetween(base, r.env, (n) => !VOLATILE.has(n));
  for (const [n, v] of Object.entries(d.next)) delta[n] = v;
  return { ...r, env: null, delta };
}

/** A file's identity and times, to recognise a version of it this process wrote. */
function stampOf(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? null : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** Resolve within the budget, or null (the evaluation goes on). */
function withBudget<T>(p: Promise<T>, budgetMs: number): Promise<T | null> {
  if (budgetMs === Infinity) return p;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => resolvePromise(null), budgetMs);
    p.then((v) => { clearTimeout(timer); resolvePromise(v); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

function shellSingleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export type { EnvDiff };
