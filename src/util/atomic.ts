import { closeSync, fsyncSync, futimesSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write a file so that a crash at any point leaves either the old content or the new,
 * never a torn file: write a temp file beside it, fsync, rename over, fsync the directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, times?: FileTimes): void {
  renameInto(path, data, mode, true, times);
}

/** Access and modification times (seconds), set on the new content before it is put in place. */
export interface FileTimes {
  atime: number;
  mtime: number;
}

/**
 * Replace a file's content in one step for readers (temp file beside it, then rename),
 * without fsync: for files in the runtime dir that no crash needs to find intact (a new
 * daemon rewrites them), where two fsyncs would cost milliseconds on every write.
 */
export function replaceFile(path: string, data: string | Uint8Array, mode = 0o600): void {
  renameInto(path, data, mode, false);
}

/**
 * An empty new file put at PATH in one step (an empty temp file beside it, renamed over
 * it): a new inode at once. A rename over a file makes ext4 flush the data of the file
 * renamed (1-2 ms); an empty one has none. Readers see the old file or the empty one.
 */
export function replaceWithEmpty(path: string, mode = 0o600): void {
  const tmp = tempBeside(path);
  closeSync(openSync(tmp, 'wx', mode));
  try {
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
}

/** A new name beside PATH for the content that replaces it. */
function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The temp file, its content, the rename; with `durable`, each step reaches the disk first. */
function renameInto(path: string, data: string | Uint8Array, mode: number, durable: boolean, times?: FileTimes): void {
  const tmp = tempBeside(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    // Before the rename: no reader ever sees the new content with another time.
    if (times !== undefined) futimesSync(fd, times.atime, times.mtime);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  if (!durable) return;
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch {
    // Directory fsync is best effort (not supported on every filesystem).
  }
}
