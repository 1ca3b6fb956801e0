import { realpathSync } from 'node:fs';
import { decodeBytes, hasRawBytes } from '../env/bytes.js';
import { EnvdError } from './errors.js';
import { printable } from './printable.js';

/**
 * Paths whose bytes are not UTF-8 (RELIABILITY 30). Node's path APIs take strings and
 * encode them as UTF-8, so a name held as a byte string (src/env/bytes.ts) would reach a
 * different file, a look-alike; Node's own decoders (process.cwd(), realpath) map such
 * bytes to U+FFFD, which names a different directory too. envd refuses to act on them,
 * saying which path, rather than act on anything else.
 */

/** `what` names the path, e.g. `the current directory`; the path is shown escaped. */
export function notUtf8Error(what: string, path: string): EnvdError {
  return new EnvdError('PATH_NOT_UTF8', `${what} ${printable(path)} is not UTF-8; envd cannot act on a directory whose name is not UTF-8 (rename it to use envd there)`);
}

/** Throws notUtf8Error unless `path` is text (a byte string without raw bytes). */
export function assertUtf8Path(what: string, path: string): void {
  if (hasRawBytes(path)) throw notUtf8Error(what, path);
}

/** realpathSync, but refused (never decoded to a look-alike) when the result is not UTF-8. */
export function realpathUtf8(path: string): string {
  assertUtf8Path('the path', path);
  const real = decodeBytes(realpathSync(path, { encoding: 'buffer' }));
  assertUtf8Path(`the real path of ${printable(path)},`, real);
  return real;
}
