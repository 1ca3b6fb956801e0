import { isDirectory } from '../util/fs.js';
import { basename, dirname, join, resolve } from 'node:path';
import { FSWatcher } from 'chokidar';
import type { WatcherState } from '../protocol/messages.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import type { DaemonLogger } from './log.js';
import { ResolvedPaths } from './watch-paths.js';

export interface WatcherOptions {
  log: DaemonLogger;
  /** Called (debounced) with the dependency paths that changed. */
  onChange: (paths: string[]) => void;
  /** Off: nothing is watched; the engine's content check on each request is what notices edits. */
  enabled: boolean;
  debounceMs?: number;
  /** At most this many directories are watched; the least recently active go first. */
  maxDirs?: number;
  /** A directory no request has come near for this long is unwatched until one does. */
  idleMs?: number;
  /**
   * Env file names (`.envrc`, `.env`) that matter in every watched directory even when no
   * result lists them: a symlinked .envrc is a dependency through its target, but
   * retargeting the link changes which file applies.
   */
  markers?: () => readonly string[];
  /**
   * Directories that still have dependencies stopped being watched (idle, or over the
   * bound). Shells do not ask at an idle prompt unless the generation moves, so the
   * daemon bumps it: every shell asks once, and a shell still in such a project wakes
   * its directories again (`touch`), while the request's own stat check covers the gap.
   */
  onUnwatched?: (dirs: string[]) => void;
  /** The watcher started failing: edits may now go unseen until a request checks. */
  onDegraded?: () => void;
  /**
   * Watching works again: every watch was set up afresh without an error. Edits made while
   * it was degraded are caught by each request's own check, so shells should ask once.
   */
  onRecovered?: () => void;
  /** While degraded, set every watch up afresh this often (default 60 s). */
  retryMs?: number;
}

interface DirInfo {
  lastActive: number;
  /** Config and allowlist directories never idle out. */
  pinned: boolean;
}

/**
 * Watches what evaluated environments depend on. Each file is watched through its parent
 * directory at depth 0, so atomic saves (write temp + rename), `sed -i`, `mv tmp .envrc`,
 * `git checkout` and symlink retargets all show up as an event on the name; every other
 * entry of that directory is ignored so a big project directory costs one watch, not one
 * per file. Events are hints: correctness rests on the engine's check of each request, so
 * a watcher that fails (ENOSPC, EMFILE) is logged and the daemon keeps serving.
 */
export class DependencyWatcher {
  /** One chokidar instance per batch of added directories, so each batch reports 'ready'. */
  private readonly batches = new Map<FSWatcher, { dirs: Set<string>; ready: boolean }>();
  private readonly owner = new Map<string, FSWatcher>();
  private readonly deps = new Set<string>();
  private readonly pinnedDeps = new Set<string>();
  /** Dependencies that are directories (watch_dir): any entry in them counts. */
  private readonly depDirs = new Set<string>();
  private readonly known = new Map<string, DirInfo>();
  private readonly watching = new Set<string>();
  private readonly idle = new Set<string>();
  /** Real paths and kinds of the dependencies, kept until a change is seen on them. */
  private readonly resolved = new ResolvedPaths();
  private pendingPaths = new Set<string>();
  private debounce: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private failures = new Set<string>();
  private degraded = false;
  private retry: NodeJS.Timeout | null = null;
  /** A re-arm attempt's batch, until it is ready. */
  private rearmBatch: FSWatcher | null = null;
  /** An error was reported since the last re-arm attempt began. */
  private rearmFailed = false;
  private closed = false;
  private readonly retryMs: number;
  private readonly debounceMs: number;
  private readonly maxDirs: number;
  private readonly idleMs: number;

  constructor(private readonly opts: WatcherOptions) {
    this.debounceMs = opts.debounceMs ?? 40;
    this.maxDirs = opts.maxDirs ?? 2048;
    this.idleMs = opts.idleMs ?? 60 * 60 * 1000;
    this.retryMs = opts.retryMs ?? 60_000;
  }

  get state(): WatcherState {
    if (!this.opts.enabled) return 'off';
    return this.degraded ? 'degraded' : 'on';
  }

