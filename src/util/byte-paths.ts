import { realpathSync } from 'node:fs';
import { decodeBytes, hasRawBytes } from '../env/bytes.js';
import { EnvdError } from './errors.js';
import { printable } from './printable.js';

/**
 * Paths whose bytes are not UTF-8. Node's path APIs take strings and
 * encode them as UTF-8, so a name held as a byte string (src/env/bytes.ts) would reach a
 * different file, a look-alike; Node's own decoders (process.cwd(), realpath) map such
 * bytes to U+FFFD, which names a different directory too. envd refuses to act on them,
 * saying which path, rather than act on anything else.
 */

const WHY = 'envd cannot act on a directory whose name is not UTF-8 (rename it to use envd there)';

/** `what` names the path, e.g. `the current directory`; the path is shown escaped. */
export function notUtf8Error(what: string, path: string): EnvdError {
  return new EnvdError('PATH_NOT_UTF8', `${what} ${printable(path)} is not UTF-8; ${WHY}`);
}

/** Throws when `real`, the real path of `path`, is not UTF-8. */
export function assertUtf8RealPath(path: string, real: string): void {
  if (hasRawBytes(real)) throw new EnvdError('PATH_NOT_UTF8', `${printable(path)} resolves to ${printable(real)}, which is not UTF-8; ${WHY}`);
}

/** Throws notUtf8Error unless `path` is text (a byte string without raw bytes). */
export function assertUtf8Path(what: string, path: string): void {
  if (hasRawBytes(path)) throw notUtf8Error(what, path);
}

/**
 * The real path, refused (never decoded to a look-alike) when it is not UTF-8. realpath(3)
 * itself (`.native`): Node's JS realpathSync decodes symlink targets lossily even when
 * asked for a Buffer.
 */
export function realpathUtf8(path: string): string {
  assertUtf8Path('the path', path);
  const real = decodeBytes(realpathSync.native(path, { encoding: 'buffer' }));
  assertUtf8RealPath(path, real);
  return real;
}
