/**
 * One hook client (hook-client.ts) in its own worker thread, driven by hook-pool.ts. Like
 * a shell, each client has its own thread and event loop: it wakes when its own reply
 * arrives, not after the replies of 49 other clients sharing one loop have been read,
 * decoded and applied. Importing this module outside a pool's worker does nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HookClient, type HookClientOptions } from './hook-client.js';

/** Indexes into the pool's shared gate (an Int32Array). */
export const GATE = {
  /** The last round released (Atomics.notify wakes every armed client). */
  released: 0,
  /** Clients done with the current round; the last one to finish tells the pool. */
  done: 1,
  /** Clients in the pool. */
  clients: 2,
} as const;

export interface WorkerSetup {
  socket: string;
  env: Record<string, string>;
  tag: string;
  opts: HookClientOptions;
  gate: SharedArrayBuffer;
}

/**
 * From the pool: `ask` now and post the answer (round 0), or arm for `round`: post
 * `armed`, wait at the gate, ask once the round is released, and keep the answer until
 * `report` (so 50 answers do not wake the pool's thread 50 times while others are still
 * being timed).
 */
export type WorkerCommand =
  | { op: 'ask'; seq: number; cwd: string; round: number }
  | { op: 'report'; seq: number }
  | { op: 'close' };

export type WorkerReply =
  | { seq: number; kind: 'armed' }
  | { seq: number; kind: 'round done'; round: number }
  | { seq: number; kind: 'answer'; us: number; env: Record<string, string> }
  | { seq: number; kind: 'error'; message: string };

function isSetup(v: unknown): v is WorkerSetup {
  return typeof v === 'object' && v !== null && 'gate' in v && v.gate instanceof SharedArrayBuffer;
}

function serve(port: NonNullable<typeof parentPort>, setup: WorkerSetup): void {
  const client = new HookClient(setup.socket, setup.env, setup.tag, setup.opts);
  const gate = new Int32Array(setup.gate);
  let kept: WorkerReply | null = null;
  const finished = (seq: number, round: number): void => {
    if (Atomics.add(gate, GATE.done, 1) + 1 < Atomics.load(gate, GATE.clients)) return;
    const done: WorkerReply = { seq, kind: 'round done', round };
    port.postMessage(done);
  };
  port.on('message', (m: WorkerCommand) => {
    if (m.op === 'close') {
      client.close();
      port.close();
      return;
    }
    if (m.op === 'report') {
      port.postMessage(kept === null ? { seq: m.seq, kind: 'error', message: 'nothing to report' } : { ...kept, seq: m.seq });
      kept = null;
      return;
    }
    const { seq, round } = m;
    if (round > 0) {
      const armed: WorkerReply = { seq, kind: 'armed' };
      port.postMessage(armed);
      // Blocks this thread only, as a shell blocks on its barrier, until the round is out.
      for (let seen = Atomics.load(gate, GATE.released); seen < round; seen = Atomics.load(gate, GATE.released)) {
        Atomics.wait(gate, GATE.released, seen);
      }
    }
    const settle = (reply: WorkerReply): void => {
      if (round === 0) port.postMessage(reply);
      else {
        kept = reply;
        finished(seq, round);
      }
    };
    client.ask(m.cwd).then(
      (a) => settle({ seq, kind: 'answer', us: a.us, env: client.env }),
      (err: unknown) => settle({ seq, kind: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

if (parentPort !== null && isSetup(workerData)) serve(parentPort, workerData);