  /**
   * Dependency paths (config and allowlist files aside) covered by a directory watch that
   * is established, not just requested. A dependency in a pinned directory (envd's own
   * Go SDKs live beside the allowlist) is watched whatever the shells do: not counted.
   */
  get count(): number {
    const live = this.liveDirs();
    let n = 0;
    for (const d of this.deps) {
      if (this.pinnedDeps.has(d) || this.known.get(dirname(d))?.pinned === true) continue;
      if (live.has(dirname(d)) || live.has(d)) n++;
    }
    return n;
  }

  /** Directories requested but not established yet. */
  get pending(): number {
    const live = this.liveDirs();
    let n = 0;
    for (const d of this.watching) if (!live.has(d)) n++;
    return n;
  }

  private liveDirs(): Set<string> {
    const live = new Set<string>();
    for (const b of this.batches.values()) if (b.ready) for (const d of b.dirs) live.add(d);
    return live;
  }

  /** Dependency paths resolved from disk so far (watch-paths.ts; tests read it). */
  get resolvedLookups(): number {
    return this.resolved.lookups;
  }

  get dirCount(): number {
    return this.watching.size;
  }

  /**
   * Make the watched set match these dependencies (plus `pinned` ones, which never idle
   * out). Called after every request and every background evaluation; cheap when nothing
   * changed.
   */
  sync(dependencies: readonly string[], pinned: readonly string[]): void {
    if (!this.opts.enabled) return;
    const now = Date.now();
    const wantDeps = new Set<string>();
    const asked = new Set<string>();
    const addDep = (p: string): void => {
      const abs = resolve(p);
      wantDeps.add(abs);
      asked.add(abs);
      const real = this.resolved.get(abs).real;
      if (real !== null && real !== abs) wantDeps.add(real);
    };
    for (const p of dependencies) addDep(p);
    this.pinnedDeps.clear();
    for (const p of pinned) {
      addDep(p);
      this.pinnedDeps.add(resolve(p));
    }
    const pinnedDirs = new Set<string>();
    for (const p of pinned) pinnedDirs.add(dirname(resolve(p)));

    this.deps.clear();
    this.depDirs.clear();
    const wantDirs = new Set<string>();
    for (const p of wantDeps) {
      this.deps.add(p);
      wantDirs.add(dirname(p));
      asked.add(p);
      if (this.resolved.get(p).dir) {
        this.depDirs.add(p);
        wantDirs.add(p);
      }
    }
    this.resolved.keepOnly(asked);
    for (const d of wantDirs) {
      const info = this.known.get(d);
      if (info === undefined) this.known.set(d, { lastActive: now, pinned: pinnedDirs.has(d) });
      else info.pinned = pinnedDirs.has(d);
    }
    for (const d of [...this.known.keys()]) {
      if (!wantDirs.has(d)) {
        this.known.delete(d);
        this.idle.delete(d);
      }
    }
    this.reconcile(now);
  }

