import { DEFAULT_HOOK_MARKERS, hookScript, HOOK_FILES, isHookShell } from '../hook/script.js';
import { isMoreShell, MORE_SHELLS } from '../env/render-more.js';
import { moreHookScript } from '../hook/more-scripts.js';
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

/** `envd hook SHELL`: the prompt hook to eval (bash, zsh, elvish, tcsh), source (fish) or save and source (nushell). */
export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (shell !== undefined && isMoreShell(shell) && args.length === 1) {
    process.stdout.write(moreHookScript(shell, undefined, hookMarkers()));
    return 0;
  }
  if (shell === undefined || !isHookShell(shell) || args.length > 1) {
    return usage(`hook needs one of: ${[...Object.keys(HOOK_FILES), ...MORE_SHELLS].join(', ')} (e.g. eval "$(envd hook bash)" in ~/.bashrc, envd hook fish | source in config.fish)`);
  }
  process.stdout.write(hookScript(shell, undefined, hookMarkers()));
  return 0;
}
