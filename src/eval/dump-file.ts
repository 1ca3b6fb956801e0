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
 * its own), and the daemon reads what each one appended. Elsewhere (no /dev/shm, not
 * Linux) the environment comes over the socket as before.
 */

/** The server's descriptor for the file (zygote.ts passes it to bash as fd 5). */
export const DUMP_FD = 5;

const SHM = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;
/** Read at once: most environments are smaller (a short read is the end of the file). */
const FIRST_READ = 32 * 1024;
/** Past this the file is emptied (an ftruncate costs ~20 µs: not at every evaluation). */
const EMPTY_AFTER = 1024 * 1024;

/**
 * One server's file. Evaluations append to it; the daemon reads what was appended since it
 * last looked (pread, the daemon's own offset), so the file needs emptying only now and then.
 */
export class DumpFile {
  private offset = 0;

  private constructor(readonly fd: number) {}

  /** A new nameless file in memory, open for reading and appending; null when there is no such place. */
  static open(): DumpFile | null {
    if (process.platform !== 'linux') return null;
    try {
      if (statfsSync(SHM).type !== TMPFS_MAGIC) return null;
      const path = join(SHM, `envd-eval-${process.pid}-${randomBytes(6).toString('hex')}`);
      // O_EXCL: a name someone else made (a link in the shared directory) is not used.
      const fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try { unlinkSync(path); } catch { closeSync(fd); return null; }
      return new DumpFile(fd);
    } catch {
      return null;
    }
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* closed */ }
  }

  /**
   * The environment the evaluation with this nonce wrote: the `declare -px` output between
   * its `#envd start NONCE` line and its `#envd dump` line (the bytes the socket would have
   * carried, that line included), or null when it wrote none (it ended before its trap
   * ran). Whatever else is in the file (something an earlier evaluation left running
   * wrote there, or cut it) is passed over. Throws when it is larger than envd reads.
   */
  take(nonce: string): Buffer | null {
    const start = this.offset;
    let text = this.readFrom(start);
    this.offset = start + text.length;
    const open = `#envd start ${nonce}\n`;
    let at = text.lastIndexOf(open, undefined, 'latin1');
    if (at < 0 && (text.length > 0 || fstatSync(this.fd).size < start)) {
      // Not where it should be: the file was cut meanwhile (through /proc/self/fd). Rare:
      // the whole of it is read.
      text = this.readFrom(0);
      this.offset = text.length;
      at = text.lastIndexOf(open, undefined, 'latin1');
    }
    if (this.offset > EMPTY_AFTER) this.empty();
    const end = `#envd dump\n${nonce}\n`;
    if (at < 0 || text.length < at + open.length + end.length || text.toString('latin1', text.length - end.length) !== end) return null;
    return text.subarray(at + open.length, text.length - nonce.length - 1);
  }

  /** Everything from `start` to the end of the file. */
  private readFrom(start: number): Buffer {
    const first = Buffer.allocUnsafe(FIRST_READ);
    const n = readSync(this.fd, first, 0, FIRST_READ, start);
    if (n < FIRST_READ) return first.subarray(0, n);
    const size = fstatSync(this.fd).size;
    if (size - start > MAX_RPC_BYTES) {
      this.empty();
      throw new Error(`the evaluation sent more than ${MAX_RPC_BYTES >> 20} MiB to envd`);
    }
    const text = Buffer.allocUnsafe(Math.max(size - start, n));
    first.copy(text);
    let got = n;
    while (got < text.length) {
      const more = readSync(this.fd, text, got, text.length - got, start + got);
      if (more === 0) break;
      got += more;
    }
    return text.subarray(0, got);
  }

  private empty(): void {
    ftruncateSync(this.fd, 0);
    this.offset = 0;
  }
}
