import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, lstatSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { pidAlive } from '../util/process.js';
import { checkRuntimeDir } from './runtime-dir.js';
import type { HookBackend } from './backend.js';
import { doorEnv } from './door-env.js';
import { isPrivate, tryUnlink } from './fifo-files.js';
import { Pair, servePair } from './fifo-pair.js';

/**
 * Pairs kept for bin/envd's front door (`envd export`, `envd exec` while a daemon runs), so
 * that it starts no process: making a FIFO pair of its own costs a mkfifo(1) (1-2 ms), and
 * it cannot remove one afterwards without rm(1). In sh/:
 *
 *   door-N.req, door-N.res   FIFOs (0600), N in 0..DOOR_SLOTS-1, served as long as the
 *                            daemon runs (a daemon started later serves those it finds)
 *   door-N.env, door-N.out   the request's environment and the reply, as for a shell's pair
 *   door-N.lock              the claim, made here (0600) and empty while the pair is
 *                            free. A front door appends a ticket, `PID ID` (O_APPEND, a
 *                            builtin `>>`: appends never overwrite each other) and has
 *                            the pair when its ticket is the first line; when it has read
 *                            its answer it appends `-ID`. This side empties the lock once
 *                            its first ticket is released that way or names a process that
 *                            is gone (tickets appended behind it go with it), which frees
 *                            the slot. Nobody gets a pair between the first ticket and
 *                            the emptying: a ticket read back behind another, or from an
 *                            emptied lock, loses. No file is created or removed per
 *                            request: on ext4 each cost ~0.25 ms (the create was a tenth
 *                            of the front door's request).
 *
 * Request ids are unique per front door (its clock and pid), so an answer that is not its
 * own is never taken for one. The slots are made the first time a front door finds none
 * (it then uses a pair of its own and writes `doors` to hook.fifo): one mkfifo(1), here,
 * off every answer's path.
 */
export const DOOR_SLOTS = 8;

/**
 * After an answer the slot's lock is looked at again when the daemon next answers on
 * another slot (a front door run after another finds this one still locked and takes the
 * next), and by a timer this long after, for the last one of a run: no wake-up of its own
 * per request. Given up on after RELEASE_GIVE_UP_MS (a front door stopped while it held
 * the pair; serveExisting looks again).
 */
const RELEASE_POLL_MS = 20;
const RELEASE_GIVE_UP_MS = 60_000;
/** A first line that is no whole ticket yet, older than this: a front door killed mid-append. */
const CLAIM_GRACE_MS = 2000;
/** Tickets are short; a lock longer than this is emptied (no front door writes one). */
const MAX_LOCK_BYTES = 64 * 1024;
const TICKET_RE = /^([1-9][0-9]{0,9}) ([0-9]{1,40})$/;

export class DoorPairs {
  private readonly served = new Map<number, Pair>();
  /** Slots answered whose locks are not yet removed, with when each was answered. */
  private readonly releasing = new Map<number, number>();
  private releaseTimer: NodeJS.Timeout | null = null;
  private making = false;
  private closed = false;

  /**
   * The front door checks the owner of every file it uses, with builtins, but cannot read a
   * mode without a process: so this side checks the runtime dir as the hooks do (0700,
   * this user's, not a link, in a parent nobody else can rename it in) on every request,
   * and a dir that fails is refused like a foreign environment (`v`: the front door hands
   * over to the CLI, which says what is wrong).
   */
  private readonly guarded: HookBackend;

  constructor(private readonly shDir: string, backend: HookBackend, private readonly warn: (msg: string) => void) {
    const runtimeDir = dirname(shDir);
    const unsafe = (): string | null => unsafeDir(runtimeDir) ?? unsafeDir(shDir, false);
    const { replay, keepReply } = backend;
    this.guarded = {
      export: (req, opts) => backend.export(req, opts),
      generation: () => backend.generation(),
      budgetMs: () => backend.budgetMs(),
      ...(backend.markers === undefined ? {} : { markers: () => backend.markers?.() ?? [] }),
      foreign: (env) => unsafe() ?? backend.foreign?.(env) ?? null,
      // A kept reply (hook-replay.ts) only after the same check: a dir that fails it gets
      // the whole path, and its `v`.
      ...(replay === undefined ? {} : { replay: (raw: string) => unsafe() === null ? replay.call(backend, raw) : null }),
      ...(keepReply === undefined ? {} : { keepReply: keepReply.bind(backend) }),
    };
  }

  private base(n: number): string {
    return join(this.shDir, `door-${n}`);
  }

  /** Serve every slot whose files are there and sound; empty locks whose claims are over (sweepLock). */
  serveExisting(): void {
    for (let n = 0; n < DOOR_SLOTS; n++) {
      // Slots made by a daemon that removed its locks: the lock made now.
      if (this.served.get(n)?.closed !== false) this.makeFiles(n);
      this.sweepLock(n);
      if (this.served.get(n)?.closed === false || !this.complete(n)) continue;
      this.serve(n);
    }
  }

