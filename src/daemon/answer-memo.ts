import { dirname, join } from 'node:path';
import type { ExportOutcome, ExportRequest } from '../engine/types.js';
import { stamp, UNBATCHED, type StatBatch } from './stat-batch.js';

/** Answers kept (a few per shell: its enter and leave requests); each holds one Change. */
const MAX_ENTRIES = 256;
/**
 * A file changed this recently (by its ctime) may have changed while the answer was being
 * worked out, after the engine read it and before its stamp was taken: such an answer is
 * not kept. A second is far beyond the lag of the kernel's coarse file clock (a tick) and
 * leaves room for a file server whose clock is a little behind.
 */
const SETTLED_MS = 1000;
/** More paths than this (a large watch_dir tree) and the stamps would cost what they save. */
const MAX_STAMPED = 128;
/** Only these answers are deterministic in the request and the files: no evaluation ran. */
const KEPT_KINDS: ReadonlySet<ExportOutcome['kind']> = new Set(['noop', 'loaded', 'unloaded']);
/**
 * Answers that never consult the result cache: leaving a project (the shell's own state
 * reverted) and "nothing changed" (the state's fingerprints and trust). The engine decides
 * them before it looks at flag `n` (decide.ts), so the same bytes with `n` get the same
 * answer; and no evaluation finishing can change them, only the files their stamps cover.
 * They hold across generations. A `loaded` answer is the cache's result: an evaluation
 * finishing (a re-run on entry) may replace it with the files unchanged, so it is kept for
 * its generation only.
 */
export const FILE_ONLY_KINDS: ReadonlySet<ExportOutcome['kind']> = new Set(['noop', 'unloaded']);

/** What the daemon knows besides the files: answers are kept for one generation only. */
export interface MemoWorld {
  generation: number;
  /** File names looked for when walking up (`.envrc`, `.env` with load_dotenv). */
  markers: readonly string[];
  /** Files every answer about a project depends on beyond its deps (the allowlist's key). */
  pinned: readonly string[];
}

/** One kept answer. `live` turns false when it is dropped (replies made from it then go too). */
export interface MemoEntry {
  readonly key: string;
  readonly outcome: ExportOutcome;
  /** The generation it was worked out under. */
  readonly generation: number;
  /** Valid for that generation only (not FILE_ONLY_KINDS), else for any. */
  readonly generational: boolean;
  /** The files it derives from that are its own (on the walk up, in its project), and their stamps. */
  readonly paths: string[];
  readonly stamps: string[];
  /**
   * The others (the config files, extensions, the allowlist and its key: the same for most
   * answers, and then the same array, see AnswerMemo.interned), and their stamps joined by
   * NUL: fifty answers in one batch of requests check them once (StatBatch.group).
   */
  readonly shared: readonly string[];
  readonly sharedStamp: string;
  live: boolean;
}

function ctimeOf(s: string): number {
  if (s === '-') return -Infinity;
  return Number(s.split(':')[4]);
}

/**
 * The request's bytes as one key: the same shell asking the same thing in the same place
 * (a prompt after `cd -`, 50 shells going back and forth) sends the same cwd and env.
 */
export function requestKey(req: ExportRequest): string {
  const parts: string[] = [req.cwd];
  for (const name in req.env) parts.push(name, req.env[name] ?? '');
  return parts.join('\0');
}

/**
 * Hook answers memoized by request, each re-validated on use by the stamps of every file
 * it was derived from: the env file markers on the walk up from the cwd (a new .envrc
 * nearer), the deps the engine reported (the env file, everything the state watches, the
 * allowlist, the config files) and the allowlist's key. Any difference, or a new
 * generation (an evaluation finished, the watcher saw a change), and the engine answers
 * afresh (a `loaded` answer only: FILE_ONLY_KINDS hold across generations). Only answers
 * that ran nothing are kept; for a request that asks to run the file (flag `n`) only those
 * the flag cannot change (FILE_ONLY_KINDS), so nothing an evaluation would see differently
 * is replayed; trust is re-checked through the same stamps (the env file's bytes and the
 * allowlist).
 */
export class AnswerMemo {
  private readonly entries = new Map<string, MemoEntry>();
  /** One array per list of common files (StatBatch.group knows a group by its array). */
  private readonly groups = new Map<string, readonly string[]>();
  hits = 0;

  /**
   * The kept answer, when every stamp still holds; else null (and the entry is dropped).
   * `fresh` (flag `n`): only an answer the flag cannot change (FILE_ONLY_KINDS).
   */
  get(key: string, generation: number, fresh = false): ExportOutcome | null {
    const e = this.entries.get(key);
    if (e === undefined || (fresh && !FILE_ONLY_KINDS.has(e.outcome.kind)) || !this.holds(e, generation)) return null;
    // Most recently used last: the first key is the one to evict.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.outcome;
  }

