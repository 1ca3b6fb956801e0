import { isAbsolute, resolve } from 'node:path';
import type { RpcHandler } from '../eval/rpc-types.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { GoResolutionError } from './resolve.js';
import type { GoProvider } from './types.js';

/**
 * The `go` RPC behind `use go`: args [version-or-empty, dir] → [GOROOT, version,
 * consulted files...]. Every consulted file is watched, on failure too, so fixing a
 * `.go-version` re-runs the .envrc. A failure to find an SDK also watches the SDK roots,
 * so installing the missing version is noticed.
 */
export function goRpcHandler(provider: GoProvider): RpcHandler {
  return (args, ctx) => {
    const [version = '', rawDir = ''] = args;
    const dir = rawDir === '' ? ctx.dir : isAbsolute(rawDir) ? rawDir : resolve(ctx.dir, rawDir);
    try {
      const r = provider.resolve(dir, version === '' ? undefined : version);
      for (const f of r.consulted) ctx.watch(f);
      return { ok: true, fields: [r.sdk.root, r.sdk.version, ...r.consulted] };
    } catch (err) {
      if (err instanceof GoResolutionError) {
        for (const f of err.consulted) ctx.watch(f);
        if (err.code === 'GO_NOT_INSTALLED') for (const d of provider.watchRoots?.() ?? []) ctx.watch(d);
      }
      if (err instanceof EnvdError) return { ok: false, message: err.message };
      return { ok: false, message: `use go: internal error: ${errorMessage(err)}` };
    }
  };
}
