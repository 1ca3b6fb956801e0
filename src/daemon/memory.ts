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

/**
 * After a burst of requests (a `cd`, a re-evaluation), collect garbage once the daemon has
 * been quiet for half a second (a prompt's requests come milliseconds apart), so RSS
 * returns to what is live. One unref'd timer, reset by
 * each request: no polling, and idle CPU stays zero.
 */
export class QuietGc {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly delayMs = 500) {}

  poke(): void {
    // Every request pokes: re-arming the timer it has costs less than a new one.
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      gc();
    }, this.delayMs);
    this.timer.unref();
  }
}
