import { isAbsolute, join } from 'node:path';
import type { RpcContext, RpcHandler, RpcReply } from './rpc-types.js';
import { applicablePairs, decodeDump, DumpFormatError, MAX_DUMP_BYTES } from './dump-codec.js';
import { fetchUrl, FetchError } from './fetchurl.js';
import { decodeStrictUtf8 } from '../env/values.js';
import { tildePath } from '../config/paths.js';
import { EnvdError, errnoCode, errorMessage } from '../util/errors.js';
import { readRegularFile, SafeReadError } from '../util/safe-read.js';

/**
 * RPC handlers behind the rest of direnv's stdlib (stdlib/20-layouts.sh, 30-use.sh,
 * 50-extras.sh). Each answers one request from the evaluation's bash over the private
 * socket; see docs/architecture.md for the framing.
 *
 * | name | args | reply fields |
 * | --- | --- | --- |
 * | `fetchurl` | url, [integrity] | cached path, integrity |
 * | `fetchurl_source` | url, integrity | cached path, integrity, content (UTF-8 text) |
 * | `read_dump` | path, [`trusted` (default) or `generated`] | name, value, name, value... |
 * | `require_allowed` | path | none |
 */

const fail = (message: string): RpcReply => ({ ok: false, message });

function absolute(path: string, ctx: RpcContext): string {
  return isAbsolute(path) ? path : join(ctx.dir, path);
}

async function fetchReply(args: string[], ctx: RpcContext, withContent: boolean): Promise<RpcReply> {
  const [url = '', integrity] = args;
  if (url === '') return fail('missing URL');
  if (withContent && (integrity === undefined || integrity === '')) {
    return fail(`source_url needs the integrity hash of ${url}; run 'envd fetchurl ${url}' to get it`);
  }
  try {
    const got = await fetchUrl(url, integrity, ctx.paths.cacheDir);
    if (!withContent) return { ok: true, fields: [got.path, got.integrity] };
    if (got.content.includes(0)) return fail(`${url} contains a NUL byte and cannot be sourced`);
    const text = decodeStrictUtf8(got.content);
    if (text === null) return fail(`${url} is not UTF-8 text and cannot be sourced`);
    return { ok: true, fields: [got.path, got.integrity, text] };
  } catch (err) {
    if (err instanceof FetchError) return fail(err.message);
    throw err;
  }
}

function readDumpBytes(path: string, mode: string, ctx: RpcContext): Buffer {
  if (mode === 'generated') {
    // A dump that a command of the approved .envrc just wrote (direnv_load): data made by
    // trusted code during this evaluation, not a file anyone approved.
    // Still read without blocking and under a cap: this runs in the daemon.
    return readRegularFile(path, MAX_DUMP_BYTES).bytes;
  }
  // A dump kept as a file (direnv_apply_dump): its variables can change what runs later
  // (BASH_ENV, LD_PRELOAD...), so it is covered by the approval like a sourced file.
  return ctx.readTrusted(path);
}

export function extraRpcHandlers(): Record<string, RpcHandler> {
  return {
    fetchurl: (args, ctx) => fetchReply(args, ctx, false),
    fetchurl_source: (args, ctx) => fetchReply(args, ctx, true),

    read_dump: (args, ctx) => {
      const [raw = '', mode = 'trusted'] = args;
      if (raw === '') return fail('missing dump file');
      if (mode !== 'trusted' && mode !== 'generated') return fail(`read_dump: unknown mode '${mode}'`);
      const path = absolute(raw, ctx);
      const shown = tildePath(path, ctx.paths.home);
      let bytes: Buffer;
      try {
        bytes = readDumpBytes(path, mode, ctx);
      } catch (err) {
        if (err instanceof SafeReadError) return fail(err.reason === 'NOT_FOUND' ? `${shown} does not exist` : err.message);
        if (err instanceof EnvdError || err instanceof DumpFormatError) return fail(`${shown}: ${err.message}`);
        if (errnoCode(err) === 'ENOENT') return fail(`${shown} does not exist`);
        return fail(`cannot read ${shown}: ${errorMessage(err)}`);
      }
      try {
        const fields: string[] = [];
        for (const [name, value] of applicablePairs(decodeDump(bytes.toString('utf8')))) fields.push(name, value);
        return { ok: true, fields };
      } catch (err) {
        if (err instanceof DumpFormatError) return fail(`${shown} is not an environment dump: ${err.message}`);
        throw err;
      }
    },

    require_allowed: (args, ctx) => {
      const raw = args[0] ?? '';
      if (raw === '') return fail('require_allowed: missing file');
      const path = absolute(raw, ctx);
      ctx.watch(path);
      try {
        ctx.readTrusted(path);
        return { ok: true, fields: [] };
      } catch (err) {
        const shown = tildePath(path, ctx.paths.home);
        if (err instanceof EnvdError && err.code === 'NOT_FOUND') return fail(`require_allowed: ${shown} does not exist`);
        if (err instanceof EnvdError) return fail(`require_allowed: ${err.message}. Approve it with 'envd allow ${shown}'`);
        throw err;
      }
    },
  };
}
