import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import type { Env } from '../env/diff.js';

/**
 * The stdlib talks to envd during an evaluation over one private socket (fd 3 at start,
 * moved to a high fd by the bootstrap). Each request is `printf '%s\0' COUNT NAME ARGS...`
 * and each reply is `STATUS\0COUNT\0FIELDS...\0` with STATUS `ok` or `err` (one field: the
 * message). Handlers run in the process that runs the evaluation (daemon or one-shot CLI).
 */
export type RpcReply = { ok: true; fields: string[] } | { ok: false; message: string };

export interface RpcContext {
  /** Directory of the .envrc being evaluated. */
  dir: string;
  /** The environment the evaluation started from. */
  env: Env;
  config: Config;
  paths: EnvdPaths;
  /** Add a file or directory to what this result depends on (a path ending in `/` is a
   *  directory watched recursively, as watch_dir does). */
  watch(path: string): void;
  /**
   * Read a file the .envrc wants to source or load, check that it is trusted (as a sourced
   * file of the approved .envrc, or approved itself), and return the exact bytes that were
   * hashed. Throws EnvdError('FILE_UNSAFE' | 'NOT_FOUND') with the message to show.
   */
  readTrusted(path: string): Buffer;
}

export type RpcHandler = (args: string[], ctx: RpcContext) => RpcReply | Promise<RpcReply>;

/**
 * One request of the evaluation RPC, declared once: the name the stdlib sends, what its
 * arguments and reply fields are, and the handler. A handler's throw is an `err` reply
 * with the message (rpc.ts); a name nobody declared is answered `err` as well.
 */
export interface RpcMethod {
  readonly name: string;
  /** The arguments as the stdlib passes them (`[x]`: optional; `...`: any number more). */
  readonly args: string;
  /** The fields of an `ok` reply. */
  readonly reply: string;
  readonly handle: RpcHandler;
}

/** Declarations → the handler table RpcServer serves (a later declaration of a name wins). */
export function rpcTable(methods: readonly RpcMethod[]): Record<string, RpcHandler> {
  const table: Record<string, RpcHandler> = {};
  for (const m of methods) table[m.name] = m.handle;
  return table;
}
