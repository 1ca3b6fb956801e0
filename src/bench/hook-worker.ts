/**
 * One hook client (hook-client.ts) in its own worker thread, driven by hook-pool.ts. Like
 * a shell, each client has its own thread and event loop: it wakes when its own reply
 * arrives, not after the replies of 49 other clients sharing one loop have been read,
 * decoded and applied. Importing this module outside a pool's worker does nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HookClient, type HookClientOptions } from './hook-client.js';

export interface WorkerSetup {
  socket: string;
  env: Record<string, string>;
  tag: string;
  opts: HookClientOptions;
  /** The pool's gate: index 0 is the last round released (Atomics.notify wakes all). */
  gate: SharedArrayBuffer;
}

/** From the pool: ask now (`round` 0), or once `round` is released through the gate. */
export interface WorkerAsk {
  seq: number;
  cwd: string;
  round: number;
}

export type WorkerReply =
  | { seq: number; kind: 'armed' }
  | { seq: number; kind: 'answer'; us: number; env: Record<string, string> }
  | { seq: number; kind: 'error'; message: string };

function isSetup(v: unknown): v is WorkerSetup {
  return typeof v === 'object' && v !== null && 'gate' in v && v.gate instanceof SharedArrayBuffer;
}

function serve(port: NonNullable<typeof parentPort>, setup: WorkerSetup): void {
  const client = new HookClient(setup.socket, setup.env, setup.tag, setup.opts);
  const gate = new Int32Array(setup.gate);
  port.on('message', (m: WorkerAsk | 'close') => {
    if (m === 'close') {
      client.close();
      port.close();
      return;
    }
    if (m.round > 0) {
      const armed: WorkerReply = { seq: m.seq, kind: 'armed' };
      port.postMessage(armed);
      // Blocks this thread only, as a shell blocks on its barrier, until the round is out.
      for (let seen = Atomics.load(gate, 0); seen < m.round; seen = Atomics.load(gate, 0)) Atomics.wait(gate, 0, seen);
    }
    client.ask(m.cwd).then((a) => {
      const reply: WorkerReply = { seq: m.seq, kind: 'answer', us: a.us, env: client.env };
      port.postMessage(reply);
    }, (err: unknown) => {
      const reply: WorkerReply = { seq: m.seq, kind: 'error', message: err instanceof Error ? err.message : String(err) };
      port.postMessage(reply);
    });
  });
}

if (parentPort !== null && isSetup(workerData)) serve(parentPort, workerData);
