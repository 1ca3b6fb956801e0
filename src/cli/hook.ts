import { DEFAULT_HOOK_MARKERS, hookScript, HOOK_FILES, isHookShell } from '../hook/script.js';
import { usage } from './command.js';
import { loadConfig } from '../config/config.js';
import { resolvePaths } from '../config/paths.js';
import { markerNames } from '../engine/find.js';

/** The names to look for, from the config as it is now (a config that cannot be read: the defaults). */
function hookMarkers(): string[] {
  try {
    const { config } = loadConfig(resolvePaths(process.env));
    return markerNames(config.global.loadDotenv, config.go.auto);
  } catch {
    return DEFAULT_HOOK_MARKERS;
  }
}

/** `envd hook bash|zsh|fish`: the prompt hook to eval (bash, zsh) or source (fish). */
export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (shell === undefined || !isHookShell(shell) || args.length > 1) {
    return usage(`hook needs one of: ${Object.keys(HOOK_FILES).join(', ')} (e.g. eval "$(envd hook bash)" in ~/.bashrc, envd hook fish | source in config.fish)`);
  }
  process.stdout.write(hookScript(shell, undefined, hookMarkers()));
  return 0;
}
