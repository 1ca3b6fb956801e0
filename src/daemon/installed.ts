import { join } from 'node:path';
import { PACKAGE_ROOT, readPackageVersion } from '../version.js';
import { stamp, type StatBatch } from './stat-batch.js';

/**
 * The package this daemon was started from, as it is on disk now. An upgrade in place
 * (`npm install -g`, `git pull && npm ci` in a linked clone) replaces the files but not
 * the running daemon, whose code, stdlib and hook protocol are then older than what the
 * shells load. The CLI notices at its hello; a hook would not, so the daemon checks for
 * itself, at the cost of one stat per request (shared by the replies of one loop turn:
 * stat-batch.ts), and steps down when its package changed.
 */
export class InstalledPackage {
  private readonly file: string;
  private readonly root: string;
  private stamp: string;
  private readonly startVersion: string | null;
  private now: string | null;

  constructor(root: string = PACKAGE_ROOT) {
    this.root = root;
    this.file = join(root, 'package.json');
    this.stamp = stamp(this.file);
    this.startVersion = this.read();
    this.now = this.startVersion;
  }

  /** The version installed now, when it is not the one this daemon started with; else null. */
  replacedBy(stats?: StatBatch): string | null {
    const now = stats !== undefined ? stats.stamp(this.file) : stamp(this.file);
    if (now !== this.stamp) {
      this.stamp = now;
      this.now = this.read();
    }
    // Mid-write (unreadable or half a file): not a verdict yet; the next request looks again.
    return this.now !== null && this.now !== this.startVersion ? this.now : null;
  }

  private read(): string | null {
    return readPackageVersion(this.root);
  }
}
