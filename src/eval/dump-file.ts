import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, statfsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_RPC_BYTES } from './rpc.js';

/**
 * Where a fork server's evaluations write their environment at the end (zygote.ts,
 * BOOTSTRAP's EXIT trap). bash writes `declare -px` a line per write(2): on the private
 * socket each line was a wake-up of the daemon (a read, a stream event, a frame parse),
 * a dozen an evaluation. Written to a file, the daemon reads it once, when the server says
 * the evaluation ended.
 *
 * The file is in memory (tmpfs: on a disk filesystem truncating and writing it costs the
 * evaluation more than the wake-ups cost the daemon) and has no name: created in /dev/shm
 * and unlinked at once, it lives as long as a descriptor holds it, the daemon's and the
 * server's (fd 5, moved to a high fd), so nothing is left behind whatever ends the daemon.
 * It is open for appending: an evaluation writes to the descriptor it inherited (no open of
 * its own), and the daemon empties the file after reading it. Elsewhere (no /dev/shm, not
 * Linux) the environment comes over the socket as before.
 */

/** The server's descriptor for the file (zygote.ts passes it to bash as fd 5). */
export const DUMP_FD = 5;

const SHM = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;

/** A new nameless file in memory, open for reading and appending; null when there is no such place. */
export function openDumpFile(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    if (statfsSync(SHM).type !== TMPFS_MAGIC) return null;
    const path = join(SHM, `envd-eval-${process.pid}-${randomBytes(6).toString('hex')}`);
    // O_EXCL: a name someone else made (a link in the shared directory) is not used.
    const fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try { unlinkSync(path); } catch { closeSync(fd); return null; }
    return fd;
  } catch {
    return null;
  }
}

export function closeDumpFile(fd: number): void {
  try { closeSync(fd); } catch { /* closed */ }
}

/**
 * The environment the evaluation with this nonce wrote: `declare -px` output up to and
 * with its `#envd dump` line (the bytes the socket would have carried), or null when the
 * file holds none of its own (the evaluation ended before its trap ran; the nonce line
 * tells a write of something it left running from its own). The file is emptied for the
 * next one. Throws when it is larger than envd reads.
 */
export function readDumpFile(fd: number, nonce: string): Buffer | null {
  const size = fstatSync(fd).size;
  if (size === 0) return null;
  let got = 0;
  let buf: Buffer;
  try {
    if (size > MAX_RPC_BYTES) throw new Error(`the evaluation sent more than ${MAX_RPC_BYTES >> 20} MiB to envd`);
    buf = Buffer.allocUnsafe(size);
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
  } finally {
    ftruncateSync(fd, 0);
  }
  const text = buf.subarray(0, got);
  const tail = nonce.length + 1;
  if (text.length <= tail || text.toString('latin1', text.length - tail) !== `${nonce}\n`) return null;
  return text.subarray(0, text.length - tail);
}
