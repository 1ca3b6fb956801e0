import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import { rpcTable, type RpcHandler } from '../eval/rpc-types.js';
import type { CachedGoProvider } from '../go/types.js';

export interface ExtraHandlers {
  handlers: Record<string, RpcHandler>;
  /** The Go SDK list behind `use go`; refreshed when one of its roots changes. */
  go: CachedGoProvider;
}

/**
 * RPC handlers that live beside their own features (Go toolchains, the rest of direnv's
 * stdlib). Loaded on the first evaluation only, so a prompt that evaluates nothing never
 * pays for them.
 */
export async function extraHandlers(paths: EnvdPaths, config: Config, env: Record<string, string | undefined>, opts: { background?: boolean } = {}): Promise<ExtraHandlers> {
  const [{ createGoProvider }, { goRpcHandler }, { asdfRpcHandler }, { EXTRA_RPC }] = await Promise.all([
    import('../go/provider.js'),
    import('../go/rpc.js'),
    import('../go/asdf.js'),
    import('../eval/rpc-extras.js'),
  ]);
  const go = createGoProvider(paths, config, env);
  const goOpts = { background: opts.background === true };
  const handlers = rpcTable([
    ...EXTRA_RPC,
    { name: 'go', args: 'version-or-empty, dir', reply: 'GOROOT, version, consulted files...', handle: goRpcHandler(go, goOpts) },
    { name: 'asdf', args: 'dir', reply: 'pairs: goroot/goversion, goerror, path, notice', handle: asdfRpcHandler(go, goOpts) },
  ]);
  return { handlers, go };
}
