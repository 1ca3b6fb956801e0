import type { ExportOutcome, ExportRequest } from '../engine/types.js';
import { keepLatest } from '../util/recent.js';

/**
 * Records encoded for an outcome as the hook side sends them, up to the generation (`g`),
 * which the reply adds when it is sent (hook-replay.ts frameReply).
 */
export type ReplyEncoder = (outcome: ExportOutcome) => Buffer;

/** A request whose answer was not kept because a file it derives from was too new. */
export interface Promotion {
  /** The request's bytes after its id (hook-replay.ts). */
  raw: string;
  req: ExportRequest;
  /** When the files it derives from are a second old. */
  at: number;
  encode: ReplyEncoder;
  tries: number;
}

/** What working an answer out again came to: kept, never keepable, or not settled yet. */
export type PromotionResult = 'kept' | 'never' | { settlesAt: number };

/** Answers waiting to be worked out again (each a request a shell sent). */
const MAX_WAITING = 256;
/** Changed again each time (the allowlist is written as projects are evaluated): give up. */
const MAX_TRIES = 8;
/** A little past the second: the file clock's tick. */
const SLACK_MS = 20;

/**
 * Answers the memo did not keep because a file they derive from was changed within the
 * second (answer-memo.ts SETTLED_MS). A shell that just entered a project it created or
 * edited would otherwise take the whole path again at its next prompts: once the files
 * are a second old, the daemon works the same request out again (`again`: from the cache
 * only, no evaluation; no shell waits for it) and keeps it. One unref'd timer, set only
 * while something waits: an idle daemon does nothing.
 */
export class Promotions {
  /** Memo keys of answers not kept for now, and when their files settle. */
  private readonly unsettled = new Map<string, number>();
  private readonly waiting = new Map<string, Promotion>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly again: (p: Promotion) => Promise<PromotionResult>, private readonly after: () => void) {}

  /** The memo refused `key` until `settlesAt`. */
  noteUnsettled(key: string, settlesAt: number): void {
    if (this.unsettled.size >= MAX_WAITING) this.unsettled.clear();
    this.unsettled.set(key, settlesAt);
  }

  /** A reply not kept for `raw`: queued when its answer (memo `key`) waits for its files. */
  add(key: string, raw: string, req: ExportRequest, encode: ReplyEncoder): void {
    const settlesAt = this.unsettled.get(key);
    if (settlesAt === undefined) return;
    this.unsettled.delete(key);
    this.queue({ raw, req, at: settlesAt, encode, tries: 0 });
  }

  get size(): number {
    return this.waiting.size;
  }

  private queue(p: Promotion): void {
    keepLatest(this.waiting, p.raw, p, MAX_WAITING);
    this.arm();
  }

  private arm(): void {
    if (this.timer !== null || this.waiting.size === 0) return;
    let next = Infinity;
    for (const p of this.waiting.values()) next = Math.min(next, p.at);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, Math.max(0, next - Date.now()) + SLACK_MS);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const now = Date.now();
    for (const [raw, p] of [...this.waiting]) {
      if (p.at > now) continue;
      this.waiting.delete(raw);
      try {
        const result = await this.again(p);
        if (typeof result === 'object' && p.tries < MAX_TRIES && !this.waiting.has(raw)) {
          this.queue({ ...p, at: result.settlesAt, tries: p.tries + 1 });
        }
      } catch {
        // It needs an evaluation now, or anything else: the next request takes the whole path.
      }
    }
    this.arm();
    this.after();
  }
}
