import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvdPaths } from '../config/paths.js';

/** The running daemon's pid, for `daemon stop` when it no longer answers. */
export function pidFile(paths: EnvdPaths): string {
  return join(paths.runtimeDir, 'daemon.pid');
}

export function readPidFile(paths: EnvdPaths): number | null {
  try {
    const n = Number.parseInt(readFileSync(pidFile(paths), 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
