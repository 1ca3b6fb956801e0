import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { errnoCode } from '../util/errors.js';

/**
 * One inotify watch per directory (Node's fs.watch), at depth 0: each event names an entry
 * of the directory and is handed on as it comes. Nothing is read or stat'ed for an event,
 * but the directory itself when the event could be about it.
 *
 * Why not chokidar (the watcher until 2026-12-07): on every event in a watched directory it
 * read the directory again and lstat'ed each of its entries before applying `ignored` (its
 * readdirp runs with `alwaysStat`), to learn what was added or removed. The directories
 * envd watches include those on the way up from each project, the home directory and /tmp
 * among them: a shell appending to its history in an 80-entry home cost the daemon 3.2 ms
 * of CPU per command, and a busy /tmp had it re-reading /tmp a dozen times a second, in
 * the same thread that answers the prompts. envd needs only the names: which entry of a
 * watched directory changed.
 */
export interface DirEvents {
  /** `name` changed in `dir`: created, written, removed, renamed, its mode or owner. */
  entry(dir: string, name: string): void;
  /** `dir` is gone, or is another directory now: its watch is closed. */
  gone(dir: string): void;
  /** A watch failed (the inotify limit, too many open files): reported, nothing stops. */
  error(err: unknown): void;
}

/** What an add came to. */
export type AddResult = 'watched' | 'absent' | 'refused' | 'failed';

interface Open {
  w: FSWatcher;
  /** The directory's device and inode when the watch was made. */
  id: string;
}

function identity(dir: string): string | null {
  const st = statSync(dir, { throwIfNoEntry: false });
  return st?.isDirectory() === true ? `${st.dev}:${st.ino}` : null;
}

export class DirWatches {
  private readonly open = new Map<string, Open>();

  constructor(private readonly on: DirEvents) {}

  has(dir: string): boolean {
    return this.open.has(dir);
  }

  /**
   * Watch `dir`. 'absent': not a directory (now); 'refused': not this user's to watch
   * (EACCES, EPERM: skipped quietly, as a directory that cannot be read has nothing to
   * report); 'failed': any other error, reported.
   */
  add(dir: string): AddResult {
    if (this.open.has(dir)) return 'watched';
    let id: string | null;
    let w: FSWatcher;
    try {
      id = identity(dir);
      if (id === null) return 'absent';
      w = watch(dir, { persistent: true }, (_event, name) => this.onEvent(dir, name));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
      if (code === 'EACCES' || code === 'EPERM') return 'refused';
      this.on.error(err);
      return 'failed';
    }
    const open = { w, id };
    w.on('error', (err) => {
      if (this.open.get(dir) !== open) return;
      this.close(dir);
      this.on.error(err);
    });
    this.open.set(dir, open);
    return 'watched';
  }

  close(dir: string): void {
    const o = this.open.get(dir);
    if (o === undefined) return;
    this.open.delete(dir);
    o.w.close();
  }

  closeAll(): void {
    for (const dir of [...this.open.keys()]) this.close(dir);
  }

  private onEvent(dir: string, name: string | null): void {
    if (!this.open.has(dir)) return;
    // An event about the directory itself (removed, moved away) carries its own base name
    // (libuv), as an entry of that name would: look at the directory in that case only.
    if (name === null || name === basename(dir)) {
      let id: string | null = null;
      try { id = identity(dir); } catch { id = null; }
      if (id !== this.open.get(dir)?.id) {
        this.close(dir);
        this.on.gone(dir);
        return;
      }
      if (name === null) return;
    }
    this.on.entry(dir, name);
  }
}
