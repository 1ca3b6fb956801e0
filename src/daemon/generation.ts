import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type { EnvdPaths } from '../config/paths.js';
import { replaceWithEmpty } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';
import { checkRuntimeDir } from './runtime-dir.js';

/**
 * The daemon's first seconds, when a tcsh answered without it (by a CLI while it started)
 * may be watching the file without having asked it anything yet.
 */
const STARTING_MS = 3000;

/**
 * How long a replaced generation file is held open, and how many at most. An inode is free
 * for the next new file once its file is gone; held, it cannot come back within the
 * second, where tcsh tells changes apart by inode alone.
 */
const HOLD_MS = 2000;
const MAX_HELD = 64;

/** Appended to the number while edits may go unseen (file watching off or failing). */
export const POLL_SUFFIX = '+poll';

/**
 * The generation file: one decimal number that hooks read on every prompt with a builtin
 * redirection. Whenever something the daemon watches or trusts changes, the number goes
 * up, and hooks ask again. A new daemon starts above both the old file's number and the
 * clock in milliseconds, so even a runtime dir wiped by a reboot never repeats a number a
 * long-lived shell has already seen.
 *
 * While the watcher is off or failing, nothing would move the number when a file changes,
 * so the file says `N+poll`. Answers still carry plain `N`: a hook inside a project then
 * never sees the file equal to its last answer and asks at every prompt (direnv's
 * behaviour), where the request's stat check notices edits. Outside projects hooks do not
 * ask, whatever the file says.
 */
export class Generation {
  private value: number;
  private polling: boolean;
  /** Bytes of the file as this process last wrote it (0: not written yet, or unknown). */
  private written = 0;
  /** The whole second of the file's mtime after the last write (-1: unknown). */
  private writtenSec = -1;
  /**
   * Whether a shell that sees only mtime seconds and inodes (tcsh) uses this daemon: then
   * a second change within one second gets a new inode (a rename: ~0.5 ms on ext4, on
   * every evaluation's answer in a busy second). Also in the daemon's first seconds when
   * the file `starting.marker` is there: a CLI that answered a tcsh in-process made it
   * (noteTcshAnswered) before working out its answer, and that tcsh may be watching the
   * file without having asked the daemon anything yet. Without that file a new daemon
   * does not rename: it cost each of its first answers after an evaluation ~0.45 ms.
   */
  private newInodes = false;
  private readonly bornAt = Date.now();
  /** Replaced files still open (HOLD_MS): their inodes are not handed out again meanwhile. */
  private readonly held: Array<{ fd: number; at: number }> = [];

