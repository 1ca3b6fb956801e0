import { ProtocolError } from './errors.js';

/**
 * Largest frame either side accepts. An exported environment is at most a few hundred KiB
 * (values are capped at 128 KiB each); 16 MiB leaves room and still bounds memory per
 * connection.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into newline-terminated frames. Bytes after the last newline are
 * kept until the rest arrives; if they grow past the cap before a newline shows up, the
 * stream is rejected (a peer that never sends a newline cannot make us buffer forever).
 */
export class LineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBytes: number = MAX_FRAME_BYTES) {}

  /** Frames completed by this chunk (without their newline). Throws FRAME_TOO_LARGE. */
  push(chunk: Buffer): string[] {
    const frames: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      this.check(this.pendingBytes + piece.length);
      if (this.pendingBytes === 0) {
        frames.push(piece.toString('utf8'));
      } else {
        this.pending.push(piece);
        frames.push(Buffer.concat(this.pending, this.pendingBytes + piece.length).toString('utf8'));
        this.pending = [];
        this.pendingBytes = 0;
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.check(this.pendingBytes + rest.length);
      // Copy: the caller's chunk buffer may be reused by the stream.
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return frames;
  }

  /** Bytes of a frame that has started but not ended (a half frame at EOF). */
  get buffered(): number {
    return this.pendingBytes;
  }

  private check(size: number): void {
    if (size > this.maxBytes) {
      throw new ProtocolError('FRAME_TOO_LARGE', `frame larger than ${this.maxBytes} bytes`);
    }
  }
}

/** One frame: compact JSON and a newline. JSON escapes newlines inside strings. */
export function encodeFrame(message: object, maxBytes: number = MAX_FRAME_BYTES): string {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) + 1 > maxBytes) {
    throw new ProtocolError('FRAME_TOO_LARGE', `reply larger than ${maxBytes} bytes`);
  }
  return text + '\n';
}
