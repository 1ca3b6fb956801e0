import { basename, dirname, join } from 'node:path';
import { realpathUtf8 } from '../util/byte-paths.js';

/**
 * The place an env file is evaluated, which is what an approval, a deny and a cached result
 * belong to: the real path of the directory the file is found in, plus the file's own name.
 *
 * - A symlinked *directory* is resolved: every spelling of it is one directory, with the same
 *   neighbours (`bin/`, `.env`, the files `source_env` names), so it is one place.
 * - A symlinked *file* is not: `evil/.envrc -> ../p/.envrc` is evaluated in `evil/`, beside
 *   evil's files, so it is a place of its own that needs its own approval (direnv, which
 *   hashes the path as found, blocks it too).
 *
 * For a file that is not a symlink this is its real path, so approvals recorded by earlier
 * versions (which hashed the real path) still hold. Throws like realpathSync when the
 * directory does not exist, and PATH_NOT_UTF8 when its real path is not UTF-8.
 */
export function placeOf(path: string): string {
  // A real path that is not UTF-8 is refused, never decoded to a look-alike (byte-paths.ts).
  const dir = realpathUtf8(dirname(path));
  return join(dir, basename(path));
}
