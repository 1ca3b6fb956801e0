import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FSWatcher } from 'chokidar';
import type { WatcherState } from '../protocol/messages.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import type { DaemonLogger } from './log.js';

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
  private fsw: FSWatcher | null = null;
  private readonly deps = new Set<string>();
  /** Dependencies that are directories (watch_dir): any entry in them counts. */
  private readonly depDirs = new Set<string>();
  private readonly known = new Map<string, DirInfo>();
  private readonly watching = new Set<string>();
  private readonly idle = new Set<string>();
  private pendingPaths = new Set<string>();
  private debounce: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private failures = new Set<string>();
  private degraded = false;
  private readonly debounceMs: number;
  private readonly maxDirs: number;
  private readonly idleMs: number;

  constructor(private readonly opts: WatcherOptions) {
    this.debounceMs = opts.debounceMs ?? 40;
    this.maxDirs = opts.maxDirs ?? 2048;
    this.idleMs = opts.idleMs ?? 60 * 60 * 1000;
  }

  get state(): WatcherState {
    if (!this.opts.enabled) return 'off';
    return this.degraded ? 'degraded' : 'on';
  }

  /** Dependency paths covered by a live directory watch. */
  get count(): number {
    let n = 0;
    for (const d of this.deps) if (this.watching.has(dirname(d)) || this.watching.has(d)) n++;
    return n;
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
    const addDep = (p: string): void => {
      const abs = resolve(p);
      wantDeps.add(abs);
      try {
        const real = realpathSync(abs);
        if (real !== abs) wantDeps.add(real);
      } catch {
        // Missing now; its directory is still watched so its creation is seen.
      }
    };
    for (const p of dependencies) addDep(p);
    for (const p of pinned) addDep(p);
    const pinnedDirs = new Set<string>();
    for (const p of pinned) pinnedDirs.add(dirname(resolve(p)));

    this.deps.clear();
    this.depDirs.clear();
    const wantDirs = new Set<string>();
    for (const p of wantDeps) {
      this.deps.add(p);
      wantDirs.add(dirname(p));
      if (isDirectory(p)) {
        this.depDirs.add(p);
        wantDirs.add(p);
      }
    }
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

  /** A request from `cwd`: directories on its path are active again. */
  touch(cwd: string): void {
    if (!this.opts.enabled) return;
    const now = Date.now();
    let woke = false;
    for (const [d, info] of this.known) {
      if (cwd === d || cwd.startsWith(d.endsWith('/') ? d : d + '/')) {
        info.lastActive = now;
        if (this.idle.delete(d)) woke = true;
      }
    }
    if (woke) this.reconcile(now);
  }

  async close(): Promise<void> {
    if (this.debounce !== null) clearTimeout(this.debounce);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.debounce = null;
    this.sweeper = null;
    const fsw = this.fsw;
    this.fsw = null;
    if (fsw !== null) await fsw.close();
  }

  /** Report a watcher failure: logged once per kind, state becomes degraded, nothing stops. */
  reportError(err: unknown): void {
    this.degraded = true;
    const code = errnoCode(err) ?? 'ERROR';
    if (this.failures.has(code)) return;
    this.failures.add(code);
    const hint = code === 'ENOSPC'
      ? ' (inotify watch limit: raise fs.inotify.max_user_watches)'
      : code === 'EMFILE' ? ' (too many open files: raise ulimit -n)' : '';
    this.opts.log.warn({ code }, `file watcher error${hint}: ${errorMessage(err)}; edits are still noticed at the next request`);
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
    const add = [...want].filter((d) => !this.watching.has(d) && isDirectory(d));
    const remove = [...this.watching].filter((d) => !want.has(d));
    if (add.length === 0 && remove.length === 0) return;
    const fsw = this.ensureWatcher();
    if (fsw === null) return;
    for (const d of remove) this.watching.delete(d);
    if (remove.length > 0) fsw.unwatch(remove);
    for (const d of add) this.watching.add(d);
    if (add.length > 0) fsw.add(add);
    this.opts.log.debug({ added: add.length, removed: remove.length, dirs: this.watching.size }, 'watch set updated');
    this.ensureSweeper();
  }

  private ensureWatcher(): FSWatcher | null {
    if (this.fsw !== null) return this.fsw;
    try {
      const fsw = new FSWatcher({
        ignoreInitial: true,
        persistent: true,
        followSymlinks: false,
        ignorePermissionErrors: true,
        depth: 0,
        ignored: (p: string) => !this.interesting(p),
      });
      fsw.on('all', (event, path) => this.onEvent(event, path));
      fsw.on('error', (err) => this.reportError(err));
      this.fsw = fsw;
      return fsw;
    } catch (err) {
      this.reportError(err);
      return null;
    }
  }

  private interesting(p: string): boolean {
    return this.watching.has(p) || this.deps.has(p) || this.depDirs.has(dirname(p));
  }

  private onEvent(event: string, path: string): void {
    const hits: string[] = [];
    if (this.deps.has(path)) hits.push(path);
    const parent = dirname(path);
    if (this.depDirs.has(parent)) hits.push(parent, path);
    if (hits.length === 0) return;
    this.opts.log.debug({ event, path }, 'watched path changed');
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

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
