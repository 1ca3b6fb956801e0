import { isFile } from '../util/fs.js';
import { dirname, join } from 'node:path';

/** `go-auto`: no env file, but `[go] auto` and a Go version pin (see src/go/auto.ts). */
export type EnvFileKind = 'envrc' | 'dotenv' | 'go-auto';

export interface FoundFile {
  /** Path as found by walking up from the working directory (not resolved). */
  path: string;
  dir: string;
  kind: EnvFileKind;
}


/**
 * The env file for a working directory: the nearest directory, walking up, that has an
 * `.envrc` (or a `.env` when load_dotenv is on); in one directory `.envrc` wins.
 */
export function findEnvFile(cwd: string, loadDotenv: boolean): FoundFile | null {
  let dir = cwd;
  for (;;) {
    const rc = join(dir, '.envrc');
    if (isFile(rc)) return { path: rc, dir, kind: 'envrc' };
    if (loadDotenv) {
      const env = join(dir, '.env');
      if (isFile(env)) return { path: env, dir, kind: 'dotenv' };
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Files that pin a Go version: what `[go] auto` looks for. */
const GO_PIN_FILES = ['.go-version', '.tool-versions', 'go.mod', 'go.work'];

/** File names a prompt hook looks for when walking up (see the `k` hook record). */
export function markerNames(loadDotenv: boolean, goAuto: boolean): string[] {
  const names = ['.envrc'];
  if (loadDotenv) names.push('.env');
  if (goAuto) names.push(...GO_PIN_FILES);
  return names;
}

/** The file that pins Go in an auto directory (what ENVD_FILE names and what is watched). */
export function goAutoMarker(dir: string): string {
  for (const name of GO_PIN_FILES) {
    const p = join(dir, name);
    if (isFile(p)) return p;
  }
  return join(dir, 'go.mod');
}
