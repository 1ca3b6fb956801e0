/**
 * Every request of the daemon's JSON protocol, declared once (the idea of vscode-jsonrpc's
 * RequestType): its name, the `type` of its reply, how its params and its result are read
 * from JSON, and two rules the daemon applies to it. The frame types (messages.ts), the
 * client (client.ts) and the daemon's dispatch (dispatch.ts) all derive from METHODS:
 * adding a request is one entry here and one handler in the daemon (src/daemon/core.ts).
 */
import type { Fields } from './validate.js';
import {
  readClient, readExportRequest, readHello, readOutcome, readStatus, readTrustChange,
} from './wire-read.js';

export interface Method<N extends string, Rep extends string, P extends object, R> {
  readonly name: N;
  /** The reply's `type` on the wire (`ping` is answered `pong`). */
  readonly reply: Rep;
  /**
   * Served whatever the frame's `v`: hello and shutdown keep their shape in every protocol
   * version, so any client can ask any daemon who it is and tell it to go away.
   */
  readonly versionFree: boolean;
  /** The answer depends on whose config and allowlist are used: only after a hello of the daemon's identity. */
  readonly needsIdentity: boolean;
  /** The params from the request object (each field checked; a bad one is BAD_REQUEST). */
  readParams(f: Fields): P;
  /** The result from the reply's `result`; null: the reply carries none. */
  readonly readResult: ((f: Fields) => R) | null;
}

function method<N extends string, Rep extends string, P extends object, R>(m: Method<N, Rep, P, R>): Method<N, Rep, P, R> {
  return m;
}

type NoParams = Record<never, never>;
const noParams = (): NoParams => ({});
const path = (f: Fields): { path: string; cwd: string } => ({ path: f.str('path'), cwd: f.str('cwd') });

export const METHODS = {
  hello: method({
    name: 'hello', reply: 'hello', versionFree: true, needsIdentity: false,
    readParams: (f) => ({ client: readClient(f.obj('client')) }),
    readResult: readHello,
  }),
  ping: method<'ping', 'pong', NoParams, undefined>({
    name: 'ping', reply: 'pong', versionFree: false, needsIdentity: false,
    readParams: noParams,
    readResult: null,
  }),
  export: method({
    name: 'export', reply: 'export', versionFree: false, needsIdentity: true,
    /**
     * budgetMs: how long the daemon may wait for an evaluation before answering `pending`;
     * null: wait. coarse: the asking shell sees a new generation only as a new mtime second
     * or inode (tcsh: core.ts export); a client that does not say (an older CLI) is taken as one.
     */
    readParams: (f) => ({ req: readExportRequest(f.obj('req')), budgetMs: f.numOrNull('budgetMs', 0), ...(f.has('coarse') ? { coarse: f.bool('coarse') } : {}) }),
    readResult: readOutcome,
  }),
  allow: method({ name: 'allow', reply: 'allow', versionFree: false, needsIdentity: true, readParams: path, readResult: readTrustChange }),
  deny: method({ name: 'deny', reply: 'deny', versionFree: false, needsIdentity: true, readParams: path, readResult: readTrustChange }),
  prune: method({
    name: 'prune', reply: 'prune', versionFree: false, needsIdentity: true,
    readParams: noParams,
    readResult: (f) => ({ removed: f.int('removed', 0) }),
  }),
  status: method({
    name: 'status', reply: 'status', versionFree: false, needsIdentity: true,
    readParams: (f) => ({ req: readExportRequest(f.obj('req')) }),
    readResult: readStatus,
  }),
  shutdown: method({
    name: 'shutdown', reply: 'shutdown', versionFree: true, needsIdentity: false,
    readParams: noParams,
    readResult: (f) => ({ pid: f.int('pid', 0) }),
  }),
};

type Methods = typeof METHODS;
/** Each entry is keyed by its own name (a type error here otherwise). */
type KeyedByName = { [K in keyof Methods]: Methods[K] extends Method<K, string, object, unknown> ? true : never };
const keyedByName: KeyedByName = { hello: true, ping: true, export: true, allow: true, deny: true, prune: true, status: true, shutdown: true };
void keyedByName;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type RequestType = keyof Methods;
export type ParamsOf<K extends RequestType> = ReturnType<Methods[K]['readParams']>;
export type ResultOf<K extends RequestType> = Methods[K] extends Method<K, string, object, infer R> ? R : never;
export type ReplyTypeOf<K extends RequestType> = Methods[K]['reply'];

/** A request body (the frame without `v` and `id`) of each method. */
export type RequestBody = { [K in RequestType]: Simplify<{ type: K } & ParamsOf<K>> }[RequestType];
/** The reply body to request K: its `type`, and its `result` unless the method has none. */
export type ReplyOf<K extends RequestType> = K extends RequestType
  ? (ResultOf<K> extends undefined ? { type: ReplyTypeOf<K> } : { type: ReplyTypeOf<K>; result: ResultOf<K> })
  : never;
export type ReplyBody = ReplyOf<RequestType>;

type AnyMethod = Methods[RequestType];

// Maps, not the object: a name comes from the peer, and `__proto__` or `constructor` must
// not find anything.
const BY_NAME: ReadonlyMap<string, AnyMethod> = new Map(Object.values(METHODS).map((m) => [m.name, m]));
const BY_REPLY: ReadonlyMap<string, AnyMethod> = new Map(Object.values(METHODS).map((m) => [m.reply, m]));

/** The method a request `type` names, if this side serves it. */
export function methodNamed(type: string): AnyMethod | undefined {
  return BY_NAME.get(type);
}

/** The method whose reply has this `type`. */
export function methodReplying(type: string): AnyMethod | undefined {
  return BY_REPLY.get(type);
}

/** The reply body to request K with this result (the daemon's side). */
export function replyBody<K extends RequestType>(type: K, result: ResultOf<K>): ReplyOf<K> {
  const m: AnyMethod = METHODS[type];
  // The cast: m is METHODS[type], so its reply and result are K's.
  return (m.readResult === null ? { type: m.reply } : { type: m.reply, result }) as ReplyOf<K>;
}
