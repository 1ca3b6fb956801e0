import { statSync } from 'node:fs';
import type { Env } from '../env/diff.js';
import { newNameMap } from '../env/map.js';

/** This process's environment as plain strings. */
export function processEnv(): Env {
  const env: Env = newNameMap();
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * The working directory as the shell sees it: $PWD when it is the same directory as the
 * physical cwd (so symlinked project paths keep their names, as in direnv), else the cwd.
 */
export function logicalCwd(): string {
  const phys = process.cwd();
  const pwd = process.env.PWD;
  if (pwd !== undefined && pwd.startsWith('/')) {
    try {
      const a = statSync(pwd);
      const b = statSync(phys);
      if (a.ino === b.ino && a.dev === b.dev) return pwd;
    } catch { /* fall through */ }
  }
  return phys;
}
