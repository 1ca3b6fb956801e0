import { isFile } from '../util/fs.js';
import { dirname, join } from 'node:path';
import { GO_PIN_FILES } from '../go/pin-files.js';

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

/** File names a prompt hook looks for when walking up (see the `k` hook record). */
export function markerNames(loadDotenv: boolean, goAuto: boolean): string[] {
  const names = ['.envrc'];
  if (loadDotenv) names.push('.env');
  if (goAuto) names.push(...GO_PIN_FILES);
  return names;
}
