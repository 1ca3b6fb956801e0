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

export class StatBatch {
  private readonly stamps = new Map<string, string>();
  private openedAt = 0;
  private clearing = false;
  /** Stats saved (tests and the bench read it). */
  shared = 0;

  stamp(path: string): string {
    const now = performance.now();
    if (this.stamps.size > 0 && now - this.openedAt > MAX_AGE_MS) this.stamps.clear();
    if (this.stamps.size === 0) {
      this.openedAt = now;
      if (!this.clearing) {
        this.clearing = true;
        setImmediate(() => {
          this.clearing = false;
          this.stamps.clear();
        });
      }
    }
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
