import { spawn } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { pidAlive } from '../util/process.js';
import { readRegularText } from '../util/safe-read.js';
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
 *   door-N.lock              the claim: a front door creates it with O_EXCL (bash's
 *                            noclobber `>`, a builtin), writing its pid; when it has read
 *                            its answer it writes `-` over the pid's first digit (`1<>`:
 *                            no truncation, which ext4 follows with a flush). This side
 *                            removes the lock once it says `-` or its process is gone,
 *                            which frees the slot. A lock rewritten, not removed: the
 *                            front door has no builtin to remove a file. An empty lock is
 *                            a claim being made (created, its pid not written yet): kept,
 *                            unless it stays empty for CLAIM_GRACE_MS (a front door killed
 *                            in between). Removing it then would let a second front door
 *                            claim the pair the first is about to use.
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
/** An empty lock older than this is a claim that was never finished. */
const CLAIM_GRACE_MS = 2000;

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

  /** Serve every slot whose files are there and sound; remove locks of processes that are gone. */
  serveExisting(): void {
    for (let n = 0; n < DOOR_SLOTS; n++) {
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
      for (let n = 0; n < DOOR_SLOTS; n++) this.makeEnv(n);
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
      return req.isFIFO() && res.isFIFO() && env.isFile() && isPrivate(req) && isPrivate(res) && isPrivate(env);
    } catch {
      return false;
    }
  }

  private makeEnv(n: number): void {
    try {
      closeSync(openSync(`${this.base(n)}.env`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    } catch {
      // There already (checked by complete()), or the slot stays unmade.
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
    }, () => this.releaseSoon(n), () => doorEnv(pair.base));
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
   * Remove the lock when it says `-` (released), names a process that is gone, or has been
   * empty too long; true when no lock is left.
   */
  private sweepLock(n: number): boolean {
    const path = `${this.base(n)}.lock`;
    const text = readLock(path);
    if (text === null) return true;
    const claim = text.trim();
    if (claim === '' && text === '' && claimedWithin(path, CLAIM_GRACE_MS)) return false;
    // `-` over the pid's first digit (or in its place): released.
    const pid = Number.parseInt(claim, 10);
    if (!claim.startsWith('-') && /^[0-9]+$/.test(claim) && Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) return false;
    // On the loop, after the answer that came before it: through the thread pool it cost
    // a futex wake and a wake-up of the loop for its completion, each time. A lock already
    // gone is fine.
    try {
      unlinkSync(path);
    } catch {
      // Gone already.
    }
    return true;
  }
}

/**
 * The lock's text; null when there is none, '' when it is not a small regular file (then
 * it is removed). Never blocks: safe-read opens without waiting on a FIFO put there.
 */
function readLock(path: string): string | null {
  try {
    return readRegularText(path, 64);
  } catch {
    return '';
  }
}

/** Whether the lock at PATH (a small regular file) was last written within `ms`. */
function claimedWithin(path: string, ms: number): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && Date.now() - st.mtimeMs < ms;
  } catch {
    return false;
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
