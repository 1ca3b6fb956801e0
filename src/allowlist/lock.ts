import { closeSync, existsSync, linkSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { pidAlive } from '../util/process.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { EnvdError, errnoCode, errorMessage } from '../util/errors.js';

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
 * A lock moved aside by breakStale whose breaker was killed before removing it: tidied by
 * the next holder on release, once that process is gone (the dir holds a handful of files).
 */
function sweepAside(path: string): void {
  const prefix = `${basename(path)}.stale.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) continue;
    try { unlinkSync(join(dirname(path), name)); } catch { /* gone */ }
  }
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

/** The lock file of a file written under a lock. */
export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

/**
 * Create the lock file with our content, or null when it exists. A lock file that could not
 * be written (ENOSPC, EFBIG, EIO) is removed at once: an empty lock names no holder, and
 * would hold up every writer until it is old enough to break.
 */
function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw lockFileError(path, err);
  }
  try {
    const written = writeSync(fd, content);
    if (written !== Buffer.byteLength(content)) throw new Error(`only ${written} bytes of the lock could be written (disk full?)`);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(path); } catch { /* nothing to remove */ }
    throw lockFileError(path, err);
  }
  closeSync(fd);
  return true;
}

function lockFileError(path: string, err: unknown): EnvdError {
  const code = errnoCode(err);
  const access = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR';
  const full = code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT';
  return new EnvdError(access ? 'ALLOWLIST_PERMISSIONS' : 'INTERNAL', `cannot write the lock file ${path}: ${errorMessage(err)}${full ? '; free some disk space and try again' : ''}`);
}

/**
 * Locks this process holds through withLockAsync, while the function given runs. A
 * synchronous acquireLock of the same path inside it uses that lock instead of waiting for
 * itself: JavaScript runs one synchronous section at a time, so within one process the
 * sections cannot interleave anyway.
 */
const ambient = new Map<string, HeldLock>();

/**
 * The waiting, as steps: each yield is a pause in ms, the return is the lock. One algorithm
 * for the synchronous caller (the one-shot CLI may block) and the asynchronous one (a daemon
 * must not: its event loop serves every shell).
 */
function* acquireSteps(path: string, opts: LockOptions): Generator<number, HeldLock, void> {
  const token = randomBytes(8).toString('hex');
  const content = `${process.pid} ${hostWord()} ${token} ${Date.now()}\n`;
  const marker = `${path}.waiting`;
  const start = Date.now();
  const deadline = start + opts.timeoutMs;
  let delay = 2;
  for (;;) {
    const patient = Date.now() - start >= PATIENT_MS;
    let created = false;
    if (patient || !someoneWaiting(marker, Date.now())) created = tryCreate(path, content);
    if (created) {
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
          sweepAside(path);
        },
      };
    }
    if (patient) markWaiting(marker);
    const text = readText(path);
    if (text === null && !patient) {
      // Free, but we stood back for a patient waiter.
      yield delay + Math.random() * delay;
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
    yield delay + Math.random() * delay;
    delay = Math.min(delay * 2, 20);
  }
}

/** Take the lock, waiting synchronously (for the one-shot CLI; a daemon uses withLockAsync). */
export function acquireLock(path: string, opts: LockOptions = DEFAULT_LOCK_OPTIONS): HeldLock {
  const held = ambient.get(path);
  if (held !== undefined) return { path, token: held.token, stillHeld: () => held.stillHeld(), release: () => { /* the outer holder releases */ } };
  const steps = acquireSteps(path, opts);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    sleepSync(step.value);
  }
}

/** Take the lock, waiting without blocking the event loop. */
export async function acquireLockAsync(path: string, opts: LockOptions = DEFAULT_LOCK_OPTIONS): Promise<HeldLock> {
  const steps = acquireSteps(path, opts);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    await new Promise((r) => setTimeout(r, step.value));
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

/**
 * Wait for the lock without blocking, then run `fn` (synchronous) holding it: the
 * synchronous withLock calls inside `fn` (the allowlist store's writes) find it held.
 */
export async function withLockAsync<T>(path: string, fn: () => T, opts?: LockOptions): Promise<T> {
  // No directory yet, so no lock anyone could hold: `fn` creates the directory (with the
  // checks that go with it) and takes the lock itself.
  if (!existsSync(dirname(path))) return fn();
  const lock = await acquireLockAsync(path, opts);
  ambient.set(path, lock);
  try {
    return fn();
  } finally {
    ambient.delete(path);
    lock.release();
  }
}
