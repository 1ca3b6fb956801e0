import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { pidAlive } from '../util/process.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EnvdError, errnoCode } from '../util/errors.js';

/**
 * A cross-process lock: a lock file created with O_EXCL holding "pid host nonce time".
 *
 * Node has no flock(), so a holder that dies (kill -9) leaves the file behind. A waiter
 * treats the lock as stale when its pid is gone on this host, or it is older than
 * `staleMs` (pid reuse, another host on a shared home). Breaking a stale lock is done by
 * renaming it to a private name and checking it is still the one judged stale; if it was
 * replaced meanwhile by a live holder's lock, that lock is linked back into place.
 * Holders re-check the lock is still theirs just before they commit (`stillHeld`).
 */
export interface LockOptions {
  /** Give up after this long (ALLOWLIST_LOCKED). */
  timeoutMs: number;
  /** A lock older than this is stale whatever its pid says. */
  staleMs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { timeoutMs: 10_000, staleMs: 30_000 };

export interface HeldLock {
  path: string;
  token: string;
  /** Whether the lock file is still ours (nobody judged it stale and broke it). */
  stillHeld(): boolean;
  release(): void;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

interface LockInfo {
  pid: number;
  host: string;
  time: number;
}

function parseLock(text: string): LockInfo | null {
  const m = /^(\d+) (\S+) [0-9a-f]+ (\d+)\n$/.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return null;
  return { pid: Number(m[1]), host: m[2], time: Number(m[3]) };
}

/** This host's name as written in lock files (one word). */
function hostWord(): string {
  return hostname().replace(/\s/g, '_') || 'localhost';
}


function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** Whether the lock whose content is `text` (file mtime `mtimeMs`) is abandoned. */
function isStale(text: string, mtimeMs: number, staleMs: number, now: number): boolean {
  const info = parseLock(text);
  // A half-written lock file (the holder died between create and write) has no content
  // to go by: judge it by age alone.
  if (info === null) return now - mtimeMs > Math.min(staleMs, 2_000);
  if (now - Math.max(info.time, mtimeMs) > staleMs) return true;
  return info.host === hostWord() && !pidAlive(info.pid);
}

function breakStale(path: string, judged: string): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return; // someone else broke it first
    throw err;
  }
  const took = readText(aside);
  if (took !== judged) {
    // We took a fresh, live lock by mistake: put it back unless another one appeared.
    try { linkSync(aside, path); } catch { /* its holder will see stillHeld() === false */ }
  }
  try { unlinkSync(aside); } catch { /* already gone */ }
}

/**
 * Fairness. Polling a lock is not a queue: a process that writes back to back would re-take
 * the lock in the microseconds between its release and a waiter's next poll, forever. So a
 * process that has waited longer than PATIENT_MS keeps a marker file fresh, and a newcomer
 * that sees a fresh marker stands back (for at most PATIENT_MS) instead of taking the lock.
 */
const PATIENT_MS = 100;
const MARKER_FRESH_MS = 250;

function someoneWaiting(marker: string, now: number): boolean {
  try {
    return now - statSync(marker).mtimeMs < MARKER_FRESH_MS;
  } catch {
    return false;
  }
}

function markWaiting(marker: string): void {
  try { writeFileSync(marker, '', { mode: 0o600 }); } catch { /* only a courtesy */ }
}

export function acquireLock(path: string, opts: LockOptions = DEFAULT_LOCK_OPTIONS): HeldLock {
  const token = randomBytes(8).toString('hex');
  const content = `${process.pid} ${hostWord()} ${token} ${Date.now()}\n`;
  const marker = `${path}.waiting`;
  const start = Date.now();
  const deadline = start + opts.timeoutMs;
  let delay = 2;
  for (;;) {
    const patient = Date.now() - start >= PATIENT_MS;
    let fd: number | undefined;
    if (patient || !someoneWaiting(marker, Date.now())) {
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      if (patient) {
        try { unlinkSync(marker); } catch { /* another waiter's, or gone */ }
      }
      return {
        path,
        token,
        stillHeld: () => readText(path) === content,
        release: () => {
          if (readText(path) === content) {
            try { unlinkSync(path); } catch { /* already gone */ }
          }
          // A marker left by a waiter that gave up or died: tidy it once it means nothing.
          if (!someoneWaiting(marker, Date.now())) {
            try { unlinkSync(marker); } catch { /* none */ }
          }
        },
      };
    }
    if (patient) markWaiting(marker);
    const text = readText(path);
    if (text === null && fd === undefined && !patient) {
      // Free, but we stood back for a patient waiter.
      sleepSync(delay + Math.random() * delay);
      continue;
    }
    if (text !== null) {
      let mtimeMs = Date.now();
      try { mtimeMs = statSync(path).mtimeMs; } catch { /* gone: retry at once */ }
      if (isStale(text, mtimeMs, opts.staleMs, Date.now())) {
        breakStale(path, text);
        continue;
      }
    } else {
      continue; // released between our open and read
    }
    if (Date.now() >= deadline) {
      const info = parseLock(text);
      const who = info !== null ? `process ${info.pid} on ${info.host}` : 'another process';
      throw new EnvdError('ALLOWLIST_LOCKED', `the allowlist is locked by ${who} (lock file ${path}); try again, and if no envd is running, remove the lock file`);
    }
    sleepSync(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 20);
  }
}

export function withLock<T>(path: string, fn: (lock: HeldLock) => T, opts?: LockOptions): T {
  const lock = acquireLock(path, opts);
  try {
    return fn(lock);
  } finally {
    lock.release();
  }
}
