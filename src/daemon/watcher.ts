import { basename, dirname, join, resolve } from 'node:path';
import { DirWatches } from './dir-watch.js';
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
 * directory at depth 0 (one inotify watch, dir-watch.ts), so atomic saves (write temp +
 * rename), `sed -i`, `mv tmp .envrc`, `git checkout` and symlink retargets all show up as
 * an event on the name; every other entry of that directory is ignored, so a big project
 * directory costs one watch, not one per file, and an event on another entry costs a name
 * compared. Events are hints: correctness rests on the engine's check of each request, so
 * a watcher that fails (ENOSPC, EMFILE) is logged and the daemon keeps serving.
 */
export class DependencyWatcher {
  private readonly dirs: DirWatches;
  /** Wanted but not this user's to watch (EACCES): not tried again while wanted. */
  private readonly refused = new Set<string>();
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
    this.dirs = new DirWatches({
      entry: (dir, name) => this.onEntry(dir, name),
      gone: (dir) => this.onGone(dir),
      error: (err) => this.reportError(err),
    });
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
    let n = 0;
    for (const d of this.deps) {
      if (this.pinnedDeps.has(d) || this.known.get(dirname(d))?.pinned === true) continue;
      if (this.dirs.has(dirname(d)) || this.dirs.has(d)) n++;
    }
    return n;
  }

  /** Directories wanted whose watch failed (a watch is made at once, or not at all). */
  get pending(): number {
    let n = 0;
    for (const d of this.watching) if (!this.dirs.has(d) && !this.refused.has(d)) n++;
    return n;
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

  /** Every watch is closed when this returns; a Promise for the callers that await a component. */
  close(): Promise<void> {
    this.closed = true;
    if (this.debounce !== null) clearTimeout(this.debounce);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    if (this.retry !== null) clearTimeout(this.retry);
    this.debounce = null;
    this.sweeper = null;
    this.retry = null;
    this.dropAllWatches();
    return Promise.resolve();
  }

  private dropAllWatches(): void {
    this.dirs.closeAll();
    this.watching.clear();
    this.refused.clear();
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
      this.rearm();
    }, this.retryMs);
    this.retry.unref();
  }

  private rearm(): void {
    if (this.closed || !this.degraded) return;
    this.dropAllWatches();
    // Changes may have gone unseen while degraded: resolve every path afresh at the next sync.
    this.resolved.clear();
    this.rearmFailed = false;
    this.opts.log.info({ dirs: this.known.size }, 'file watcher: setting up every watch again');
    // reconcile() adds every wanted directory (none are watched now), each watch made at
    // once or reported as failed.
    this.reconcile(Date.now());
    if (this.rearmFailed) this.scheduleRetry();
    else this.recovered();
  }

  private recovered(): void {
    this.degraded = false;
    this.failures.clear();
    this.opts.log.info({ dirs: this.watching.size }, 'file watcher recovered; shells will ask once');
    this.opts.onRecovered?.();
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
    // Never `/`: nothing envd needs lives directly in `/` (target.ts does not look there),
    // and every entry made or touched at the root would be an event to look at.
    // Not a directory (now): DirWatches.add says 'absent', and it is wanted again next time.
    const add = [...want].filter((d) => d !== '/' && !this.watching.has(d));
    const remove = [...this.watching].filter((d) => !want.has(d));
    if (add.length === 0 && remove.length === 0) return;
    for (const d of remove) {
      this.watching.delete(d);
      this.refused.delete(d);
      this.dirs.close(d);
    }
    // Directories that still matter but lost their watch: shells must hear about it.
    const dropped = remove.filter((d) => this.known.has(d));
    if (dropped.length > 0) this.opts.onUnwatched?.(dropped);
    let added = 0;
    for (const d of add) {
      const made = this.dirs.add(d);
      if (made === 'absent') continue;
      added++;
      this.watching.add(d);
      if (made === 'refused') this.refused.add(d);
    }
    if (added === 0 && remove.length === 0) return;
    this.opts.log.debug({ added, removed: remove.length, dirs: this.watching.size }, 'watch set updated');
    this.ensureSweeper();
  }

  private isMarker(p: string): boolean {
    const names = this.opts.markers?.() ?? [];
    return names.includes(basename(p)) && this.watching.has(dirname(p));
  }

  /**
   * `name` changed in the watched `dir`: a dependency or a marker file there, or any entry
   * of a dependency directory (watch_dir), counts; every other entry is nothing to envd.
   */
  private onEntry(dir: string, name: string): void {
    const path = join(dir, name);
    const hits: string[] = [];
    if (this.deps.has(path) || this.isMarker(path)) hits.push(path);
    if (this.depDirs.has(dir)) hits.push(dir, path);
    // A wanted directory that was removed, made again (a fresh clone in its place): watched
    // now rather than at the next sync, and what it already holds counts as changed (it
    // may have been written before the watch was there).
    if (this.known.has(path) && !this.watching.has(path)) {
      this.reconcile(Date.now());
      if (this.watching.has(path)) hits.push(...this.inside(path));
    }
    if (hits.length > 0) this.hit('entry', hits);
  }

  /** The dependencies and marker files directly in `dir`. */
  private inside(dir: string): string[] {
    const out: string[] = [];
    for (const p of this.deps) if (dirname(p) === dir) out.push(p);
    for (const m of this.opts.markers?.() ?? []) out.push(join(dir, m));
    return out;
  }

  /**
   * A watched directory was removed or replaced: what envd watched in it changed (one made
   * again is watched when its watched parent sees it made, see onEntry, or at the next
   * reconcile).
   */
  private onGone(dir: string): void {
    this.watching.delete(dir);
    this.refused.delete(dir);
    const hits: string[] = this.inside(dir);
    if (this.deps.has(dir)) hits.push(dir);
    this.hit('gone', hits);
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

