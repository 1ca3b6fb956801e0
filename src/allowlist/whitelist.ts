import { realpathSync, statSync } from 'node:fs';
import { placeOf } from './place.js';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { Config } from '../config/config.js';

/**
 * `[whitelist]` from the config: files trusted without a record.
 *
 * - `prefix`: a directory; every env file at or below it is trusted. Matching is by whole
 *   path components: `/a/proj` covers `/a/proj/.envrc` and `/a/proj/sub/.envrc`, never
 *   `/a/proj-evil/.envrc`.
 * - `exact`: an env file's path, or a directory whose own env files (not its
 *   subdirectories') are trusted.
 *
 * Entries may start with `~` (the home directory). Relative entries cannot be matched
 * against anything meaningful and are ignored. Callers check places (placeOf: real
 * directory + the file's own name), so directories in entries are resolved through
 * symlinks when they exist, and an exact entry naming a symlinked file is that name.
 */
export class Whitelist {
  private readonly prefixes: string[];
  private readonly exact: Set<string>;

  constructor(config: Config['whitelist'], home: string) {
    this.prefixes = expandAll(config.prefix, home, 'dir');
    this.exact = new Set(expandAll(config.exact, home, 'place'));
  }

  get empty(): boolean {
    return this.prefixes.length === 0 && this.exact.size === 0;
  }

  /** `place`: the env file's place (placeOf). */
  matches(place: string): boolean {
    const p = normalize(place);
    if (this.exact.has(p) || this.exact.has(dirname(p))) return true;
    return this.prefixes.some((prefix) => isUnder(p, prefix));
  }
}

/** Whether `path` is `dir` or inside it, comparing whole components. */
export function isUnder(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(dir + '/');
}

function expandAll(entries: string[], home: string, as: 'dir' | 'place'): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const p = expandEntry(e, home, as);
    if (p !== null) out.push(p);
  }
  return out;
}

/**
 * `~` and `~/x` expand to the home directory; the result is absolute and normalized, or null.
 * `dir`: a directory, resolved through symlinks. `place`: a directory (resolved) or a file,
 * whose directory is resolved and whose own name is kept (as placeOf does).
 */
export function expandEntry(entry: string, home: string, as: 'dir' | 'place' = 'dir'): string | null {
  let p = entry.trim();
  if (p === '~') p = home;
  else if (p.startsWith('~/')) p = join(home, p.slice(2));
  if (!isAbsolute(p) || p.includes('\0')) return null;
  p = normalize(p);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  try {
    if (as === 'place' && statSync(p, { throwIfNoEntry: false })?.isDirectory() !== true) return placeOf(p);
    return realpathSync(p);
  } catch {
    // Not there (yet): match it as written.
    return p;
  }
}
