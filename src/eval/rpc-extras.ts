import { isAbsolute, join } from 'node:path';
import type { RpcContext, RpcMethod, RpcReply } from './rpc-types.js';
import { applicablePairs, decodeDump, DumpFormatError, MAX_DUMP_BYTES } from './dump-codec.js';
import { fetchUrl, FetchError } from './fetchurl.js';
import { decodeStrictUtf8 } from '../env/values.js';
import { tildePath } from '../config/paths.js';
import { EnvdError, errnoCode, errorMessage } from '../util/errors.js';
import { contentHash, judgeFile, openAllowlist } from '../allowlist/index.js';
import { placeOf } from '../allowlist/place.js';
import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import { MAX_ENV_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';

/**
 * RPC requests behind the rest of direnv's stdlib (stdlib/20-layouts.sh, 30-use.sh,
 * 50-extras.sh), declared at the end of this file. Each answers one request from the
 * evaluation's bash over the private socket; see docs/architecture.md for the framing.
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

/**
 * Of FILES (relative to DIR, as require_allowed names them), those that are not approved
 * with their present content (`envd allow FILE`, or the `envd allow` that reads
 * DIRENV_REQUIRED), in the order given. A missing or unreadable file is not approved.
 */
export function unapprovedFiles(files: string[], dir: string, paths: EnvdPaths, config: Config): string[] {
  const allowlist = openAllowlist(paths, config);
  return files.filter((rel) => {
    try {
      // As `envd allow FILE` records it: the file's place, its bytes read safely.
      const file = join(dir, rel);
      const place = placeOf(file);
      const { bytes, stat } = readRegularFile(place, MAX_ENV_FILE_BYTES);
      if (!judgeFile(file, stat, 'content').ok) return true;
      const v = allowlist.check(place, contentHash(place, bytes));
      return v.kind !== 'allowed' && v.kind !== 'whitelisted';
    } catch {
      return true;
    }
  });
}

function readDump(args: string[], ctx: RpcContext): RpcReply {
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
}

function requireAllowed(args: string[], ctx: RpcContext): RpcReply {
  if (args.length === 0) return fail('require_allowed: missing file');
  const missing = unapprovedFiles(args, ctx.dir, ctx.paths, ctx.config);
  for (const rel of args) ctx.watch(join(ctx.dir, rel));
  // While some are pending, the result also depends on the allowlist: the `envd allow`
  // that approves them changes it, and the next prompt evaluates again.
  if (missing.length > 0) ctx.watch(ctx.paths.allowlistFile);
  return { ok: true, fields: missing };
}

export const EXTRA_RPC: readonly RpcMethod[] = [
  { name: 'fetchurl', args: 'url, [integrity]', reply: 'cached path, integrity', handle: (args, ctx) => fetchReply(args, ctx, false) },
  { name: 'fetchurl_source', args: 'url, integrity', reply: 'cached path, integrity, content (UTF-8 text)', handle: (args, ctx) => fetchReply(args, ctx, true) },
  { name: 'read_dump', args: 'path, [`trusted` (default) or `generated`]', reply: 'name, value, name, value...', handle: readDump },
  { name: 'require_allowed', args: 'relative path...', reply: 'the paths that are not approved', handle: requireAllowed },
];
