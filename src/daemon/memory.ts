import { getHeapStatistics } from 'node:v8';

/**
 * Node flags for the daemon process. A long-lived daemon that is idle most of the time
 * should hold little memory: a small young generation, V8's size-over-speed tuning, and an
 * explicit collection once it goes quiet (see QuietGc). No hard heap cap: a user with a
 * huge environment must not crash it. Measured with the bench's `rss` and `cached-rps` rows.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1', '--optimize-for-size', '--expose-gc',
  // No optimizing compiler: TurboFan's own code pages and the optimized code it keeps cost
  // ~10 MB of RSS after 1,000 projects; a cached answer costs ~2× the CPU without it (50
  // against 30 µs here), far below what a prompt notices. One thread (no compiler or GC
  // workers, no arenas of theirs) and a compacting full GC: the heap gives pages back.
  '--no-opt', '--single-threaded', '--compact-on-every-full-gc',
];

/** What QuietGc reads and does (the V8 heap and `gc()`; tests pass their own). */
export interface QuietGcHeap {
  /** Bytes of the heap in use now. */
  used(): number;
  /** A full collection; false when there is none to run (no --expose-gc). */
  collect(): boolean;
}

const V8_HEAP: QuietGcHeap = {
  used: () => getHeapStatistics().used_heap_size,
  collect: () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) return false;
    gc();
    return true;
  },
};

/**
 * Less than this left behind since the last collection, and the quiet one is skipped. A
 * full collection holds the daemon's one thread (a 7 MB heap, compacted: 28-39 ms on a
 * slow host, `--trace-gc`) and a shell's next request may come in it; a prompt or a `cd`
 * leaves tens of KB, which the young generation's own collections mostly take.
 */
export const WORTH_COLLECTING = 1024 * 1024;

/**
 * After a burst of requests (entries into projects, a re-evaluation), collect garbage once
 * the daemon has been quiet for half a second (a prompt's requests come milliseconds
 * apart), so RSS returns to what is live. One unref'd timer, reset by each request: no
 * polling, and idle CPU stays zero. Only when the heap grew by WORTH_COLLECTING since the
 * last one: not after every prompt.
 */
export class QuietGc {
  private timer: NodeJS.Timeout | null = null;
  /** The heap in use after the last collection (0: none yet, so the first one runs). */
  private usedAfter = 0;
  /** Collections run (tests read it). */
  collections = 0;

  constructor(private readonly delayMs = 500, private readonly heap: QuietGcHeap = V8_HEAP) {}

  poke(): void {
    // Every request pokes: re-arming the timer it has costs less than a new one.
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.quiet();
    }, this.delayMs);
    this.timer.unref();
  }

  private quiet(): void {
    if (this.heap.used() - this.usedAfter < WORTH_COLLECTING) return;
    if (!this.heap.collect()) return;
    this.collections++;
    this.usedAfter = this.heap.used();
  }
}
