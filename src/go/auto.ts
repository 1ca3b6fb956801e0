import { join } from 'node:path';
import { isFile } from '../util/fs.js';
import type { Config } from '../config/config.js';
import { MISE_FILES } from './pin-files.js';
import { parseGvmrc } from './gvm.js';
import { MAX_PIN_FILE_BYTES, readRegularText } from '../util/safe-read.js';
import { ancestors, parseGoModLines, parseMiseTools, parseToolVersions, readText } from './files.js';

/** The whole of a synthetic envrc: it runs no user code, it only picks among installed SDKs. */
export const AUTO_GO_CONTENT = 'use go\n';

function hasToolchainLine(p: string): boolean {
  const text = readText(p);
  if (text === null) return false;
  const t = parseGoModLines(text).toolchain;
  return t !== null && t !== 'default';
}

function hasMiseGo(p: string): boolean {
  const text = readText(p);
  if (text === null) return false;
  try {
    return parseMiseTools(text) !== null;
  } catch {
    return false; // not TOML: it pins nothing envd can read (and runs nothing)
  }
}

function hasGvmUse(p: string): boolean {
  if (!isFile(p)) return false;
  try {
    return parseGvmrc(readRegularText(p, MAX_PIN_FILE_BYTES) ?? '').use !== null;
  } catch {
    return false; // not a regular file, or too large: it pins nothing envd will read
  }
}

/**
 * The file in `dir` that pins a Go version, or null: `.go-version`, a mise config with a
 * `[tools] go` entry, a `.tool-versions` with a go/golang entry, or a go.mod/go.work with a
 * `toolchain` line. Used to pick DIRENV_FILE for an auto directory, too.
 */
export function goPinIn(dir: string): string | null {
  const gv = join(dir, '.go-version');
  if (isFile(gv)) return gv;
  const golang = join(dir, '.golang-version');
  if (isFile(golang)) return golang;
  const gvmrc = join(dir, '.gvmrc');
  if (hasGvmUse(gvmrc)) return gvmrc;
  for (const name of MISE_FILES) {
    const p = join(dir, name);
    if (hasMiseGo(p)) return p;
  }
  const tvPath = join(dir, '.tool-versions');
  const tv = readText(tvPath);
  if (tv !== null && parseToolVersions(tv) !== null) return tvPath;
  for (const name of ['go.mod', 'go.work']) {
    const p = join(dir, name);
    if (hasToolchainLine(p)) return p;
  }
  return null;
}

/**
 * `[go] auto = true`: the nearest directory at or above `dir` that pins a Go version
 * (see goPinIn) gets `use go` as if it had an .envrc saying so. A real env file wins
 * when it is as near or nearer (an `.envrc`, or a `.env` when load_dotenv is on): the
 * synthetic file stands in for an .envrc and follows the same nearest-file rule.
 */
export function autoGoEnvrc(dir: string, config: Config): { dir: string; content: string } | null {
  if (!config.go.auto) return null;
  for (const d of ancestors(dir)) {
    if (isFile(join(d, '.envrc'))) return null;
    if (config.global.loadDotenv && isFile(join(d, '.env'))) return null;
    if (goPinIn(d) !== null) return { dir: d, content: AUTO_GO_CONTENT };
  }
  return null;
}

/** The file that pins Go in an auto directory (what DIRENV_FILE names and what is watched). */
export function goAutoMarker(dir: string): string {
  return goPinIn(dir) ?? join(dir, 'go.mod');
}