  /** Make the slots that are missing (one mkfifo process), then serve them. */
  ensure(): void {
    if (this.making || this.closed) return;
    const missing: string[] = [];
    for (let n = 0; n < DOOR_SLOTS; n++) {
      if (this.complete(n)) continue;
      for (const ext of ['req', 'res', 'out', 'env', 'lock']) tryUnlink(`${this.base(n)}.${ext}`);
      missing.push(`${this.base(n)}.req`, `${this.base(n)}.res`);
    }
    if (missing.length === 0) {
      this.serveExisting();
      return;
    }
    this.making = true;
    const child = spawn('mkfifo', ['-m', '600', '--', ...missing], { stdio: 'ignore' });
    const done = (why: string | null): void => {
      this.making = false;
      if (why !== null) this.warn(`front-door pairs not made: ${why}`);
      if (this.closed) return;
      for (let n = 0; n < DOOR_SLOTS; n++) this.makeFiles(n);
      this.serveExisting();
    };
    child.on('error', (err) => done(errorMessage(err)));
    child.on('exit', (code) => done(code === 0 ? null : `mkfifo exited with ${code ?? 'a signal'}`));
  }

  close(): void {
    this.closed = true;
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.releasing.clear();
    for (const p of this.served.values()) p.close(false);
    this.served.clear();
  }

  /** Both FIFOs there, private, and the env file a private regular file. */
  private complete(n: number): boolean {
    try {
      const req = lstatSync(`${this.base(n)}.req`);
      const res = lstatSync(`${this.base(n)}.res`);
      const env = lstatSync(`${this.base(n)}.env`);
      const lock = lstatSync(`${this.base(n)}.lock`);
      return req.isFIFO() && res.isFIFO() && env.isFile() && lock.isFile() && isPrivate(req) && isPrivate(res) && isPrivate(env) && isPrivate(lock);
    } catch {
      return false;
    }
  }

  private makeFiles(n: number): void {
    if (!existsSync(`${this.base(n)}.req`)) return;
    for (const ext of ['env', 'lock']) {
      try {
        closeSync(openSync(`${this.base(n)}.${ext}`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
      } catch {
        // There already (checked by complete()), or the slot stays unmade.
      }
    }
  }

  private serve(n: number): void {
    let pair: Pair;
    try {
      pair = Pair.open(this.base(n), process.pid);
    } catch (err) {
      this.warn(`front-door pair ${n} refused: ${errorMessage(err)}`);
      return;
    }
    this.served.set(n, pair);
    servePair(pair, this.guarded, this.warn, (unlink) => {
      pair.close(unlink);
      if (this.served.get(n) === pair) this.served.delete(n);
    }, () => this.releaseSoon(n), () => doorEnv(pair.base, pair.reqFile));
  }

  /**
   * After an answer on slot N: the other slots whose front doors may be done are looked at
   * now (their locks removed once they say so), N at the next answer or by the timer.
   */
  private releaseSoon(n: number): void {
    if (this.closed) return;
    this.sweepReleasing(n);
    if (!this.releasing.has(n)) this.releasing.set(n, Date.now());
    this.armRelease();
  }

  private sweepReleasing(except: number): void {
    const now = Date.now();
    for (const [m, since] of this.releasing) {
      if (m !== except && (this.sweepLock(m) || now - since > RELEASE_GIVE_UP_MS)) this.releasing.delete(m);
    }
  }

  private armRelease(): void {
    if (this.releaseTimer !== null || this.closed || this.releasing.size === 0) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      this.sweepReleasing(-1);
      this.armRelease();
    }, RELEASE_POLL_MS);
    this.releaseTimer.unref();
  }

  /**
   * Empty the lock when its first ticket is released (`-ID` after it), names a process that
   * is gone, or is no ticket (after CLAIM_GRACE_MS when it may still be being written);
   * true when the slot is free.
   */
  private sweepLock(n: number): boolean {
    return sweepLockFile(`${this.base(n)}.lock`);
  }
}

/**
 * sweepLock on the file at PATH, in one open (it runs after every answer: a read and a
 * truncate each opening the file cost ~8 syscalls where this costs 5). Opened without
 * following a link and without waiting on a FIFO put there; a lock that is not a small
 * regular file is emptied if it is a file (complete() fails the slot otherwise).
 */
function sweepLockFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    // Gone (ensure() makes it again) or not one to open: the slot is free or unmade.
    return true;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0) return true;
    if (st.size <= MAX_LOCK_BYTES) {
      const buf = Buffer.allocUnsafe(st.size);
      const text = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
      const nl = text.indexOf('\n');
      const m = nl === -1 ? null : TICKET_RE.exec(text.slice(0, nl));
      if (m === null) {
        if (nl === -1 && text.length < 64 && Date.now() - st.mtimeMs < CLAIM_GRACE_MS) return false;
      } else {
        const [, pid = '', id = ''] = m;
        if (!text.includes(`\n-${id}\n`) && pidAlive(Number(pid))) return false;
      }
    }
    // On the loop, after the answer that came before it: through the thread pool it cost
    // a futex wake and a wake-up of the loop for its completion, each time.
    ftruncateSync(fd, 0);
    return true;
  } catch {
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Why DIR is not private (the runtime dir's rule; sh/ without the parent part), or null. */
function unsafeDir(dir: string, withParent = true): string | null {
  try {
    if (withParent) {
      checkRuntimeDir(dir, { create: false });
      return null;
    }
    const st = lstatSync(dir);
    return st.isDirectory() && isPrivate(st) ? null : `${dir} is not a private directory`;
  } catch (err) {
    return errorMessage(err);
  }
}
