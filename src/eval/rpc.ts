import type { Socket } from 'node:net';
import type { RpcContext, RpcHandler, RpcReply } from './rpc-types.js';
import { errorMessage } from '../util/errors.js';
import { decodeBytes, encodeBytes } from '../env/bytes.js';

/** Largest request bash may send (the final dump included): keeps memory bounded. */
export const MAX_RPC_BYTES = 32 * 1024 * 1024;

export type DumpFields = Buffer[];

/**
 * Serves the stdlib's requests on the private socket. Requests are handled one at a time
 * in order (bash waits for each reply). `dump` gets no reply: bash sends it from its EXIT
 * trap and leaves.
 */
/**
 * Splits the private socket's byte stream into requests: a field count, then that many
 * fields, each ended by a NUL. Bounded: more than MAX_RPC_BYTES in all is fatal.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private total = 0;

  constructor(
    private readonly onFrame: (fields: Buffer[]) => void,
    private readonly onBad: (why: string) => void,
  ) {}

  /** Count from zero again (a fork server's next evaluation). */
  restart(): void {
    this.total = 0;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.total > MAX_RPC_BYTES) {
      this.onBad(`the evaluation sent more than ${MAX_RPC_BYTES >> 20} MiB to envd`);
      return;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const req = this.take();
      if (req === null) return;
      this.onFrame(req);
    }
  }

  /** One whole request off the buffer, or null while it is incomplete. */
  private take(): Buffer[] | null {
    const first = this.buf.indexOf(0);
    if (first < 0) return null;
    const count = Number.parseInt(this.buf.subarray(0, first).toString('latin1'), 10);
    if (!Number.isSafeInteger(count) || count < 1) {
      this.buf = Buffer.alloc(0);
      this.onBad('malformed request from the stdlib');
      return null;
    }
    const fields: Buffer[] = [];
    let pos = first + 1;
    for (let i = 0; i < count; i++) {
      const end = this.buf.indexOf(0, pos);
      if (end < 0) return null;
      fields.push(this.buf.subarray(pos, end));
      pos = end + 1;
    }
    this.buf = this.buf.subarray(pos);
    return fields;
  }
}

/**
 * Serves the stdlib's requests on the private socket. Requests are handled one at a time
 * in order (bash waits for each reply). `dump` gets no reply: bash sends it from its EXIT
 * trap and leaves. With `listen` false the socket is read by someone else (a fork
 * server's, shared by its evaluations one after the other), who hands requests to accept.
 */
export class RpcServer {
  private readonly reader: FrameReader | null;
  private chain: Promise<void> = Promise.resolve();
  dump: DumpFields | null = null;
  dumpKind: 'dump' | 'dump-px' = 'dump';
  error: string | null = null;
  /**
   * The handlers by name, as a Map: names come from the evaluated file (`__envd_rpc
   * constructor`), and a plain object would hand out Object.prototype's functions.
   */
  private readonly handlers: ReadonlyMap<string, RpcHandler>;

  constructor(
    private readonly sock: Socket,
    handlers: Readonly<Record<string, RpcHandler>>,
    private readonly ctx: RpcContext,
    private readonly onFatal: (why: string) => void,
    listen = true,
  ) {
    this.handlers = new Map(Object.entries(handlers));
    this.reader = listen ? new FrameReader((f) => this.accept(f), (why) => this.fail(why)) : null;
    if (listen) {
      sock.on('data', (chunk: Buffer) => this.reader?.push(chunk));
      sock.on('error', () => { /* bash went away; the exit status tells the story */ });
    }
  }

  fail(why: string): void {
    this.error = why;
    this.onFatal(why);
  }

  /** Queue one request behind those before it. */
  accept(req: Buffer[]): void {
    // Whatever a handler does, the chain never rejects: a rejection nobody catches would
    // stop the daemon.
    this.chain = this.chain.then(() => this.handle(req)).catch((err: unknown) => {
      this.fail(`envd failed to answer a request of the evaluation: ${errorMessage(err)}`);
    });
  }

  private async handle(fields: Buffer[]): Promise<void> {
    const name = fields[0]?.toString('latin1') ?? '';
    if (name === 'dump' || name === 'dump-px') {
      // 'dump': NAME, VALUE, ...; 'dump-px': one field, bash's `declare -px` output.
      this.dump = fields.slice(1);
      this.dumpKind = name;
      return;
    }
    const handler = this.handlers.get(name);
    let reply: RpcReply;
    if (handler === undefined) {
      reply = { ok: false, message: `envd does not know the request '${name.slice(0, 64)}' (stdlib and envd versions differ?)` };
    } else {
      try {
        // Arguments are bytes (paths, values): byte strings keep them exactly (bytes.ts).
        reply = await handler(fields.slice(1).map(decodeBytes), this.ctx);
      } catch (err) {
        reply = { ok: false, message: errorMessage(err) };
      }
    }
    this.write(reply);
  }

  private write(reply: RpcReply): void {
    const fields: (string | Buffer)[] = reply.ok ? ['ok', String(reply.fields.length), ...reply.fields] : ['err', '1', reply.message.replace(/\0/g, '')];
    const parts: Buffer[] = [];
    for (const f of fields) {
      parts.push(typeof f === 'string' ? encodeBytes(f) : f, Buffer.from([0]));
    }
    if (!this.sock.destroyed) this.sock.write(Buffer.concat(parts));
  }

  /** Wait for queued handlers (the dump may be the last thing queued). */
  async settled(): Promise<void> {
    await this.chain;
  }
}
