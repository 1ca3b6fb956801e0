/**
 * Hook clients (hook-client.ts), one per worker thread (hook-worker.ts), released together.
 *
 * Why threads: 50 clients in one Node process share one event loop, so a client's reply
 * is read only after the bench has sent all 50 requests and has read, decoded and applied
 * the replies ahead of it in that loop: the time it records is mostly the bench's own
 * queue (measured: the first reply of a burst recorded at 2-5 ms while the daemon had
 * written it within 0.2 ms). A shell blocks on its own socket and wakes when its reply
 * arrives; a thread per client does the same, so each time is one client's, from its
 * write to its reply, with the two cores shared by the daemon and 50 waking clients as
 * they are by 50 shells.
 */
import { Worker } from 'node:worker_threads';
import type { HookClientOptions } from './hook-client.js';
import type { WorkerAsk, WorkerReply, WorkerSetup } from './hook-worker.js';

export interface PoolAnswer {
  /** Microseconds from the client's write to its reply (HookAnswer.us). */
  us: number;
  /** The client's exported environment after applying the answer. */
  env: Record<string, string>;
}

interface Slot {
  worker: Worker;
  waiting: Map<number, { armed?: () => void; done: (a: PoolAnswer) => void; fail: (e: Error) => void }>;
}

export class HookClientPool {
  private readonly slots: Slot[] = [];
  private readonly gate = new SharedArrayBuffer(4);
  private round = 0;
  private seq = 0;

  /** `count` clients on `socket`, client i tagged `${tag}${i}`, each with its own copy of `env`. */
  constructor(socket: string, env: Record<string, string>, tag: string, count: number, opts: HookClientOptions = {}) {
    for (let i = 0; i < count; i++) {
      const setup: WorkerSetup = { socket, env, tag: `${tag}${i}`, opts, gate: this.gate };
      const worker = new Worker(new URL('./hook-worker.js', import.meta.url), {
        workerData: setup,
        // A client holds a few requests' worth of memory: keep 50 isolates small.
        resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
      });
      const slot: Slot = { worker, waiting: new Map() };
      worker.on('message', (m: WorkerReply) => {
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

  get size(): number {
    return this.slots.length;
  }

  /** Client i asks from `cwd` on its own. */
  ask(i: number, cwd: string): Promise<PoolAnswer> {
    return this.send(i, cwd, 0).done;
  }

  /**
   * Every client asks from its cwd at once: each worker blocks at the gate, and one
   * Atomics.notify wakes them all (as the bench's FIFO barrier releases 50 shells).
   */
  async burst(cwds: readonly string[]): Promise<PoolAnswer[]> {
    if (cwds.length !== this.slots.length) throw new Error(`${cwds.length} directories for ${this.slots.length} clients`);
    const round = ++this.round;
    const sent = cwds.map((cwd, i) => this.send(i, cwd, round));
    await Promise.all(sent.map((s) => s.armed));
    const gate = new Int32Array(this.gate);
    Atomics.store(gate, 0, round);
    Atomics.notify(gate, 0);
    return Promise.all(sent.map((s) => s.done));
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map(async ({ worker }) => {
      worker.postMessage('close');
      await worker.terminate();
    }));
  }

  private send(i: number, cwd: string, round: number): { armed: Promise<void>; done: Promise<PoolAnswer> } {
    const slot = this.slots[i];
    if (slot === undefined) throw new Error(`no client ${i}`);
    const seq = ++this.seq;
    let armed: () => void = () => undefined;
    const armedP = new Promise<void>((resolve) => { armed = resolve; });
    const done = new Promise<PoolAnswer>((resolve, reject) => {
      slot.waiting.set(seq, { armed, done: resolve, fail: reject });
    });
    const ask: WorkerAsk = { seq, cwd, round };
    slot.worker.postMessage(ask);
    return { armed: armedP, done };
  }
}
