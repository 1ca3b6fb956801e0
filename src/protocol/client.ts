import { connect, type Socket } from 'node:net';
import { errnoCode } from '../util/errors.js';
import { ProtocolError } from './errors.js';
import { LineDecoder, encodeFrame } from './framing.js';
import { parseResponseLine, requestFrame, type RequestBody, type ResponseBody, type ResponseFrame } from './messages.js';
import { METHODS, type ReplyOf, type RequestType } from './methods.js';

/** Why a round trip to the daemon did not produce an answer. */
export type ClientErrorCode =
  /** connect() failed; `errno` says how (ENOENT: no socket, ECONNREFUSED: nobody listening, EAGAIN: backlog full). */
  | 'CONNECT'
  /** No answer within the time allowed (a frozen or overloaded daemon). */
  | 'TIMEOUT'
  /** The daemon closed the connection before answering. */
  | 'CLOSED';

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly errno: string | undefined;
  constructor(code: ClientErrorCode, message: string, errno?: string) {
    super(message);
    this.name = 'ClientError';
    this.code = code;
    this.errno = errno;
  }
}

function isReplyTo<T extends RequestType>(r: ResponseBody, expect: string): r is ReplyOf<T> {
  return r.type === expect;
}

interface Pending {
  expect: string;
  resolve: (r: ResponseFrame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One connection to the daemon, for any number of requests. The socket is unref'd while
 * nothing is pending, so a CLI that forgets to close it still exits.
 */
export class ProtocolClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder = new LineDecoder();
  private dead: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ClientError('CLOSED', `daemon connection failed: ${err.message}`, errnoCode(err))));
    socket.on('close', () => this.fail(new ClientError('CLOSED', 'the daemon closed the connection')));
    socket.unref();
  }

  /** Connect, or reject with ClientError('CONNECT', errno) / ('TIMEOUT'). */
  static connect(socketPath: string, timeoutMs: number): Promise<ProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path: socketPath });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ClientError('TIMEOUT', `no connection to ${socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        const code = errnoCode(err);
        reject(new ClientError('CONNECT', `cannot connect to ${socketPath}: ${code ?? err.message}`, code));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new ProtocolClient(socket));
      });
    });
  }

  /**
   * Send one request and wait for its reply. An `error` reply rejects with ProtocolError;
   * a reply of another type than expected rejects with ProtocolError('BAD_FRAME').
   */
  request<T extends RequestType>(body: Extract<RequestBody, { type: T }>, timeoutMs: number): Promise<ReplyOf<T>> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = this.nextId++;
    // The reply's type, as the declaration of the request says (methods.ts).
    const expect: string = METHODS[body.type].reply;
    const frame = encodeFrame(requestFrame(id, body));
    return new Promise<ResponseFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const err = new ClientError('TIMEOUT', `the daemon did not answer '${body.type}' within ${timeoutMs} ms`);
        reject(err);
        // The stream is now out of step with our ids' expectations; drop it.
        this.fail(err);
      }, timeoutMs);
      this.pending.set(id, { expect, resolve, reject, timer });
      this.socket.ref();
      this.socket.write(frame);
    }).then((r) => {
      if (r.type === 'error') throw new ProtocolError(r.error.code, r.error.message, r.error.envdCode);
      if (!isReplyTo<T>(r, expect)) throw new ProtocolError('BAD_FRAME', `expected a '${expect}' reply, got '${r.type}'`);
      return r;
    });
  }

  close(): void {
    this.fail(new ClientError('CLOSED', 'connection closed by the client'));
  }

  private onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err instanceof Error ? err : new ClientError('CLOSED', String(err)));
      return;
    }
    for (const line of lines) {
      let frame: ResponseFrame;
      try {
        frame = parseResponseLine(line);
      } catch (err) {
        this.fail(err instanceof Error ? err : new ClientError('CLOSED', String(err)));
        return;
      }
      if (frame.id === null) {
        // A reply to something the daemon could not attribute: it closes after it, so
        // every pending request fails with this error.
        if (frame.type === 'error') this.fail(new ProtocolError(frame.error.code, frame.error.message, frame.error.envdCode));
        continue;
      }
      const p = this.pending.get(frame.id);
      if (p === undefined) continue;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      p.resolve(frame);
    }
    if (this.pending.size === 0) this.socket.unref();
  }

  private fail(err: Error): void {
    if (this.dead === null) this.dead = err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.socket.destroy();
  }
}
