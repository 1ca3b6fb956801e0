import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { errnoCode } from '../util/errors.js';
import { pidAlive } from '../util/process.js';

/**
 * The start lock: an exclusively created file (`O_CREAT|O_EXCL`), holding the owner's pid
 * and a random token. Whoever creates it is the one process allowed to start a daemon and
 * to remove a stale socket; everybody else waits for the socket to answer. A lock whose
 * owner is dead, or that is older than STALE_MS, is broken.
 */
export const LOCK_STALE_MS = 10_000;

export interface HeldLock {
  path: string;
  token: string;
  release(): void;
}


function readLock(path: string): { pid: number; token: string; raw: string } | null {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const [pidText, token] = raw.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  return { pid: Number.isSafeInteger(pid) ? pid : -1, token: token ?? '', raw };
}

/** Does the lock file currently carry this token (a starter handing the lock to its daemon)? */
export function lockHasToken(path: string, token: string): boolean {
  return token !== '' && readLock(path)?.token === token;
}

/** Try once to take the lock. Null when someone else holds it. */
export function tryLock(path: string): HeldLock | null {
  const token = randomBytes(12).toString('hex');
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return null;
    throw err;
  }
  try {
    writeSync(fd, `${process.pid} ${token}\n`);
  } catch (err) {
    // A full disk: an empty lock names no owner and would hold up every start until it
    // is old enough to break. Take it away at once.
    closeSync(fd);
    try { unlinkSync(path); } catch { /* nothing to remove */ }
    throw err;
  }
  closeSync(fd);
  let released = false;
  return {
    path,
    token,
    release(): void {
      if (released) return;
      released = true;
      // Only remove it if it is still ours (it may have been broken as stale meanwhile).
      if (lockHasToken(path, token)) {
        try { unlinkSync(path); } catch { /* gone already */ }
      }
    },
  };
}

/**
 * Break the lock if its owner is dead or it is too old. Returns true when the lock is gone
 * (broken here, or by someone else). Breaking renames the file aside first, so two breakers
 * cannot both succeed; if what we renamed turns out to be a fresh lock, it is put back.
 */
export function breakIfStale(path: string, now: number = Date.now()): boolean {
  const seen = readLock(path);
  if (seen === null) return true;
  let age = 0;
  try {
    age = now - statSync(path).mtimeMs;
  } catch {
    return true;
  }
  const stale = (seen.pid > 0 && !pidAlive(seen.pid)) || age > LOCK_STALE_MS || seen.pid <= 0 && age > 1000;
  if (!stale) return false;
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    return errnoCode(err) === 'ENOENT';
  }
  const took = readLock(aside);
  if (took !== null && took.raw !== seen.raw) {
    // Someone re-took the lock between our read and our rename: give it back.
    try { linkSync(aside, path); } catch { /* a third party holds it now */ }
  }
  try { unlinkSync(aside); } catch { /* gone */ }
  return true;
}
