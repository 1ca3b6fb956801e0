/**
 * The daemon's JSON-lines protocol, shared by the client (src/cli/connect.ts) and the
 * daemon (src/daemon/server.ts). One frame is one JSON object on one line. Every frame
 * carries `v` (the protocol version) and `id` (the client's number for the request; the
 * reply echoes it, null when the request was too broken to have one).
 *
 * Compatibility rule: `hello` and `shutdown` keep their shape in every protocol version,
 * so any client can ask any daemon who it is and tell it to go away. Every other request
 * is only served when its `v` equals the daemon's; otherwise the reply is a
 * VERSION_MISMATCH error and the client replaces the daemon.
 */
import type { Identity } from '../config/identity.js';
import type { ExportOutcome, ExportRequest, OutcomeKind } from '../engine/types.js';
import type { StatusInfo, TrustChange } from '../engine/service-types.js';
import type { ErrorCode } from '../util/errors.js';
import { ProtocolError, isProtocolErrorCode, type WireError } from './errors.js';
import { Fields, isObject, type Obj } from './validate.js';
import { MAX_TIMER_MS } from '../util/timer.js';

export const PROTOCOL_VERSION = 1;

// ---- requests -------------------------------------------------------------------------

/**
 * Who a client is. `identity` (absent from clients before it existed) is checked by the
 * daemon: requests on a connection are served only after a hello whose identity is the
 * daemon's own.
 */
export interface ClientInfo {
  version: string;
  protocol: number;
  pid: number;
  identity: Identity | null;
}

export type RequestBody =
  | { type: 'hello'; client: ClientInfo }
  | { type: 'ping' }
  /** budgetMs: how long the daemon may wait for an evaluation before answering `pending`; null: wait. */
  | { type: 'export'; req: ExportRequest; budgetMs: number | null }
  | { type: 'allow'; path: string; cwd: string }
  | { type: 'deny'; path: string; cwd: string }
  | { type: 'prune' }
  | { type: 'status'; req: ExportRequest }
  | { type: 'shutdown' };

export type RequestType = RequestBody['type'];
export type RequestFrame = RequestBody & { v: number; id: number };

export const REQUEST_TYPES: readonly RequestType[] = ['hello', 'ping', 'export', 'allow', 'deny', 'prune', 'status', 'shutdown'];

/** Requests every protocol version understands the same way. */
export function isVersionFree(type: RequestType): boolean {
  return type === 'hello' || type === 'shutdown';
}

// ---- responses ------------------------------------------------------------------------

export type WatcherState = 'on' | 'off' | 'degraded';

/** What `hello` answers: enough to decide whether to keep this daemon, and for `daemon status`. */
export interface HelloInfo {
  pid: number;
  /** The daemon's package version. */
  version: string;
  protocol: number;
  socket: string;
  startedAt: number;
  uptimeMs: number;
  generation: number;
  /** Dependency paths of cached environments covered by an established watch. */
  watched: number;
  /** Directories asked for but not watched yet (the watcher works asynchronously). */
  watchPending: number;
  /** Evaluated environments in the cache. */
  cached: number;
  watcher: WatcherState;
  /** False when the engine could not be loaded: the daemon answers hello but no work. */
  engine: boolean;
  /** Whose config and allowlist the daemon uses (null from daemons that do not say). */
  identity: Identity | null;
}

export type ResponseBody =
  | { type: 'hello'; result: HelloInfo }
  | { type: 'pong' }
  | { type: 'export'; result: ExportOutcome }
  | { type: 'allow'; result: TrustChange }
  | { type: 'deny'; result: TrustChange }
  | { type: 'prune'; result: { removed: number } }
  | { type: 'status'; result: StatusInfo }
  | { type: 'shutdown'; result: { pid: number } }
  | { type: 'error'; error: WireError };

export type ResponseType = ResponseBody['type'];
export type ResponseFrame = ResponseBody & { v: number; id: number | null };

/** The response type a request is answered with (besides `error`). */
export type ResponseFor<T extends RequestType> = T extends 'ping' ? 'pong' : T;

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

function parseExportRequest(f: Fields): ExportRequest {
  return { cwd: f.str('cwd'), env: f.strRecord('env') };
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
  switch (type) {
    case 'hello': {
      const c = f.obj('client');
      const identity = c.has('identity') && c.raw('identity') !== null ? parseIdentity(c.obj('identity')) : null;
      return { v, id, type, client: { version: c.str('version'), protocol: c.int('protocol', 0), pid: c.int('pid', 0), identity } };
    }
    case 'ping':
    case 'prune':
    case 'shutdown':
      return { v, id, type };
    case 'export':
      return { v, id, type, req: parseExportRequest(f.obj('req')), budgetMs: f.numOrNull('budgetMs', 0) };
    case 'allow':
    case 'deny':
      return { v, id, type, path: f.str('path'), cwd: f.str('cwd') };
    case 'status':
      return { v, id, type, req: parseExportRequest(f.obj('req')) };
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `request type '${type.slice(0, 64)}' is not served by this daemon`);
  }
}

