import { rpcTable, type RpcHandler, type RpcMethod } from '../eval/rpc-types.js';
import { checkEnvrcName } from '../env/names.js';
import { copyNameMap } from '../env/map.js';
import { decodeBytes } from '../env/bytes.js';

/**
 * Parse a .env file's bytes: the dotenv package's rules (quotes, `export` prefix, multi-line
 * quoted values), then `${VAR}` / `${VAR:-default}` expansion against the file's own values
 * and the evaluation's environment. Returns pairs in file order.
 */
export async function parseDotenvBytes(content: Buffer, env: Record<string, string>): Promise<[string, string][]> {
  // Loaded on use: most evaluations never read a .env file.
  const [{ parse: parseDotenv }, { expand: expandDotenv }] = await Promise.all([import('dotenv'), import('dotenv-expand')]);
  // dotenv does not strip a leading `export ` itself.
  // Byte strings (bytes.ts): a value that is not UTF-8 comes out exactly as written.
  const text = decodeBytes(content).replace(/^([ \t]*)export[ \t]+/gm, '$1');
  const parsed = parseDotenv(text);
  const processEnv: Record<string, string> = copyNameMap(env);
  const { parsed: expanded } = expandDotenv({ parsed: { ...parsed }, processEnv });
  const out: [string, string][] = [];
  for (const name of Object.keys(parsed)) {
    const value = expanded?.[name] ?? parsed[name] ?? '';
    out.push([name, value]);
  }
  return out;
}

/** The RPC requests of the core stdlib (stdlib/00-core.sh, stdlib/10-files.sh). */
const CORE_RPC: readonly RpcMethod[] = [
  {
    name: 'source', args: 'path', reply: 'the file\'s content (the exact bytes that were approved)',
    handle: (args, ctx) => {
      const path = args[0] ?? '';
      const bytes = ctx.readTrusted(path);
      if (bytes.includes(0)) return { ok: false, message: `${path} contains a NUL byte and cannot be sourced` };
      // The exact bytes that were hashed (rpc.ts writes byte strings back as bytes).
      return { ok: true, fields: [decodeBytes(bytes)] };
    },
  },
  {
    name: 'dotenv', args: 'path', reply: 'name, value, name, value...',
    handle: async (args, ctx) => {
      const path = args[0] ?? '';
      const bytes = ctx.readTrusted(path);
      const fields: string[] = [];
      for (const [name, value] of await parseDotenvBytes(bytes, ctx.env)) {
        const verdict = checkEnvrcName(name);
        if (!verdict.ok) continue;
        fields.push(name, value);
      }
      return { ok: true, fields };
    },
  },
  {
    name: 'watch', args: 'path...', reply: '(none)',
    handle: (args, ctx) => {
      for (const p of args) ctx.watch(p);
      return { ok: true, fields: [] };
    },
  },
  {
    name: 'watch-dir', args: 'dir...', reply: '(none)',
    handle: (args, ctx) => {
      for (const p of args) ctx.watch(p.endsWith('/') ? p : p + '/');
      return { ok: true, fields: [] };
    },
  },
];

/** The core handlers by name (what LocalService serves before the extras load). */
export function coreRpcHandlers(): Record<string, RpcHandler> {
  return rpcTable(CORE_RPC);
}
