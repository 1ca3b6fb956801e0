import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import type { RpcHandler } from '../eval/rpc-types.js';

/**
 * RPC handlers that live beside their own features (Go toolchains, the rest of direnv's
 * stdlib). Loaded on the first evaluation only, so a prompt that evaluates nothing never
 * pays for them.
 */
export async function extraHandlers(paths: EnvdPaths, config: Config, env: Record<string, string | undefined>): Promise<Record<string, RpcHandler>> {
  const [{ createGoProvider }, { goRpcHandler }, { extraRpcHandlers }] = await Promise.all([
    import('../go/provider.js'),
    import('../go/rpc.js'),
    import('../eval/rpc-extras.js'),
  ]);
  return { ...extraRpcHandlers(), go: goRpcHandler(createGoProvider(paths, config, env)) };
}
