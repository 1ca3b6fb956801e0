import { statSync } from 'node:fs';

/** The identity and content of a path as stat(2) sees it ('-': absent or unreadable). */
export function stamp(path: string): string {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return '-';
    return `${st.ino}:${st.dev}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}:${st.uid}`;
  } catch {
    return '-';
  }
}

/**
 * A batch of stamps (answer-memo.ts `stamp`) shared by the answers replayed in one turn of
 * the event loop. Fifty shells asking at once share the allowlist's, the key's, the
 * config's and their common parents' stamps: one stat each instead of fifty.
 *
 * Why this cannot hide an edit: replays run from socket reads, in the poll phase of one
 * loop iteration. Every request read there was sent before that poll returned, so every
 * edit its shell made before sending it was done before the first stat of the batch. The
 * batch is emptied when the iteration ends (setImmediate, after the poll phase), and, as a
 * guard for a caller outside the poll phase, once it is older than MAX_AGE_MS.
 */
const MAX_AGE_MS = 2;

export class StatBatch implements Stamps {
  private readonly stamps = new Map<string, string>();
  /** Stamps of a group of paths (answer-memo.ts: those many answers share), joined. */
  private readonly groups = new Map<readonly string[], string>();
  private openedAt = 0;
  private clearing = false;
  /** Stats saved (tests and the bench read it). */
  shared = 0;

  stamp(path: string): string {
    this.begin();
    return this.lookup(path);
  }

  /** Whether each of `paths` still has its stamp in `stamps` (stopping at the first that does not). */
  matches(paths: readonly string[], stamps: readonly string[]): boolean {
    this.begin();
    for (let i = 0; i < paths.length; i++) {
      if (this.lookup(paths[i] ?? '') !== stamps[i]) return false;
    }
    return true;
  }

  /**
   * The stamps of `paths` joined by NUL (no stamp holds one), taken once per batch for the same
   * array: fifty answers that share the config files, the allowlist and the key compare one
   * string each instead of looking up ten stamps each.
   */
  group(paths: readonly string[]): string {
    this.begin();
    const known = this.groups.get(paths);
    if (known !== undefined) {
      this.shared += paths.length;
      return known;
    }
    let joined = '';
    for (let i = 0; i < paths.length; i++) joined += (i === 0 ? '' : '\0') + this.lookup(paths[i] ?? '');
    this.groups.set(paths, joined);
    return joined;
  }

  /** Empty the batch when it is too old; empty it at the end of this loop iteration. */
  private begin(): void {
    const now = performance.now();
    if (this.stamps.size > 0 && now - this.openedAt > MAX_AGE_MS) this.clear();
    if (this.stamps.size > 0) return;
    this.openedAt = now;
    if (this.clearing) return;
    this.clearing = true;
    setImmediate(() => {
      this.clearing = false;
      this.clear();
    });
  }

  private clear(): void {
    this.stamps.clear();
    this.groups.clear();
  }

  private lookup(path: string): string {
    const known = this.stamps.get(path);
    if (known !== undefined) {
      this.shared++;
      return known;
    }
    const s = stamp(path);
    this.stamps.set(path, s);
    return s;
  }
}

/** Checks a kept answer's stamps: a batch (StatBatch) or, outside one, each stat taken now. */
export interface Stamps {
  matches(paths: readonly string[], stamps: readonly string[]): boolean;
  group(paths: readonly string[]): string;
}

/** Outside a batch: the same answers as StatBatch's, each stat taken at the call. */
export const UNBATCHED: Stamps = {
  matches: (paths, stamps) => paths.every((p, i) => stamp(p) === stamps[i]),
  group: (paths) => paths.map(stamp).join('\0'),
};
