/**
 * The daemon's JSON-lines protocol, shared by the client (src/protocol/client.ts, used by
 * src/cli/connect.ts) and the daemon (src/daemon/connection.ts and core.ts). One frame is
 * one JSON object on one line. Every frame carries `v` (the protocol version) and `id`
 * (the client's number for the request; the reply echoes it, null when the request was
 * too broken to have one). The requests themselves are declared in methods.ts.
 *
 * Compatibility rule: `hello` and `shutdown` keep their shape in every protocol version,
 * so any client can ask any daemon who it is and tell it to go away. Every other request
 * is only served when its `v` equals the daemon's; otherwise the reply is a
 * VERSION_MISMATCH error and the client replaces the daemon.
 */
import { ProtocolError, type WireError } from './errors.js';
import { methodNamed, methodReplying, type ReplyBody, type RequestBody } from './methods.js';
import { Fields, isObject, type Obj } from './validate.js';
import { readWireError } from './wire-read.js';
import { MAX_TIMER_MS } from '../util/timer.js';

export type { RequestBody, RequestType } from './methods.js';
export type { ClientInfo, HelloInfo, WatcherState } from './wire-types.js';

export const PROTOCOL_VERSION = 1;

export type RequestFrame = RequestBody & { v: number; id: number };

export type ResponseBody = ReplyBody | { type: 'error'; error: WireError };
export type ResponseFrame = ResponseBody & { v: number; id: number | null };

// ---- parsing from unknown ---------------------------------------------------------------

function parseJsonObject(line: string, what: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError('BAD_FRAME', `${what} is not valid JSON`);
  }
  if (!isObject(value)) throw new ProtocolError('BAD_FRAME', `${what} is not a JSON object`);
  return value;
}

/** The request id if the frame has a usable one, so even a rejected request gets a matching reply. */
export function frameId(o: Obj): number | null {
  const id = o.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

/**
 * A request line, fully checked. Throws ProtocolError (BAD_FRAME, BAD_REQUEST,
 * UNKNOWN_TYPE); the caller replies with the error and closes the connection.
 */
export function parseRequest(o: Obj): RequestFrame {
  const f: Fields = new Fields(o, 'request');
  const v = f.int('v', 0);
  const id = f.int('id', 0);
  const type = o.type;
  if (typeof type !== 'string') f.fail('type', 'a string');
  const m = methodNamed(type);
  if (m === undefined) throw new ProtocolError('UNKNOWN_TYPE', `request type '${type.slice(0, 64)}' is not served by this daemon`);
  // The cast: the params were read by the method `type` names.
  return { v, id, type: m.name, ...m.readParams(f) } as RequestFrame;
}

export function parseRequestLine(line: string): RequestFrame {
  return parseRequest(parseJsonObject(line, 'request'));
}

/**
 * A response line, fully checked (the client trusts nothing it did not check either: a
 * daemon of another version may send shapes this one does not know).
 */
export function parseResponseLine(line: string): ResponseFrame {
  const o = parseJsonObject(line, 'response');
  const f: Fields = new Fields(o, 'response', 'BAD_FRAME');
  const v = f.int('v', 0);
  const idRaw = f.raw('id');
  const id = idRaw === null ? null : f.int('id', 0);
  const type = o.type;
  if (typeof type !== 'string') f.fail('type', 'a string');
  if (type === 'error') return { v, id, type, error: readWireError(f.obj('error')) };
  const m = methodReplying(type);
  if (m === undefined) throw new ProtocolError('BAD_FRAME', `response type '${type.slice(0, 64)}' is unknown`);
  // The cast: the result was read by the method whose reply `type` is.
  return (m.readResult === null ? { v, id, type: m.reply } : { v, id, type: m.reply, result: m.readResult(f.obj('result')) }) as ResponseFrame;
}

// ---- building ---------------------------------------------------------------------------

export function requestFrame(id: number, body: RequestBody): RequestFrame {
  return { v: PROTOCOL_VERSION, id, ...body };
}

export function responseFrame(id: number | null, body: ResponseBody): ResponseFrame {
  return { v: PROTOCOL_VERSION, id, ...body };
}

export function errorFrame(id: number | null, err: ProtocolError): ResponseFrame {
  return responseFrame(id, { type: 'error', error: err.toWire() });
}

/** JSON has no Infinity: budgets travel as null for "wait". */
export function budgetToWire(ms: number): number | null {
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/** Longer than a Node timer holds (about 24.8 days) is as good as "wait". */
export function budgetFromWire(ms: number | null): number {
  return ms === null || ms > MAX_TIMER_MS ? Number.POSITIVE_INFINITY : ms;
}
