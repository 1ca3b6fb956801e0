import { spawnSync } from 'node:child_process';
import {
  chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, unlinkSync, type Stats,
} from 'node:fs';
import { Socket } from 'node:net';
import { userId } from '../config/paths.js';
import { MAX_HOOK_REQUEST_BYTES } from '../protocol/hook-records.js';
import { errnoCode, errorMessage } from '../util/errors.js';

/**
 * The files of bash's FIFO transport (fifo.ts): made, checked and opened so that nothing
 * in $RUNDIR/sh is followed through a link, swapped in between, or readable by others.
 */

/** `<pid>-<token>.<ext>`: the files of one shell's pair (`.wd`: fish's watchdog FIFO, shells/fish/hook.fish). */
export const PAIR_RE = /^([0-9]{1,10})-([A-Za-z0-9]{1,40})\.(req|res|out|env|wd|stamp)$/;

export function isPrivate(st: Stats): boolean {
  return st.uid === userId() && (st.mode & 0o077) === 0;
}


export function tryUnlink(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}

export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== userId()) throw new Error(`${dir} is not a directory owned by this user`);
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/** Node has no mkfifo(3); the daemon runs mkfifo(1) once at start. */
export function makeFifo(path: string): void {
  for (let attempt = 0; ; attempt++) {
    tryUnlink(path);
    const r = spawnSync('mkfifo', ['-m', '600', path], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status === 0) break;
    // A shell's `<>` may have created a plain file in between: take it away and retry.
    if (attempt >= 2) throw new Error(`mkfifo ${path} failed: ${r.error !== undefined ? errorMessage(r.error) : r.stderr.trim()}`);
  }
  const st = lstatSync(path);
  if (!st.isFIFO() || !isPrivate(st)) throw new Error(`${path} is not a private FIFO`);
}

/** Which file a path named when it was looked at (stat's inode and device). */
export interface FileId {
  readonly ino: number;
  readonly dev: number;
}

/** Open a FIFO for polling; the inode must be the one checked (no swap in between). */
export function openFifo(path: string, checked: FileId): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  const st = fstatSync(fd);
  if (!st.isFIFO() || st.ino !== checked.ino || st.dev !== checked.dev) {
    closeSync(fd);
    throw new Error(`${path} changed while opening it`);
  }
  return fd;
}

export function fifoSocket(fd: number, dir: 'read' | 'write'): Socket {
  return new Socket({ fd, readable: dir === 'read', writable: dir === 'write' });
}

/** The shell's `.env`: a regular file in sh/ (never followed through a link). */
export function readEnvFile(base: string): Buffer {
  const fd = openSync(`${base}.env`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== userId()) throw new Error(`${base}.env is not a regular file of this user`);
    // The hook makes it 0600; one from an older hook has the shell's umask (0664 under
    // umask 002). sh/ (0700) keeps others out either way; this makes the file private too.
    if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    if (st.size > MAX_HOOK_REQUEST_BYTES) throw new Error(`${base}.env is over ${MAX_HOOK_REQUEST_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
