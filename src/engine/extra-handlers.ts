import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import type { RpcHandler } from '../eval/rpc-types.js';

/**
 * RPC handlers that live beside their own features (Go toolchains, the rest of direnv's
 * stdlib). Loaded on the first evaluation only, so a prompt that evaluates nothing never
 * pays for them.
 */
export async function extraHandlers(paths: EnvdPaths, config: Config, env: Record<string, string | undefined>): Promise<Record<string, RpcHandler>> {
  void paths; void config; void env;
  return {};
}
