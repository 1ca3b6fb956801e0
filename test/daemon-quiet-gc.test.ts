import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { QuietGc, WORTH_COLLECTING, type QuietGcHeap } from '../src/daemon/memory.js';

// QuietGc on its own, with a heap the test moves: the daemon's collection once it has been
// quiet, and only when enough was left behind since the last one. (The real collection's
// effect on RSS is the bench's `rss` row.)

function heap(): QuietGcHeap & { bytes: number; runs: number } {
  const h = {
    bytes: 0,
    runs: 0,
    used: () => h.bytes,
    collect: () => {
      h.runs++;
      h.bytes = Math.floor(h.bytes / 2);
      return true;
    },
  };
  return h;
}

describe('QuietGc', () => {
  it('collects once the requests stop, and again only after the heap grew by WORTH_COLLECTING', async () => {
    const h = heap();
    const gc = new QuietGc(20, h);
    h.bytes = 8 * WORTH_COLLECTING;
    // A burst: each request moves the timer on; nothing runs while they come. (A timer
    // due sooner fires first: each sleep below outlasts the collection's.)
    for (let i = 0; i < 5; i++) gc.poke();
    expect(h.runs).toBe(0);
    await sleep(60);
    expect(h.runs).toBe(1);
    expect(gc.collections).toBe(1);
    // A prompt's worth of garbage: the next quiet moment collects nothing.
    h.bytes += WORTH_COLLECTING / 4;
    gc.poke();
    await sleep(60);
    expect(h.runs).toBe(1);
    // A burst's worth: collected.
    h.bytes += WORTH_COLLECTING;
    gc.poke();
    await sleep(60);
    expect(h.runs).toBe(2);
  });

  it('without a collection to run (no --expose-gc), nothing is counted', async () => {
    const gc = new QuietGc(5, { used: () => 10 * WORTH_COLLECTING, collect: () => false });
    gc.poke();
    await sleep(30);
    expect(gc.collections).toBe(0);
  });
});
