import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShellName } from '../engine/types.js';
import { quoteBash, quoteFish, quoteZsh } from '../env/quote.js';
import { ENVD_BIN_PATH, PACKAGE_ROOT } from '../version.js';

/**
 * The prompt hooks are real shell files (shells/*), linted as they are. `envd hook SHELL`
 * prints one with its only substitution: the path of the envd binary, as one word quoted
 * for that shell. Everything else (runtime dir, socket, generation file) the hook works
 * out when it is loaded, from the environment, exactly as src/config/paths.ts does.
 */
export const HOOK_FILES: Record<ShellName, string> = {
  bash: 'bash.sh',
  zsh: 'zsh.zsh',
  fish: 'fish.fish',
};

export const BIN_PLACEHOLDER = '@ENVD_BIN@';

const QUOTE: Record<ShellName, (s: string) => string> = { bash: quoteBash, zsh: quoteZsh, fish: quoteFish };

export function isHookShell(s: string): s is ShellName {
  return Object.prototype.hasOwnProperty.call(HOOK_FILES, s);
}

export function hookFile(shell: ShellName): string {
  return join(PACKAGE_ROOT, 'shells', HOOK_FILES[shell]);
}

/**
 * The file names the hook looks for from its first prompt (`.envrc:.env`, plus Go's pin
 * files under `[go] auto`): a new shell finds a directory holding only a pin file without
 * first having been told the names by an answer (`k` records still update them).
 */
export const MARKERS_PLACEHOLDER = '@ENVD_MARKERS@';
export const DEFAULT_HOOK_MARKERS = ['.envrc', '.env'];

export function hookScript(shell: ShellName, bin: string = ENVD_BIN_PATH, markers: readonly string[] = DEFAULT_HOOK_MARKERS): string {
  const text = readFileSync(hookFile(shell), 'utf8');
  const parts = text.split(BIN_PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`${HOOK_FILES[shell]} must contain ${BIN_PLACEHOLDER} exactly once`);
  const names = markers.filter((m) => m !== '' && !m.includes(':') && !m.includes('/') && !m.includes('\0'));
  return parts.join(QUOTE[shell](bin)).split(MARKERS_PLACEHOLDER).join(QUOTE[shell](names.join(':')));
}
