/**
 * A client that speaks the hook records protocol on the daemon's socket exactly as the
 * zsh hook does (one connection per request; docs/architecture.md "Hook records"), keeps
 * its own exported environment and applies each answer to it. It measures the daemon
 * alone: no shell is running around it.
 */
import { connect } from 'node:net';
import { decodeReply, encodeRequest, type HookRecord } from '../protocol/hook-records.js';

export interface HookAnswer {
  records: HookRecord[];
  /** Microseconds from connecting to the closing `z`. */
  us: number;
}

export class HookClient {
  private seq = 0;
  env: Record<string, string>;

  constructor(private readonly socket: string, env: Record<string, string>, private readonly tag: string) {
    this.env = { ...env };
  }

  /** One request for `cwd`; its changes are applied to `env`. */
  ask(cwd: string, timeoutMs = 10_000): Promise<HookAnswer> {
    const id = `${this.tag}-${++this.seq}`;
    const req = encodeRequest({ id, shell: 'bash', cwd }, Object.entries(this.env));
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const sock = connect(this.socket);
      let buf = Buffer.alloc(0);
      let done = false;
      const finish = (err: Error | null, answer?: HookAnswer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (err !== null || answer === undefined) reject(err ?? new Error('no answer'));
        else resolve(answer);
      };
      const timer = setTimeout(() => finish(new Error(`no answer to ${id} in ${timeoutMs} ms`)), timeoutMs);
      sock.on('connect', () => sock.write(req));
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        const r = decodeReply(buf, id);
        if (r.status === 'invalid') finish(new Error(`bad answer to ${id}: ${r.reason}`));
        else if (r.status === 'complete') {
          const us = (performance.now() - t0) * 1000;
          this.apply(r.records);
          finish(null, { records: r.records, us });
        }
      });
      sock.on('error', (err) => finish(err));
      sock.on('close', () => finish(new Error(`connection closed before the answer to ${id}`)));
    });
  }

  private apply(records: HookRecord[]): void {
    for (const r of records) {
      if (r.t === 'x') this.env[r.name] = r.value;
      else if (r.t === 'u') delete this.env[r.name];
    }
  }
}
