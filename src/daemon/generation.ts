import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';

/**
 * The generation file: one decimal number that hooks read on every prompt with a builtin
 * redirection. Whenever something the daemon watches or trusts changes, the number goes
 * up, and hooks ask again. A new daemon starts above both the old file's number and the
 * clock in milliseconds, so even a runtime dir wiped by a reboot never repeats a number a
 * long-lived shell has already seen.
 */
export class Generation {
  private value: number;

  constructor(private readonly file: string, private readonly onError: (message: string) => void) {
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

  /** Move to a new number and publish it before returning (callers answer after this). */
  bump(): number {
    this.value += 1;
    this.write();
    return this.value;
  }

  private write(): void {
    try {
      writeFileAtomic(this.file, `${this.value}\n`, 0o600);
    } catch (err) {
      this.onError(`cannot write the generation file ${this.file}: ${errorMessage(err)}`);
    }
  }
}
