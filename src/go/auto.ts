import { join } from 'node:path';
import { isFile } from '../util/fs.js';
import type { Config } from '../config/config.js';
import { ancestors, parseGoModLines, parseToolVersions, readText } from './files.js';

/** The whole of a synthetic envrc: it runs no user code, it only picks among installed SDKs. */
export const AUTO_GO_CONTENT = 'use go\n';

function hasToolchainLine(p: string): boolean {
  const text = readText(p);
  if (text === null) return false;
  const t = parseGoModLines(text).toolchain;
  return t !== null && t !== 'default';
}

function pinsGo(dir: string): boolean {
  if (isFile(join(dir, '.go-version'))) return true;
  const tv = readText(join(dir, '.tool-versions'));
  if (tv !== null && parseToolVersions(tv) !== null) return true;
  return hasToolchainLine(join(dir, 'go.mod')) || hasToolchainLine(join(dir, 'go.work'));
}

/**
 * `[go] auto = true`: the nearest directory at or above `dir` that pins a Go version
 * (`.go-version`, a `.tool-versions` with a go/golang entry, or a go.mod/go.work with a
 * `toolchain` line) gets `use go` as if it had an .envrc saying so. A real env file wins
 * when it is as near or nearer (an `.envrc`, or a `.env` when load_dotenv is on): the
 * synthetic file stands in for an .envrc and follows the same nearest-file rule.
 */
export function autoGoEnvrc(dir: string, config: Config): { dir: string; content: string } | null {
  if (!config.go.auto) return null;
  for (const d of ancestors(dir)) {
    if (isFile(join(d, '.envrc'))) return null;
    if (config.global.loadDotenv && isFile(join(d, '.env'))) return null;
    if (pinsGo(d)) return { dir: d, content: AUTO_GO_CONTENT };
  }
  return null;
}
