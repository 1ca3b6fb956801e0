import { hookScript, HOOK_FILES, isHookShell } from '../hook/script.js';
import { usage } from './command.js';

/** `envd hook bash|zsh|fish`: the prompt hook to eval (bash, zsh) or source (fish). */
export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (shell === undefined || !isHookShell(shell) || args.length > 1) {
    return usage(`hook needs one of: ${Object.keys(HOOK_FILES).join(', ')} (e.g. eval "$(envd hook bash)" in ~/.bashrc, envd hook fish | source in config.fish)`);
  }
  process.stdout.write(hookScript(shell));
  return 0;
}