  /** The entry kept for `key` (not re-validated: see holds). */
  entry(key: string): MemoEntry | undefined {
    return this.entries.get(key);
  }

  /**
   * Whether `e` is still kept and every stamp still holds for this generation. An entry
   * that fails is dropped. `stats`: stamps already taken for this batch of requests
   * (StatBatch), shared between the answers served in it.
   */
  holds(e: MemoEntry, generation: number, stats?: StatBatch): boolean {
    if (!e.live) return false;
    const s = stats ?? UNBATCHED;
    const valid = (!e.generational || e.generation === generation) && s.matches(e.paths, e.stamps) &&
      (e.shared.length === 0 || s.group(e.shared) === e.sharedStamp);
    if (!valid) {
      e.live = false;
      if (this.entries.get(e.key) === e) this.entries.delete(e.key);
      return false;
    }
    this.hits++;
    return true;
  }

  /**
   * Keep `outcome` for `key` if it qualifies. `startedAt` (Date.now() before the engine
   * was asked) and the generation read then: a change during the answer is not kept.
   * Returns whether it was kept, or when a file it derives from is a second old (not
   * kept because one was changed too recently: the same answer worked out again after
   * that may be).
   */
  put(key: string, req: ExportRequest, outcome: ExportOutcome, world: MemoWorld, startedAt: number, fresh = false): 'kept' | 'never' | { settlesAt: number } {
    if (!KEPT_KINDS.has(outcome.kind) || (fresh && !FILE_ONLY_KINDS.has(outcome.kind))) return 'never';
    const paths = this.pathsFor(req.cwd, outcome, world);
    if (paths === null) return 'never';
    const stamps = paths.map(stamp);
    const newest = Math.max(...stamps.map(ctimeOf));
    if (newest >= startedAt - SETTLED_MS) return { settlesAt: newest + SETTLED_MS };
    // Its own files (the walk up from the cwd, its project), and the others as one group.
    const top = outcome.file !== null ? dirname(outcome.file) : null;
    const walk = new Set(paths.slice(0, paths.walked));
    const isOwn = (p: string): boolean => walk.has(p) || (top !== null && p.startsWith(`${top}/`));
    const at = new Map(paths.map((p, i) => [p, i]));
    const own = paths.filter(isOwn);
    const shared = this.interned(paths.filter((p) => !isOwn(p)));
    const stampOf = (p: string): string => stamps[at.get(p) ?? -1] ?? '-';
    this.drop(key);
    this.entries.set(key, {
      key, outcome, generation: world.generation, generational: !FILE_ONLY_KINDS.has(outcome.kind),
      paths: own, stamps: own.map(stampOf), shared, sharedStamp: shared.map(stampOf).join('\0'), live: true,
    });
    while (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
    return 'kept';
  }

  clear(): void {
    for (const e of this.entries.values()) e.live = false;
    this.entries.clear();
    this.groups.clear();
  }

  /** The one array for this list of paths (a few lists at most: the config files rarely change). */
  private interned(paths: string[]): readonly string[] {
    const key = paths.join('\0');
    const known = this.groups.get(key);
    if (known !== undefined) return known;
    if (this.groups.size >= 16) this.groups.clear();
    this.groups.set(key, paths);
    return paths;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.live = false;
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Every file the answer derives from, each once; the first `walked` are the walk's
   * markers. The deps as the hooks stat them (outcome.promptDeps): user config and
   * extension files that do not exist stood for by the highest missing directory above
   * them, or by their directory when two or more are missing there. A file appearing makes
   * or changes that directory, so the stamp still moves, and most answers stamp half as
   * many files (two missing directories for seven files).
   */
  private pathsFor(cwd: string, outcome: ExportOutcome, world: MemoWorld): (string[] & { walked: number }) | null {
    const deps = outcome.promptDeps ?? outcome.deps ?? [];
    if (deps.length > MAX_STAMPED) return null;
    // Walking up as the engine does (find.ts): every marker from the cwd to the directory of
    // the file found (which may since have lost its place to a nearer one), or to the root.
    const top = outcome.file !== null ? dirname(outcome.file) : null;
    if (outcome.kind !== 'unloaded' && outcome.file !== null && deps.length === 0) return null;
    const paths: string[] = [];
    for (let dir = cwd; ; dir = dirname(dir)) {
      for (const m of world.markers) paths.push(join(dir, m));
      if (dir === top || dirname(dir) === dir) break;
      if (paths.length > MAX_STAMPED) return null;
    }
    if (top !== null && !paths.includes(outcome.file ?? '')) return null;
    // Each path once: the env file is both a marker on the walk and a dep.
    const walked = new Set(paths).size;
    const unique = [...new Set([...paths, ...deps, ...world.pinned])];
    return unique.length > MAX_STAMPED * 2 ? null : Object.assign(unique, { walked });
  }
}
