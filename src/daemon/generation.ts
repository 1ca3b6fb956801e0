import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { replaceFile } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';

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

  constructor(private readonly file: string, private readonly onError: (message: string) => void, polling = false) {
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

  private write(): void {
    const text = Buffer.from(`${this.value}${this.polling ? POLL_SUFFIX : ''}\n`);
    try {
      // Same length as the last write: overwrite in place. It is written on the answer's
      // path at every evaluation, and a rename over the old file makes ext4 flush the new
      // one (milliseconds). A reader sees the old bytes or the new ones; even one that saw
      // a mix would see the old number or one it never had, and ask again either way.
      if (text.length === this.written && this.overwrite(text)) return;
      // Renamed into place, not fsynced: after a crash a new daemon starts above the clock.
      replaceFile(this.file, text, 0o600);
      // And written again where it now is: the renamed file's mtime is the temp file's,
      // from before the rename. The hooks' note (shells/bash/hook.bash, _envd_hook) relies
      // on every change leaving an mtime no older than any moment the old bytes were read.
      this.rewrite(text);
      this.written = text.length;
      this.writtenSec = Math.floor(statSync(this.file).mtimeMs / 1000);
    } catch (err) {
      this.written = 0;
      this.writtenSec = -1;
      this.onError(`cannot write the generation file ${this.file}: ${errorMessage(err)}`);
    }
  }

  private rewrite(text: Buffer): void {
    const fd = openSync(this.file, constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      writeSync(fd, text, 0, text.length, 0);
    } finally {
      closeSync(fd);
    }
  }

  private overwrite(text: Buffer): boolean {
    let fd: number;
    try {
      fd = openSync(this.file, constants.O_WRONLY | constants.O_NOFOLLOW);
    } catch {
      return false;
    }
    try {
      if (writeSync(fd, text, 0, text.length, 0) !== text.length) return false;
      // tcsh cannot read the file without a process: its hook sees a new number as a new
      // mtime second (-M) or a new inode (-I). An overwrite in the same second as the last
      // write shows neither, so that one is renamed into place after all (a new inode).
      const sec = Math.floor(fstatSync(fd).mtimeMs / 1000);
      if (sec === this.writtenSec) return false;
      this.writtenSec = sec;
      return true;
    } catch {
      return false;
    } finally {
      closeSync(fd);
    }
  }
}
