import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quoteElvish, quoteTcsh, type MoreShell } from '../env/render-more.js';
import { ENVD_BIN_PATH, PACKAGE_ROOT } from '../version.js';
import { BIN_PLACEHOLDER, DEFAULT_HOOK_MARKERS, MARKERS_PLACEHOLDER } from './script.js';

/**
 * `envd hook elvish|tcsh|nushell`. Their files are shells/<shell>/hook.*, checked by each
 * shell's own parser in the suite.
 *  - elvish and nushell: the file with its two substitutions (the envd binary and the
 *    marker names, each as one string literal of that shell), as script.ts does.
 *  - tcsh has no functions: its prompt hook is an alias that sources the hook file again,
 *    so the file is used where it is, and `envd hook tcsh` prints one line that sets the
 *    binary, the names and the file's path and sources it (for eval `envd hook tcsh`).
 */
export const MORE_HOOK_FILES: Record<MoreShell, string> = {
  elvish: join('elvish', 'hook.elv'),
  tcsh: join('tcsh', 'hook.tcsh'),
  nushell: join('nushell', 'hook.nu'),
};

export function moreHookFile(shell: MoreShell): string {
  return join(PACKAGE_ROOT, 'shells', MORE_HOOK_FILES[shell]);
}

/**
 * A nushell double-quoted string: `\\` and `\"` escaped, controls as `\u{…}`. Nushell
 * strings are UTF-8: a path holding other bytes (U+DC80–U+DCFF here) cannot be written.
 */
export function quoteNu(s: string): string {
  if (/[\udc80-\udcff]/.test(s) || s.includes('\0')) throw new RangeError('nushell strings cannot hold this path');
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`)}"`;
}

function markerLine(markers: readonly string[], safe: RegExp): string {
  return markers.filter((m) => m !== '' && safe.test(m)).join(':');
}

export function moreHookScript(shell: MoreShell, bin: string = ENVD_BIN_PATH, markers: readonly string[] = DEFAULT_HOOK_MARKERS): string {
  const file = moreHookFile(shell);
  if (shell === 'tcsh') {
    // tcsh splits the names at blanks and would expand globs in them: plain names only.
    const names = markerLine(markers, /^[A-Za-z0-9._+-]+$/);
    return `set _envd_bin = ${quoteTcsh(bin)}; set _envd_kline = ${quoteTcsh(names)}; set _envd_self = ${quoteTcsh(file)}; source "$_envd_self"\n`;
  }
  const text = readFileSync(file, 'utf8');
  const parts = text.split(BIN_PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`${MORE_HOOK_FILES[shell]} must contain ${BIN_PLACEHOLDER} exactly once`);
  const quote = shell === 'elvish' ? quoteElvish : quoteNu;
  const names = markerLine(markers, /^[^:/\0]+$/);
  return parts.join(quote(bin)).split(MARKERS_PLACEHOLDER).join(quote(names));
}
