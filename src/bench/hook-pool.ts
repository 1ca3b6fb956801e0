/**
 * Hook clients (hook-client.ts), one per worker thread (hook-worker.ts), released together.
 *
 * Why threads: 50 clients in one Node process share one event loop, so a client's reply
 * is read only after the bench has sent all 50 requests and has read, decoded and applied
 * the replies ahead of it in that loop: the time it records is mostly the bench's own
 * queue. A shell blocks on its own socket and wakes when its reply arrives; a thread per
 * client does the same, so each time is one client's, from its write to its reply, with
 * the two cores shared by the daemon and 50 waking clients as they are by 50 shells. The
 * pool's own thread sleeps through a burst: the clients are released by one
 * Atomics.notify, and only the last one to finish wakes it (a message); the answers are
 * collected after that.
 */
import { Worker } from 'node:worker_threads';
import type { HookClientOptions } from './hook-client.js';
import { GATE, type WorkerCommand, type WorkerReply, type WorkerSetup } from './hook-worker.js';

export interface PoolAnswer {
  /** Microseconds from the client's write to its reply (HookAnswer.us). */
  us: number;
  /** The client's exported environment after applying the answer. */
  env: Record<string, string>;
}

interface Waiter {
  armed?: () => void;
  done: (a: PoolAnswer) => void;
  fail: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  waiting: Map<number, Waiter>;
}

/** A burst that takes longer than this has lost a client: fail rather than hang. */
const BURST_TIMEOUT_MS = 60_000;

export class HookClientPool {
  private readonly slots: Slot[] = [];
  private readonly shared = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  private readonly gate = new Int32Array(this.shared);
  private round = 0;
  private seq = 0;
  /** Told by the client that finishes a round last. */
  private roundDone: ((round: number) => void) | null = null;

  /** `count` clients on `socket`, client i tagged `${tag}${i}`, each with its own copy of `env`. */
  constructor(socket: string, env: Record<string, string>, tag: string, count: number, opts: HookClientOptions = {}) {
    Atomics.store(this.gate, GATE.clients, count);
    for (let i = 0; i < count; i++) {
      const setup: WorkerSetup = { socket, env, tag: `${tag}${i}`, opts, gate: this.shared };
      const worker = new Worker(new URL('./hook-worker.js', import.meta.url), {
        workerData: setup,
        // A client holds a few requests' worth of memory: keep 50 isolates small.
        resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
      });
      const slot: Slot = { worker, waiting: new Map() };
      worker.on('message', (m: WorkerReply) => {
        if (m.kind === 'round done') { this.roundDone?.(m.round); return; }
        const w = slot.waiting.get(m.seq);
        if (w === undefined) return;
        if (m.kind === 'armed') { w.armed?.(); return; }
        slot.waiting.delete(m.seq);
        if (m.kind === 'answer') w.done({ us: m.us, env: m.env });
        else w.fail(new Error(`client ${tag}${i}: ${m.message}`));
      });
      worker.on('error', (err) => {
        // A client armed for a burst that never comes must not hold the others back.
        for (const w of slot.waiting.values()) { w.armed?.(); w.fail(err); }
        slot.waiting.clear();
      });
      this.slots.push(slot);
    }
  }

  /** Client i asks from `cwd` on its own. */
  ask(i: number, cwd: string): Promise<PoolAnswer> {
    return this.send(i, { op: 'ask', seq: 0, cwd, round: 0 }).done;
  }

  /**
   * Every client asks from its cwd at once: each worker blocks at the gate, and one
   * Atomics.notify wakes them all (as the bench's FIFO barrier releases 50 shells).
   */
  async burst(cwds: readonly string[]): Promise<PoolAnswer[]> {
    if (cwds.length !== this.slots.length) throw new Error(`${cwds.length} directories for ${this.slots.length} clients`);
    const round = ++this.round;
    Atomics.store(this.gate, GATE.done, 0);
    const allDone = new Promise<void>((resolve) => { this.roundDone = (r) => { if (r === round) resolve(); }; });
    const armed = cwds.map((cwd, i) => this.send(i, { op: 'ask', seq: 0, cwd, round }));
    // A worker that dies (its armed request fails) ends the burst; so does a lost client.
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      for (const a of armed) a.done.catch(reject);
      timer = setTimeout(() => reject(new Error(`burst ${round}: not every client answered within ${BURST_TIMEOUT_MS} ms`)), BURST_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(armed.map((a) => a.armed)), failed]);
      Atomics.store(this.gate, GATE.released, round);
      Atomics.notify(this.gate, GATE.released);
      await Promise.race([allDone, failed]);
      return await Promise.all(this.slots.map((_, i) => this.send(i, { op: 'report', seq: 0 }).done));
    } finally {
      clearTimeout(timer);
      this.roundDone = null;
      // The armed requests are answered through `report`: nothing more will come for them.
      for (const [i, a] of armed.entries()) this.slots[i]?.waiting.delete(a.seq);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map(async ({ worker }) => {
      const close: WorkerCommand = { op: 'close' };
      worker.postMessage(close);
      await worker.terminate();
    }));
  }

  private send(i: number, cmd: WorkerCommand & { seq: number }): { seq: number; armed: Promise<void>; done: Promise<PoolAnswer> } {
    const slot = this.slots[i];
    if (slot === undefined) throw new Error(`no client ${i}`);
    const seq = ++this.seq;
    let armed: () => void = () => undefined;
    const armedP = new Promise<void>((resolve) => { armed = resolve; });
    const done = new Promise<PoolAnswer>((resolve, reject) => {
      slot.waiting.set(seq, { armed, done: resolve, fail: reject });
    });
    slot.worker.postMessage({ ...cmd, seq });
    // Unanswered when the burst is over (see burst): no unhandled rejection for it.
    done.catch(() => undefined);
    return { seq, armed: armedP, done };
  }
}
