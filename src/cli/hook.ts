import { DEFAULT_HOOK_MARKERS, hookScript, loadShell } from '../shells/files.js';
import { isShellName, SHELL_NAMES } from '../shells/names.js';
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

/** `envd hook SHELL`: the prompt hook to eval (bash, zsh) or source (fish). */
export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (shell === undefined || !isShellName(shell) || args.length > 1) {
    return usage(`hook needs one of: ${SHELL_NAMES.join(', ')} (e.g. eval "$(envd hook bash)" in ~/.bashrc, envd hook fish | source in config.fish)`);
  }
  process.stdout.write(hookScript(await loadShell(shell), undefined, hookMarkers()));
  return 0;
}
