import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import { discoverGoSdks, type DiscoveryInput, type GoEnv, sdkWatchDirs } from './discover.js';
import { globalPinFiles, GoResolutionError, resolveGo } from './resolve.js';
import type { CachedGoProvider, GoResolution, GoSdk } from './types.js';

/**
 * The SDK list and the directories to watch for it, found on first use and kept until
 * refresh() (the daemon calls it when a watched root changes). Creating a provider reads
 * nothing.
 */
export function createGoProvider(paths: EnvdPaths, config: Config, env: GoEnv): CachedGoProvider {
  const input: DiscoveryInput = { env: { ...env }, home: paths.home, sdkDirs: [...config.go.sdkDirs] };
  let cached: GoSdk[] | null = null;
  // The roots expand globs and resolve links: asked after every evaluation (the daemon's
  // watch set), so kept until refresh() like the list, which the same changes refresh.
  let roots: string[] | null = null;
  const opts = { home: paths.home, globalPins: globalPinFiles(paths.home, env) };

  const list = (): GoSdk[] => {
    cached ??= discoverGoSdks(input);
    return cached;
  };

  return {
    list: () => [...list()],
    refresh: () => {
      cached = null;
      roots = null;
    },
    watchRoots: () => {
      roots ??= sdkWatchDirs(input);
      return [...roots];
    },
    resolve: (dir: string, explicit?: string): GoResolution => {
      const abs = isAbsolute(dir) ? dir : resolvePath(dir);
      const wasCached = cached !== null;
      try {
        return resolveGo(abs, explicit, list(), opts);
      } catch (err) {
        // A watcher can miss an install (inotify limits, NFS): before telling someone a
        // version is missing, look once more.
        if (!(err instanceof GoResolutionError) || err.code !== 'GO_NOT_INSTALLED' || !wasCached) throw err;
        cached = null;
        return resolveGo(abs, explicit, list(), opts);
      }
    },
  };
}
