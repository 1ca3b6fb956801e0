import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExportOutcome, ExportRequest } from '../engine/types.js';

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

/** What the daemon knows besides the files: answers are kept for one generation only. */
export interface MemoWorld {
  generation: number;
  /** File names looked for when walking up (`.envrc`, `.env` with load_dotenv). */
  markers: readonly string[];
  /** Files every answer about a project depends on beyond its deps (the allowlist's key). */
  pinned: readonly string[];
}

interface Entry {
  outcome: ExportOutcome;
  generation: number;
  paths: string[];
  stamps: string[];
}

/** The identity and content of a path as stat(2) sees it ('-': absent or unreadable). */
function stamp(path: string): string {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return '-';
    return `${st.ino}:${st.dev}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}:${st.uid}`;
  } catch {
    return '-';
  }
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
 * afresh. Only answers that ran nothing are kept, never a request that asks to run the
 * file (flag `n`), so nothing an evaluation would see differently is replayed; trust is
 * re-checked through the same stamps (the env file's bytes and the allowlist).
 */
export class AnswerMemo {
  private readonly entries = new Map<string, Entry>();
  hits = 0;

  /** The kept answer, when every stamp still holds; else null (and the entry is dropped). */
  get(key: string, generation: number): ExportOutcome | null {
    const e = this.entries.get(key);
    if (e === undefined) return null;
    let valid = e.generation === generation;
    for (let i = 0; valid && i < e.paths.length; i++) {
      if (stamp(e.paths[i] ?? '') !== e.stamps[i]) valid = false;
    }
    this.entries.delete(key);
    if (!valid) return null;
    // Most recently used last: the first key is the one to evict.
    this.entries.set(key, e);
    this.hits++;
    return e.outcome;
  }

  /**
   * Keep `outcome` for `key` if it qualifies. `startedAt` (Date.now() before the engine
   * was asked) and the generation read then: a change during the answer is not kept.
   */
  put(key: string, req: ExportRequest, outcome: ExportOutcome, world: MemoWorld, startedAt: number): void {
    if (!KEPT_KINDS.has(outcome.kind)) return;
    const paths = this.pathsFor(req.cwd, outcome, world);
    if (paths === null) return;
    const stamps = paths.map(stamp);
    if (stamps.some((s) => ctimeOf(s) >= startedAt - SETTLED_MS)) return;
    this.entries.delete(key);
    this.entries.set(key, { outcome, generation: world.generation, paths, stamps });
    while (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private pathsFor(cwd: string, outcome: ExportOutcome, world: MemoWorld): string[] | null {
    const deps = outcome.deps ?? [];
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
    paths.push(...deps, ...world.pinned);
    return paths.length > MAX_STAMPED * 2 ? null : paths;
  }
}
