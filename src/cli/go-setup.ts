import { loadConfig, type Config } from '../config/config.js';
import { resolvePaths, type EnvdPaths } from '../config/paths.js';
import { createGoProvider } from '../go/provider.js';
import { say } from './command.js';

/**
 * What every `envd go` verb starts from: this user's paths, config (its warnings said once)
 * and a Go provider over them. Its own module so `go install` and the other `go` verbs
 * share it without importing each other.
 */
export function setup(): { provider: ReturnType<typeof createGoProvider>; home: string; paths: EnvdPaths; config: Config } {
  const paths = resolvePaths(process.env);
  const loaded = loadConfig(paths);
  for (const w of loaded.warnings) say(w);
  return { provider: createGoProvider(paths, loaded.config, process.env), home: paths.home, paths, config: loaded.config };
}
