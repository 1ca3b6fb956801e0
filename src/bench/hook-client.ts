/**
 * A client that speaks the hook records protocol on the daemon's socket exactly as the
 * zsh hook does (docs/protocol.md "A kept connection"; flag `n` on entry with `entering`,
 * see HookClientOptions): one connection, kept open across
 * requests; a request on a kept connection that the daemon closed meanwhile is sent once
 * more on a new one; a request that goes unanswered drops the connection. It keeps its own
 * exported environment and applies each answer to it. It measures the daemon alone: no
 * shell is running around it.
 */
import { statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { decodeReply, encodeRequest, type HookRecord } from '../protocol/hook-records.js';

export interface HookAnswer {
  records: HookRecord[];
  /** Microseconds from sending the request (connecting first, if it had to) to the closing `z`. */
  us: number;
}

export interface HookClientOptions {
  /**
   * Send flag `n` when the env file found from the cwd is not the one found at the last
   * answer, as the bash and zsh hooks do (`_envd_found`): every `cd` into or out of a
   * project then asks the daemon to run the file on entry. Off: every request is the one a
   * prompt sends without a `cd` (the generation moved), which the daemon may replay.
   */
  entering?: boolean;
}

/** A request encoded ahead of its sending (HookClient.prepare). */
export interface PreparedRequest {
  id: string;
  bytes: Buffer;
  /** The env file found from its cwd (the hooks' `_envd_found` once it is answered). */
  found: string;
}

/** A prepared request's reply, whole and not decoded yet, and its time. */
export interface SentRequest {
  reply: Buffer;
  /** Microseconds from sending the request (connecting first, if it had to) to the reply's last byte. */
  us: number;
}

/** The hooks' default marker names until a `k` record says otherwise. */
const DEFAULT_MARKERS = ['.envrc'];

export class HookClient {
  private seq = 0;
  /** The env file found at the last answer ('-': none yet, as the hooks' `_envd_found`). */
  private found = '-';
  private markers: readonly string[] = DEFAULT_MARKERS;
  env: Record<string, string>;
  private sock: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  /** The request waiting for its answer: told of data, errors and the end of the connection. */
  private waiter: ((ev: { data?: Buffer; err?: Error }) => void) | null = null;

  constructor(private readonly socket: string, env: Record<string, string>, private readonly tag: string, private readonly opts: HookClientOptions = {}) {
    this.env = { ...env };
  }

  /** One request for `cwd`; its changes are applied to `env`. */
  async ask(cwd: string, timeoutMs = 10_000): Promise<HookAnswer> {
    const req = this.prepare(cwd);
    return this.settle(req, await this.send(req, timeoutMs));
  }

  /**
   * The request for `cwd`, encoded ahead of sending it, as a shell has its request ready
   * when its prompt comes (finding the env file and encoding the environment is the
   * shell's own work, not the daemon's): a burst then times only the write and the reply.
   */
  prepare(cwd: string): PreparedRequest {
    const found = this.opts.entering === true ? this.find(cwd) : '';
    const flags = this.opts.entering === true && found !== this.found ? 'n' : '';
    const id = `${this.tag}-${++this.seq}`;
    return { id, found, bytes: encodeRequest({ id, shell: 'bash', flags, cwd }, Object.entries(this.env)) };
  }

  /**
   * Send a prepared request and wait for its reply, whole (its closing `z` record), without
   * decoding it (settle does): `us` runs from the write (connecting first, if it had to) to
   * the reply's last byte.
   */
  async send(req: PreparedRequest, timeoutMs = 10_000): Promise<SentRequest> {
    const kept = this.sock !== null;
    try {
      return await this.once(req, timeoutMs);
    } catch (err) {
      // The daemon closed a kept connection (idle, restarted): once more on a new one.
      if (!kept || !(err instanceof ClosedError)) throw err;
      return this.once(req, timeoutMs);
    }
  }

  /** Decode the reply to a sent request and apply its changes to `env`. */
  settle(req: PreparedRequest, sent: SentRequest): HookAnswer {
    const r = decodeReply(sent.reply, req.id);
    if (r.status === 'invalid') throw new Error(`bad answer to ${req.id}: ${r.reason}`);
    if (r.status !== 'complete' || r.bytes !== sent.reply.length) throw new Error(`bad answer to ${req.id}: not one whole reply`);
    this.apply(r.records);
    this.found = req.found;
    return { records: r.records, us: sent.us };
  }

  /** The env file the hooks would find from `dir` walking up ('' none): their `_envd_find`. */
  private find(dir: string): string {
    for (let d = dir; ; d = dirname(d)) {
      for (const m of this.markers) {
        const f = join(d, m);
        if (statSync(f, { throwIfNoEntry: false })?.isFile() === true) return f;
      }
      if (dirname(d) === d) return '';
    }
  }

  /** Close the kept connection (the shell exits). */
  close(): void {
    this.drop();
  }

  private once(req: PreparedRequest, timeoutMs: number): Promise<SentRequest> {
    const { id } = req;
    // The reply ends with its `z` record, the only field sequence that can end it: a NUL
    // (the end of the record before), `z`, the id.
    const tail = Buffer.from(`\0z\0${id}\0`, 'latin1');
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      let done = false;
      const finish = (err: Error | null, sent?: SentRequest): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiter = null;
        // A connection with an answer still to come (or a broken one) is not reused.
        if (err !== null) this.drop();
        if (err !== null || sent === undefined) reject(err ?? new Error('no answer'));
        else resolve(sent);
      };
      const timer = setTimeout(() => finish(new Error(`no answer to ${id} in ${timeoutMs} ms`)), timeoutMs);
      this.waiter = (ev) => {
        if (ev.err !== undefined) { finish(ev.err); return; }
        if (ev.data !== undefined) this.buf = this.buf.length === 0 ? ev.data : Buffer.concat([this.buf, ev.data]);
        const buf = this.buf;
        if (buf.length >= tail.length && buf.compare(tail, 0, tail.length, buf.length - tail.length) === 0) {
          const us = (performance.now() - t0) * 1000;
          this.buf = Buffer.alloc(0);
          finish(null, { reply: buf, us });
        }
      };
      const sock = this.sock ?? this.open();
      sock.write(req.bytes);
    });
  }

  private open(): Socket {
    const sock = connect(this.socket);
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => { if (this.sock === sock) this.waiter?.({ data: chunk }); });
    sock.on('error', (err) => { if (this.sock === sock) this.waiter?.({ err: new ClosedError(err.message) }); });
    sock.on('close', () => { if (this.sock === sock) this.waiter?.({ err: new ClosedError('connection closed before the answer') }); });
    return sock;
  }

  private drop(): void {
    this.sock?.destroy();
    this.sock = null;
    this.buf = Buffer.alloc(0);
  }

  private apply(records: HookRecord[]): void {
    for (const r of records) {
      if (r.t === 'x') this.env[r.name] = r.value;
      else if (r.t === 'u') delete this.env[r.name];
      else if (r.t === 'k' && r.markers.length > 0) this.markers = r.markers;
    }
  }
}

class ClosedError extends Error {}
