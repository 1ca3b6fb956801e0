import { realpathSync } from 'node:fs';
import { isDirectory } from '../util/fs.js';

/** What a dependency path is on disk: its real path (null: missing now) and whether it is a directory. */
export interface Resolved {
  real: string | null;
  dir: boolean;
}

function within(path: string, changed: string): boolean {
  return path === changed || path.startsWith(changed + '/');
}

/**
 * The watcher's knowledge of each dependency path (watcher.ts sync), kept between syncs.
 * Every sync used to resolve every path afresh: with 50 projects that is ~100 realpath
 * calls (an lstat per component) and as many stats, ~5 ms of the daemon's only thread
 * right after a watched change bumps the generation, which is exactly when every shell
 * asks. A path is resolved again only when a change was seen on it, on a path under it,
 * or on what it resolved to (a link retargeted, a file replaced by a directory), and
 * after the watcher set up every watch again (edits may have gone unseen meanwhile).
 */
export class ResolvedPaths {
  private known = new Map<string, Resolved>();
  /** Resolutions done from disk (tests and the bench read it). */
  lookups = 0;

  /** What `path` (absolute) is, from disk the first time or after a change was seen. */
  get(path: string): Resolved {
    const have = this.known.get(path);
    if (have !== undefined) return have;
    this.lookups++;
    let real: string | null = null;
    try {
      // realpath(3): one call per path instead of an lstat and a Stats object per component.
      real = realpathSync.native(path);
    } catch {
      // Missing now; its directory is still watched so its creation is seen.
    }
    const r: Resolved = { real, dir: real !== null && isDirectory(real) };
    this.known.set(path, r);
    return r;
  }

  /** Keep only these paths (the ones the last sync asked about). */
  keepOnly(paths: ReadonlySet<string>): void {
    for (const p of this.known.keys()) if (!paths.has(p)) this.known.delete(p);
  }

  /** Changes were seen on these paths: what they or their targets are may differ now. */
  forget(changed: readonly string[]): void {
    if (changed.length === 0) return;
    for (const [p, r] of this.known) {
      if (changed.some((c) => within(p, c) || (r.real !== null && within(r.real, c)))) this.known.delete(p);
    }
  }

  clear(): void {
    this.known.clear();
  }
}