  constructor(
    private readonly file: string,
    private readonly onError: (message: string) => void,
    polling = false,
    /**
     * The file a CLI makes when it answered a tcsh without the daemon (noteTcshAnswered),
     * and how long after its start this daemon looks for it; null: never.
     */
    private readonly starting: { readonly marker: string; readonly ms?: number } | null = null,
  ) {
    this.polling = polling;
    let previous = 0;
    try {
      const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isSafeInteger(n) && n > 0) previous = n;
    } catch {
      // No file yet (or unreadable): start from the clock.
    }
    this.value = Math.max(previous + 1, Date.now());
    this.write();
  }

  get current(): number {
    return this.value;
  }

  /** From now on, a change within the same second as the last one gets a new inode. */
  needNewInodes(): void {
    this.newInodes = true;
  }

  private inodesNeeded(): boolean {
    const s = this.starting;
    if (this.newInodes || s === null || Date.now() - this.bornAt >= (s.ms ?? STARTING_MS)) return this.newInodes;
    // One stat, only for a change within the same second in the first seconds.
    if (existsSync(s.marker)) this.newInodes = true;
    return this.newInodes;
  }

  /** Hooks must ask at every prompt in a project (true) or only when the number moves. */
  setPolling(on: boolean): void {
    if (on === this.polling) return;
    this.polling = on;
    this.bump();
  }

  /** Move to a new number and publish it before returning (callers answer after this). */
  bump(): number {
    this.value += 1;
    this.write();
    return this.value;
  }

  private text(): Buffer {
    return Buffer.from(`${this.value}${this.polling ? POLL_SUFFIX : ''}\n`);
  }

  private write(): void {
    const text = this.text();
    try {
      // Same length as the last write: overwrite in place. It is written on the answer's
      // path at every evaluation, and a rename over the old file makes ext4 flush the new
      // one (1-2 ms). A reader sees the old bytes or the new ones; even one that saw a mix
      // would see the old number or one it never had, and ask again either way.
      if (text.length === this.written && this.overwrite(text) === 'written') return;
      // A first write, another length, or a second number within one second, which tcsh
      // sees only as a new inode: an empty file renamed into place (nothing for ext4 to
      // flush), then the number written in it. A reader in between sees an empty file and
      // asks once more. Not fsynced: after a crash a new daemon starts above the clock.
      // The mtime is the in-place write's, after the rename: the hooks' note
      // (shells/bash/hook.bash, _envd_hook) relies on every change leaving an mtime no
      // older than any moment the old bytes were read.
      this.holdCurrent();
      replaceWithEmpty(this.file, 0o600);
      const fd = openSync(this.file, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        writeSync(fd, text, 0, text.length, 0);
      } finally {
        closeSync(fd);
      }
      this.written = text.length;
      this.writtenSec = Math.floor(statSync(this.file).mtimeMs / 1000);
    } catch (err) {
      this.written = 0;
      this.writtenSec = -1;
      this.onError(`cannot write the generation file ${this.file}: ${errorMessage(err)}`);
    }
  }

  /**
   * Keep the file about to be replaced open for a while. Without it, ext4 hands its freed
   * inode to the next new file: two changes within a second (an `envd allow` makes two:
   * its own and the allowlist's watch event) bring the first inode back, and a tcsh that
   * looked before both sees the same second and inode, and misses them.
   */
  private holdCurrent(): void {
    const now = Date.now();
    for (let h = this.held[0]; h !== undefined && (now - h.at > HOLD_MS || this.held.length >= MAX_HELD); h = this.held[0]) {
      this.held.shift();
      try { closeSync(h.fd); } catch { /* closed already */ }
    }
    try {
      this.held.push({ fd: openSync(this.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK), at: now });
    } catch {
      // No file yet, or not one to hold: nothing to keep.
    }
  }

  /** In place: 'written', or 'same second' (written, but tcsh cannot see it), or 'failed' (nothing written). */
  private overwrite(text: Buffer): 'written' | 'same second' | 'failed' {
    let fd: number;
    try {
      fd = openSync(this.file, constants.O_WRONLY | constants.O_NOFOLLOW);
    } catch {
      return 'failed';
    }
    try {
      if (writeSync(fd, text, 0, text.length, 0) !== text.length) return 'failed';
      // tcsh cannot read the file without a process: its hook sees a new number as a new
      // mtime second (-M) or a new inode (-I). An overwrite in the same second as the last
      // write shows neither, so that one is renamed into place after all (a new inode).
      // (Only when such a shell is about: see newInodes.)
      const sec = Math.floor(fstatSync(fd).mtimeMs / 1000);
      if (sec === this.writtenSec && this.inodesNeeded()) return 'same second';
      this.writtenSec = sec;
      return 'written';
    } catch {
      return 'failed';
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Said by a CLI that answers a tcsh without the daemon (src/cli/starting-service.ts), before
 * it works out the answer: a daemon in its first seconds then gives each change within one
 * second a new inode (Generation). Only in a runtime dir that is there and safe: without
 * one there is no generation file yet, and the daemon's first write of it is a change any
 * tcsh sees.
 */
export function noteTcshAnswered(paths: EnvdPaths): void {
  try {
    if (!checkRuntimeDir(paths.runtimeDir, { create: false })) return;
    closeSync(openSync(paths.tcshAnsweredFile, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600));
  } catch {
    // Not said: a change the daemon makes in the second that tcsh looked may go unseen
    // by it until a later one.
  }
}