  /**
   * A request from `cwd`, answered with an environment that depends on `deps`: the
   * directories on cwd's path and those of the dependencies are active again. A project's
   * sourced files in subdirectories or elsewhere stay watched as long as shells use it.
   */
  touch(cwd: string, deps: readonly string[] = []): void {
    if (!this.opts.enabled) return;
    const now = Date.now();
    let woke = false;
    const mark = (d: string): void => {
      const info = this.known.get(d);
      if (info === undefined) return;
      info.lastActive = now;
      if (this.idle.delete(d)) woke = true;
    };
    // cwd and each of its parents: O(depth) on every request, whatever the number watched.
    for (let d = resolve(cwd); ; d = dirname(d)) {
      mark(d);
      if (dirname(d) === d) break;
    }
    for (const p of deps) {
      mark(dirname(p));
      mark(p);
    }
    if (woke) this.reconcile(now);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.debounce !== null) clearTimeout(this.debounce);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    if (this.retry !== null) clearTimeout(this.retry);
    this.debounce = null;
    this.sweeper = null;
    this.retry = null;
    await this.dropAllWatches();
  }

  private async dropAllWatches(): Promise<void> {
    const all = [...this.batches.keys()];
    this.batches.clear();
    this.owner.clear();
    this.watching.clear();
    await Promise.allSettled(all.map((w) => w.close()));
  }

  /** Report a watcher failure: logged once per kind, state becomes degraded, nothing stops. */
  reportError(err: unknown): void {
    this.rearmFailed = true;
    if (!this.degraded) {
      this.degraded = true;
      this.opts.onDegraded?.();
    }
    this.scheduleRetry();
    const code = errnoCode(err) ?? 'ERROR';
    if (this.failures.has(code)) return;
    this.failures.add(code);
    const hint = code === 'ENOSPC'
      ? ' (inotify watch limit: raise fs.inotify.max_user_watches)'
      : code === 'EMFILE' ? ' (too many open files: raise ulimit -n)' : '';
    this.opts.log.warn({ code }, `file watcher error${hint}: ${errorMessage(err)}; edits are still noticed at the next request`);
  }

  /**
   * The limit that failed (inotify watches, open files) may have been raised, or other
   * programs may have let go of watches: try again later, from scratch, so no half-made
   * watch is trusted. Until an attempt has set every watch up without an error, the
   * daemon stays degraded (hooks keep asking at every prompt).
   */
  private scheduleRetry(): void {
    if (this.retry !== null || this.closed || !this.opts.enabled) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.rearm();
    }, this.retryMs);
    this.retry.unref();
  }

  private async rearm(): Promise<void> {
    if (this.closed || !this.degraded) return;
    await this.dropAllWatches();
    if (this.closed) return;
    // Changes may have gone unseen while degraded: resolve every path afresh at the next sync.
    this.resolved.clear();
    this.rearmFailed = false;
    this.rearmBatch = null;
    this.opts.log.info({ dirs: this.known.size }, 'file watcher: setting up every watch again');
    // reconcile() adds every wanted directory as one batch (none are watched now); that
    // batch's 'ready' decides.
    this.reconcile(Date.now());
    const fresh = [...this.batches.keys()][0];
    if (fresh === undefined) {
      // Nothing to watch, or the batch could not even be created (an error was reported).
      if (this.rearmFailed) this.scheduleRetry();
      else this.recovered();
      return;
    }
    this.rearmBatch = fresh;
  }

  private recovered(): void {
    this.degraded = false;
    this.failures.clear();
    this.opts.log.info({ dirs: this.watching.size }, 'file watcher recovered; shells will ask once');
    this.opts.onRecovered?.();
  }

  private rearmReady(w: FSWatcher): void {
    if (w !== this.rearmBatch) return;
    this.rearmBatch = null;
    if (this.closed) return;
    if (this.rearmFailed) this.scheduleRetry();
    else this.recovered();
  }

  private reconcile(now: number): void {
    // Choose: pinned first, then most recently active, skipping idle ones and missing dirs.
    const candidates = [...this.known.entries()]
      .filter(([d, info]) => info.pinned || (!this.idle.has(d) && now - info.lastActive < this.idleMs))
      .sort((a, b) => Number(b[1].pinned) - Number(a[1].pinned) || b[1].lastActive - a[1].lastActive);
    const want = new Set<string>();
    for (const [d, info] of candidates) {
      if (want.size >= this.maxDirs) break;
      if (!info.pinned && now - info.lastActive >= this.idleMs) continue;
      want.add(d);
    }
    for (const [d, info] of this.known) {
      if (!info.pinned && now - info.lastActive >= this.idleMs) this.idle.add(d);
    }
    // Never `/`: with it in a batch, chokidar (5.0) stops reporting events of nested
    // watched directories; nothing envd needs lives directly in `/`.
    const add = [...want].filter((d) => d !== '/' && !this.watching.has(d) && isDirectory(d));
    const remove = [...this.watching].filter((d) => !want.has(d));
    if (add.length === 0 && remove.length === 0) return;
    for (const d of remove) {
      this.watching.delete(d);
      const w = this.owner.get(d);
      this.owner.delete(d);
      const batch = w === undefined ? undefined : this.batches.get(w);
      if (w === undefined || batch === undefined) continue;
      batch.dirs.delete(d);
      if (batch.dirs.size === 0) {
        this.batches.delete(w);
        w.close().catch((err: unknown) => this.reportError(err));
      } else {
        // chokidar (5.0) keeps a separate watch on each entry it reported in `d` (the
        // .envrc, a sourced file): unwatching the directory alone leaves those live.
        const entries = (w.getWatched()[d] ?? []).map((name) => join(d, name)).filter((p) => !batch.dirs.has(p));
        w.unwatch([d, ...entries]);
      }
    }
    // Directories that still matter but lost their watch: shells must hear about it.
    const dropped = remove.filter((d) => this.known.has(d));
    if (dropped.length > 0) this.opts.onUnwatched?.(dropped);
    if (add.length > 0) {
      for (const d of add) this.watching.add(d);
      const w = this.newBatch(add);
      if (w !== null) for (const d of add) this.owner.set(d, w);
    }
    this.opts.log.debug({ added: add.length, removed: remove.length, dirs: this.watching.size }, 'watch set updated');
    this.ensureSweeper();
  }

  private newBatch(dirs: string[]): FSWatcher | null {
    try {
      const w = new FSWatcher({
        ignoreInitial: true,
        persistent: true,
        followSymlinks: false,
        ignorePermissionErrors: true,
        depth: 0,
        ignored: (p: string) => !this.interesting(p),
      });
      const batch = { dirs: new Set(dirs), ready: false };
      this.batches.set(w, batch);
      w.on('all', (event, path) => this.onEvent(event, path));
      w.on('raw', (event, path, details) => this.onRaw(event, path, details));
      w.on('error', (err) => this.reportError(err));
      w.once('ready', () => {
        batch.ready = true;
        this.rearmReady(w);
      });
      w.add(dirs);
      return w;
    } catch (err) {
      this.reportError(err);
      return null;
    }
  }

  private isMarker(p: string): boolean {
    const names = this.opts.markers?.() ?? [];
    return names.includes(basename(p)) && this.watching.has(dirname(p));
  }

  private interesting(p: string): boolean {
    // Entries of a watched dependency directory are not watched one by one (that would be
    // one inotify watch per file of, say, /usr/lib): its own watch reports them (onRaw).
    return this.watching.has(p) || this.deps.has(p) || this.isMarker(p);
  }

  /** fs.watch's own events: for a dependency directory, any entry changing counts. */
  private onRaw(event: string, name: string, details: unknown): void {
    if (typeof details !== 'object' || details === null || !('watchedPath' in details)) return;
    const dir = details.watchedPath;
    if (typeof dir !== 'string' || !this.depDirs.has(dir)) return;
    this.hit(event, name === '' ? [dir] : [dir, join(dir, name)]);
  }

  private onEvent(event: string, path: string): void {
    const hits: string[] = [];
    if (this.deps.has(path)) hits.push(path);
    if (hits.length === 0 && this.isMarker(path)) hits.push(path);
    if (hits.length === 0) return;
    this.hit(event, hits);
  }

  private hit(event: string, hits: string[]): void {
    this.opts.log.debug({ event, paths: hits }, 'watched path changed');
    for (const h of hits) this.pendingPaths.add(h);
    if (this.debounce !== null) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      const paths = [...this.pendingPaths];
      this.pendingPaths = new Set();
      const now = Date.now();
      for (const p of paths) {
        const info = this.known.get(dirname(p));
        if (info !== undefined) info.lastActive = now;
      }
      // A link among them may point elsewhere now: the next sync resolves these again.
      this.resolved.forget(paths);
      this.opts.onChange(paths);
    }, this.debounceMs);
    this.debounce.unref();
  }

  private ensureSweeper(): void {
    if (this.sweeper !== null) return;
    // Idle cleanup only: an unref'd timer, a few times per idle period.
    this.sweeper = setInterval(() => this.reconcile(Date.now()), Math.max(1000, Math.floor(this.idleMs / 4)));
    this.sweeper.unref();
  }
}

