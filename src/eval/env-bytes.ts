import { hasRawBytes } from '../env/bytes.js';
import type { Env } from '../env/diff.js';
import { newNameMap } from '../env/map.js';
import type { RpcHandler } from './rpc-types.js';

/**
 * Values that are not UTF-8 on their way into the evaluation. Node's spawn writes the
 * environment as UTF-8, so a byte string with raw bytes (src/env/bytes.ts) cannot be
 * passed there: it would arrive as U+FFFD. Such variables (a PATH with a Latin-1 entry, an
 * .envrc that is not UTF-8 in `__ENVD_RC`) are left out of the spawn environment, which
 * carries `__ENVD_BYTES=1` instead; the bootstrap then asks for them over the private
 * socket (`env-bytes`, whose reply fields are exact bytes) and exports them with builtins
 * before any extension or user code runs.
 */
export const ENV_BYTES_FLAG = '__ENVD_BYTES';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface SplitEnv {
  /** What spawn can carry exactly. */
  env: Env;
  /** NAME, VALUE, ... for the bootstrap; null when there is none. */
  bytes: string[] | null;
}

export function splitRawEnv(all: Env): SplitEnv {
  const env: Env = newNameMap();
  const bytes: string[] = [];
  for (const [name, value] of Object.entries(all)) {
    if (!hasRawBytes(value)) { env[name] = value; continue; }
    // A name bash cannot assign is not a variable of the evaluation either way.
    if (NAME.test(name)) bytes.push(name, value);
  }
  if (bytes.length === 0) return { env, bytes: null };
  env[ENV_BYTES_FLAG] = '1';
  return { env, bytes };
}

/** The `env-bytes` RPC for one evaluation. */
export function envBytesHandler(bytes: readonly string[]): RpcHandler {
  return () => ({ ok: true, fields: [...bytes] });
}
