import type { ErrorCode } from '../util/errors.js';

/**
 * Stable codes for what went wrong on the wire. Clients branch on these, tests assert
 * them, and `docs/protocol.md` lists them; never renumber or reuse one.
 *
 * BAD_FRAME: the line is not JSON, or not a JSON object · FRAME_TOO_LARGE: a frame (or
 * the bytes buffered towards one) is over MAX_FRAME_BYTES · BAD_REQUEST: a known request
 * type with a missing or mistyped field · UNKNOWN_TYPE: `type` is not one this daemon
 * serves · VERSION_MISMATCH: the frame's `v` is not this daemon's protocol version (hello
 * and shutdown excepted) · SERVICE_ERROR: the engine refused the request; `envdCode`
 * carries the engine's own code · SHUTTING_DOWN: the daemon is stopping and takes no more
 * requests · IDENTITY_MISMATCH: the client's identity (HOME, config and data dirs) is not
 * the daemon's, or it sent no hello saying what it is: the daemon serves only its own
 * identity · INTERNAL: a bug, the daemon caught something it did not expect.
 */
export const PROTOCOL_ERROR_CODES = [
  'BAD_FRAME', 'FRAME_TOO_LARGE', 'BAD_REQUEST', 'UNKNOWN_TYPE', 'VERSION_MISMATCH',
  'SERVICE_ERROR', 'SHUTTING_DOWN', 'IDENTITY_MISMATCH', 'INTERNAL',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set<string>(PROTOCOL_ERROR_CODES);

export function isProtocolErrorCode(v: unknown): v is ProtocolErrorCode {
  return typeof v === 'string' && CODES.has(v);
}

/** The error object carried in an `error` response. */
export interface WireError {
  code: ProtocolErrorCode;
  message: string;
  /** For SERVICE_ERROR: the EnvdError code the engine threw, so the CLI reports it unchanged. */
  envdCode?: ErrorCode;
}

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  readonly envdCode: ErrorCode | undefined;
  constructor(code: ProtocolErrorCode, message: string, envdCode?: ErrorCode) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.envdCode = envdCode;
  }

  toWire(): WireError {
    return this.envdCode === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, envdCode: this.envdCode };
  }
}
