import { isAbsolute, resolve } from 'node:path';
import type { RpcContext, RpcHandler } from '../eval/rpc-types.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { GoResolutionError } from './resolve.js';
import type { GoProvider } from './types.js';

export interface GoRpcOptions {
  /**
   * This process outlives the evaluation (the daemon): with `[go] install = "auto"` a
   * missing pinned Go is installed in the background. A one-shot CLI never starts one.
   */
  background?: boolean;
}

/**
 * The message for a Go that is not installed: as resolved, or, under `[go] install =
 * "auto"` in the daemon, the notice that it is being installed.
 */
export async function notInstalledReply(err: GoResolutionError, provider: GoProvider, ctx: RpcContext, opts: GoRpcOptions): Promise<string> {
  for (const d of provider.watchRoots?.() ?? []) ctx.watch(d);
  if (opts.background !== true || ctx.config.go.install !== 'auto' || err.wants.length === 0) return err.message;
  const { autoInstall } = await import('./install/background.js');
  const from = err.reason === 'argument' ? 'asked for explicitly' : `from ${err.reason}`;
  return autoInstall(err.wants, from, {
    dataDir: ctx.paths.dataDir,
    downloadUrl: ctx.config.go.downloadUrl,
    env: ctx.env,
    installed: provider.list(),
  });
}

/**
 * The `go` RPC behind `use go`: args [version-or-empty, dir] → [GOROOT, version,
 * consulted files...]. Every consulted file is watched, on failure too, so fixing a
 * `.go-version` re-runs the .envrc. A failure to find an SDK also watches the SDK roots,
 * so installing the missing version is noticed.
 */
export function goRpcHandler(provider: GoProvider, opts: GoRpcOptions = {}): RpcHandler {
  return async (args, ctx) => {
    const [version = '', rawDir = ''] = args;
    const dir = rawDir === '' ? ctx.dir : isAbsolute(rawDir) ? rawDir : resolve(ctx.dir, rawDir);
    try {
      const r = provider.resolve(dir, version === '' ? undefined : version);
      for (const f of r.consulted) ctx.watch(f);
      return { ok: true, fields: [r.sdk.root, r.sdk.version, ...r.consulted] };
    } catch (err) {
      if (err instanceof GoResolutionError) {
        for (const f of err.consulted) ctx.watch(f);
        if (err.code === 'GO_NOT_INSTALLED') return { ok: false, message: await notInstalledReply(err, provider, ctx, opts) };
      }
      if (err instanceof EnvdError) return { ok: false, message: err.message };
      return { ok: false, message: `use go: internal error: ${errorMessage(err)}` };
    }
  };
}
