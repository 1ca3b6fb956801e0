import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { EnvdError, errnoCode, errorMessage } from './errors.js';

/**
 * Reading files that someone else may have placed: an `.envrc`, a file it sources, a Go
 * pin (`go.mod`, `.go-version`, `.tool-versions`, mise's TOML) found in a parent directory
 * such as /tmp. Such a file is read before anything approved it, so it must not be able
 * to hold the daemon:
 *
 * - a FIFO would block a plain open() until a writer appears, and a device such as
 *   /dev/zero never ends. The file is opened with O_NONBLOCK (a FIFO then opens at once),
 *   O_NOCTTY (libuv adds close-on-exec), and fstat on that descriptor (not a stat of the name, which
 *   could be swapped between the check and the open) must say "regular file" before a
 *   single byte is read.
 * - a 1 GiB sparse file would be read whole. The size is checked on the descriptor
 *   against a cap before reading, and the read itself stops at the cap, so a file that
 *   grows while being read cannot push past it either.
 *
 * The caps are far above any real file of each kind (the largest `.envrc` files seen in
 * public repositories are a few KiB; Nix flakes' generated ones under 100 KiB).
 */

/** Env files (`.envrc`, `.env`) and files they source. */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;
/** Version pins and tool config read before any approval (go.mod, .tool-versions, mise.toml). */
export const MAX_PIN_FILE_BYTES = 256 * 1024;
/** envd's and direnv's own config files. */
export const MAX_CONFIG_FILE_BYTES = 256 * 1024;

export type SafeReadCode = 'NOT_FOUND' | 'NOT_REGULAR' | 'TOO_LARGE' | 'UNREADABLE';

/** Why a file was not read. The message is one line and names the path. */
export class SafeReadError extends EnvdError {
  constructor(readonly reason: SafeReadCode, readonly path: string, message: string) {
    super('FILE_UNSAFE', message);
  }
}

export interface SafeRead {
  bytes: Buffer;
  /** fstat of the descriptor the bytes came from: owner, mode, inode, times. */
  stat: Stats;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`;
}

/**
 * Read a regular file of at most `maxBytes`, never blocking and never reading more than
 * the cap. Throws SafeReadError (NOT_FOUND, NOT_REGULAR, TOO_LARGE, UNREADABLE).
 * `path` may be a Buffer for names that are not UTF-8; messages show it as given.
 */
export function readRegularFile(path: string | Buffer, maxBytes: number): SafeRead {
  const shown = typeof path === 'string' ? path : path.toString('utf8');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SafeReadError('NOT_FOUND', shown, `${shown} does not exist`);
    if (code === 'ENXIO') throw new SafeReadError('NOT_REGULAR', shown, `refusing ${shown}: a socket or device, not a regular file`);
    throw new SafeReadError('UNREADABLE', shown, `cannot read ${shown}: ${errorMessage(err)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new SafeReadError('NOT_REGULAR', shown, `refusing ${shown}: ${kind(stat)}, not a regular file`);
    }
    if (stat.size > maxBytes) {
      throw new SafeReadError('TOO_LARGE', shown,
        `refusing ${shown}: ${sizeText(stat.size)}, over envd's ${sizeText(maxBytes)} limit for this kind of file`);
    }
    // Read to EOF but never past the cap (+1 byte to tell "exactly the cap" from "more").
    // The first read is sized by fstat, so a small file does not get a 64 KiB buffer.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(total === 0 ? stat.size + 1 : 64 * 1024, maxBytes + 1 - total);
      if (want <= 0) {
        throw new SafeReadError('TOO_LARGE', shown, `refusing ${shown}: grew past envd's ${sizeText(maxBytes)} limit while being read`);
      }
      const buf = Buffer.allocUnsafe(want);
      let n: number;
      try {
        n = readSync(fd, buf, 0, want, null);
      } catch (err) {
        throw new SafeReadError('UNREADABLE', shown, `cannot read ${shown}: ${errorMessage(err)}`);
      }
      if (n === 0) break;
      chunks.push(n === want ? buf : buf.subarray(0, n));
      total += n;
    }
    // A copy of exactly the bytes read: a slice would keep its whole read buffer alive for
    // as long as the bytes are kept (cached results keep an .envrc's bytes).
    return { bytes: Buffer.concat(chunks, total), stat };
  } finally {
    closeSync(fd);
  }
}

/** The same, as UTF-8 text (pins and config are text); null when the file does not exist. */
export function readRegularText(path: string, maxBytes: number): string | null {
  try {
    return readRegularFile(path, maxBytes).bytes.toString('utf8');
  } catch (err) {
    if (err instanceof SafeReadError && err.reason === 'NOT_FOUND') return null;
    throw err;
  }
}