function parseIdentity(f: Fields): Identity {
  return { home: f.str('home'), configDir: f.str('configDir'), direnvConfigDir: f.str('direnvConfigDir'), dataDir: f.str('dataDir') };
}

export function parseRequestLine(line: string): RequestFrame {
  return parseRequest(parseJsonObject(line, 'request'));
}

const OUTCOME_KINDS: readonly OutcomeKind[] = ['noop', 'loaded', 'unloaded', 'blocked', 'denied', 'failed', 'pending'];
const WATCHER_STATES: readonly WatcherState[] = ['on', 'off', 'degraded'];
const FOUND_KINDS = ['envrc', 'dotenv', 'go-auto'] as const;
const ENVD_CODES: readonly ErrorCode[] = [
  'CONFIG_INVALID', 'ALLOWLIST_CORRUPT', 'ALLOWLIST_PERMISSIONS', 'ALLOWLIST_KEY', 'ALLOWLIST_LOCKED',
  'RUNTIME_DIR_UNSAFE', 'SOCKET_PATH_TOO_LONG', 'DAEMON_UNREACHABLE', 'PROTOCOL', 'NOT_FOUND', 'USAGE',
  'FILE_UNSAFE', 'PATH_NOT_UTF8', 'PATH_TOO_LONG', 'EVAL_FAILED', 'GO_NOT_INSTALLED', 'INTERNAL',
];

function parseOutcome(f: Fields): ExportOutcome {
  const c = f.obj('change');
  return {
    kind: f.oneOf('kind', OUTCOME_KINDS),
    change: { set: c.strRecord('set'), unset: c.strList('unset') },
    messages: f.strList('messages'),
    file: f.strOrNull('file'),
  };
}

function parseTrustChange(f: Fields): TrustChange {
  return { file: f.str('file'), message: f.str('message') };
}

function parseStatus(f: Fields): StatusInfo {
  const d = f.obj('daemon');
  return {
    cwd: f.str('cwd'),
    found: f.strOrNull('found'),
    foundKind: f.oneOfOrNull('foundKind', FOUND_KINDS),
    trust: f.str('trust'),
    trustDetail: f.str('trustDetail'),
    loadedDir: f.strOrNull('loadedDir'),
    loadedFile: f.strOrNull('loadedFile'),
    changed: f.strList('changed'),
    daemon: { running: d.bool('running'), pid: d.intOrNull('pid', 0), version: d.strOrNull('version') },
    configFiles: f.strList('configFiles'),
    configWarnings: f.strList('configWarnings'),
  };
}

/**
 * Hello is the one reply every version must be able to read from every other, so only
 * pid, version and protocol are required; the rest defaults when a daemon does not send it
 * (the client then replaces that daemon on the version check, instead of failing to parse).
 */
function parseHello(f: Fields): HelloInfo {
  const opt = <T>(field: string, read: () => T, fallback: T): T => (f.has(field) ? read() : fallback);
  return {
    pid: f.int('pid', 0),
    version: f.str('version'),
    protocol: f.int('protocol', 0),
    socket: opt('socket', () => f.str('socket'), ''),
    startedAt: opt('startedAt', () => f.num('startedAt', 0), 0),
    uptimeMs: opt('uptimeMs', () => f.num('uptimeMs', 0), 0),
    generation: opt('generation', () => f.int('generation', 0), 0),
    watched: opt('watched', () => f.int('watched', 0), 0),
    watchPending: opt('watchPending', () => f.int('watchPending', 0), 0),
    cached: opt('cached', () => f.int('cached', 0), 0),
    watcher: opt('watcher', () => f.oneOf('watcher', WATCHER_STATES), 'off'),
    engine: opt('engine', () => f.bool('engine'), true),
    identity: f.has('identity') && f.raw('identity') !== null ? parseIdentity(f.obj('identity')) : null,
  };
}

function parseWireError(f: Fields): WireError {
  const code = f.raw('code');
  if (!isProtocolErrorCode(code)) f.fail('code', 'a protocol error code');
  const message = f.str('message');
  const envd = f.raw('envdCode');
  const envdCode = ENVD_CODES.find((c) => c === envd);
  return envdCode === undefined ? { code, message } : { code, message, envdCode };
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
  switch (type) {
    case 'hello': return { v, id, type, result: parseHello(f.obj('result')) };
    case 'pong': return { v, id, type };
    case 'export': return { v, id, type, result: parseOutcome(f.obj('result')) };
    case 'allow': return { v, id, type, result: parseTrustChange(f.obj('result')) };
    case 'deny': return { v, id, type, result: parseTrustChange(f.obj('result')) };
    case 'prune': return { v, id, type, result: { removed: f.obj('result').int('removed', 0) } };
    case 'status': return { v, id, type, result: parseStatus(f.obj('result')) };
    case 'shutdown': return { v, id, type, result: { pid: f.obj('result').int('pid', 0) } };
    case 'error': return { v, id, type, error: parseWireError(f.obj('error')) };
    default:
      throw new ProtocolError('BAD_FRAME', `response type '${type.slice(0, 64)}' is unknown`);
  }
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
