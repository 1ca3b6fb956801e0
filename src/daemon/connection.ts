import type { Socket } from 'node:net';
import { ProtocolError } from '../protocol/errors.js';
import { LineDecoder, MAX_FRAME_BYTES, encodeFrame } from '../protocol/framing.js';
import { errorFrame, frameId, parseRequest, responseFrame, type RequestFrame, type ResponseBody } from '../protocol/messages.js';
import { isObject } from '../protocol/validate.js';
import { errorMessage } from '../util/errors.js';
import type { Backend, SessionState } from './backend.js';
import type { DaemonLogger } from './log.js';

export interface ConnectionOptions {
  log: DaemonLogger;
  /** Who answers the JSON requests. */
  backend: Pick<Backend, 'handle'>;
  /** Hand a hook-records stream (first byte `E`) to the hook side. */
  hook: (socket: Socket) => void;
  /** A connection that has said nothing, or nothing more, for this long is closed. */
  idleMs: number;
  maxFrameBytes?: number;
}

const JSON_START = 0x7b; // '{'
const HOOK_START = 0x45; // 'E'

/**
 * One accepted connection. The first byte picks the protocol; anything wrong with what
 * the peer sends ends this connection (after an error reply where a reply makes sense)
 * and nothing else.
 */
export function serveConnection(socket: Socket, o: ConnectionOptions): void {
  socket.setTimeout(o.idleMs);
  socket.on('timeout', () => {
    o.log.debug('idle connection closed');
    socket.destroy();
  });
  socket.on('error', (err) => {
    o.log.debug({ err: errorMessage(err) }, 'connection error');
  });
  // Paused mode until the first byte decides who reads the rest.
  const onReadable = (): void => {
    const chunk: unknown = socket.read();
    if (!Buffer.isBuffer(chunk) || chunk.length === 0) return;
    socket.off('readable', onReadable);
    const first = chunk[0];
    if (first === HOOK_START) {
      socket.unshift(chunk);
      o.hook(socket);
      return;
    }
    if (first === JSON_START) {
      new JsonSession(socket, o).start(chunk);
      return;
    }
    o.log.debug({ first }, 'unknown protocol byte; closing');
    socket.end(encodeFrame(errorFrame(null, new ProtocolError('BAD_FRAME', "a connection must start with '{' (JSON lines) or 'E' (hook records)"))));
    socket.destroySoon();
  };
  socket.on('readable', onReadable);
}

class JsonSession {
  private readonly decoder: LineDecoder;
  private queue: Promise<void> = Promise.resolve();
  private closing = false;
  private readonly session: SessionState = { identityOk: false };

  constructor(private readonly socket: Socket, private readonly o: ConnectionOptions) {
    this.decoder = new LineDecoder(o.maxFrameBytes ?? MAX_FRAME_BYTES);
  }

  start(first: Buffer): void {
    this.onData(first);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => {
      if (this.decoder.buffered > 0) this.o.log.debug({ bytes: this.decoder.buffered }, 'half frame at end of stream dropped');
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    let lines: string[];
    try {
      lines = this.decoder.push(chunk);
    } catch (err) {
      this.reject(null, err);
      return;
    }
    for (const line of lines) {
      if (this.closing) return;
      let frame: RequestFrame;
      let id: number | null = null;
      try {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          throw new ProtocolError('BAD_FRAME', 'request is not valid JSON');
        }
        if (!isObject(parsed)) throw new ProtocolError('BAD_FRAME', 'request is not a JSON object');
        id = frameId(parsed);
        frame = parseRequest(parsed);
      } catch (err) {
        this.reject(id, err);
        return;
      }
      this.queue = this.queue.then(() => this.answer(frame));
    }
  }

  private async answer(frame: RequestFrame): Promise<void> {
    if (this.closing || this.socket.destroyed) return;
    let body: ResponseBody;
    try {
      body = await this.o.backend.handle(frame, this.session);
    } catch (err) {
      if (err instanceof ProtocolError && err.code !== 'SERVICE_ERROR' && err.code !== 'INTERNAL') {
        // A request this daemon will not serve (version mismatch...): reply and close.
        this.reject(frame.id, err);
        return;
      }
      const pe = err instanceof ProtocolError ? err : new ProtocolError('INTERNAL', errorMessage(err));
      this.write(errorFrame(frame.id, pe));
      return;
    }
    this.write(responseFrame(frame.id, body));
  }

  private write(frame: object): void {
    if (this.socket.destroyed) return;
    let text: string;
    try {
      text = encodeFrame(frame);
    } catch (err) {
      this.reject(null, err);
      return;
    }
    this.socket.write(text);
  }

  /** A bad request: one error reply, then the connection ends. */
  private reject(id: number | null, err: unknown): void {
    if (this.closing) return;
    this.closing = true;
    const pe = err instanceof ProtocolError ? err : new ProtocolError('INTERNAL', errorMessage(err));
    this.o.log.debug({ code: pe.code, msg: pe.message }, 'bad request; closing connection');
    if (this.socket.destroyed) return;
    this.socket.end(encodeFrame(errorFrame(id, pe)));
    // Stop reading whatever else the peer sends; close once the reply is flushed.
    this.socket.pause();
    this.socket.destroySoon();
  }
}
