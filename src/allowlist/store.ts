import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import { EnvdError, errnoCode, errorMessage } from '../util/errors.js';
import { ensurePrivateDir, moveAside, permissionProblem, removeDeadTemps, statOrNull } from './disk.js';
import { emptyData, encode, type AllowlistData } from './format.js';
import { contentHash, isContentHash } from './hash.js';
import { placeOf } from './place.js';
import { MAX_ENV_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';
import { createKey, type SigningKey } from './key.js';
import { loadStore, storeFingerprint, type LoadState } from './load.js';
import { DEFAULT_LOCK_OPTIONS, lockPathFor, withLock, type LockOptions } from './lock.js';
import type { AllowlistStore, SourcedRecord, StoreStatus, TrustVerdict, WriteReport } from './types.js';
import { Whitelist } from './whitelist.js';

export interface OpenOptions {
  lock?: Partial<LockOptions>;
}

/** Open the allowlist. Nothing is read until the first call; nothing is written until a change. */
export function openAllowlist(paths: EnvdPaths, config: Config, opts: OpenOptions = {}): AllowlistStore {
  return new FileAllowlist(paths, config, { ...DEFAULT_LOCK_OPTIONS, ...opts.lock });
}

/** What a change does to the data; returns false when nothing changed (no write needed). */
type Mutation = (data: AllowlistData) => boolean;

/** How many times a write is retried when its lock was broken under it (it was stalled > staleMs). */
const LOST_LOCK_RETRIES = 3;

class FileAllowlist implements AllowlistStore {
  private whitelist: Whitelist | null = null;
  private cached: { fp: string; state: LoadState } | null = null;

  constructor(private readonly paths: EnvdPaths, private config: Config, private readonly lockOpts: LockOptions) {}

  setConfig(config: Config): void {
    this.config = config;
    this.whitelist = null;
  }

  check(realPath: string, hash: string): TrustVerdict {
    try {
      const state = this.current();
      if (state.kind === 'error') return { kind: 'store-error', message: state.problem.message };
      if (state.data.denied.has(realPath)) return { kind: 'denied' };
      if (this.whitelisted(realPath)) return { kind: 'whitelisted' };
      const rec = state.data.records.get(realPath);
      if (rec !== undefined && rec.hash === hash) return { kind: 'allowed', sourced: rec.sourced === null ? null : { ...rec.sourced } };
      return { kind: 'unknown' };
    } catch (err) {
      // Not reachable by design (loadStore does not throw); a verdict is still owed.
      return { kind: 'store-error', message: `cannot check the allowlist: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  allow(realPath: string, hash: string): WriteReport {
    checkPath(realPath);
    if (!isContentHash(hash)) throw new EnvdError('INTERNAL', `allow: not a content hash: ${String(hash)}`);
    return this.change('recover', (data) => {
      data.denied.delete(realPath);
      // A new approval starts with no sourced files: the next evaluation records them.
      data.records.set(realPath, { path: realPath, hash, sourced: null, at: now() });
      return true;
    });
  }

  deny(realPath: string): WriteReport {
    checkPath(realPath);
    return this.change('recover', (data) => {
      data.records.delete(realPath);
      data.denied.set(realPath, { path: realPath, at: now() });
      return true;
    });
  }

  recordSourced(realPath: string, hash: string, sourced: Record<string, string>): void {
    this.recordSourcedAll([{ realPath, hash, sourced }]);
  }

  recordSourcedAll(records: readonly SourcedRecord[]): void {
    for (const { realPath, sourced } of records) {
      checkPath(realPath);
      for (const [p, h] of Object.entries(sourced)) {
        if (!p.startsWith('/') || p.includes('\0') || !isContentHash(h)) {
          throw new EnvdError('INTERNAL', `recordSourced: bad entry ${JSON.stringify(p)} -> ${JSON.stringify(h)}`);
        }
      }
    }
    this.change('skip', (data) => {
      let changed = false;
      for (const { realPath, hash, sourced } of records) {
        const rec = data.records.get(realPath);
        if (rec === undefined || rec.hash !== hash || data.denied.has(realPath)) continue;
        if (rec.sourced !== null && sameMap(rec.sourced, sourced)) continue;
        data.records.set(realPath, { ...rec, sourced: { ...sourced } });
        changed = true;
      }
      return changed;
    });
  }

  prune(): number {
    let removed = 0;
    this.change('refuse', (data) => {
      removed = 0;
      for (const rec of [...data.records.values()]) {
        if (!stillApproved(rec.path, rec.hash)) {
          data.records.delete(rec.path);
          removed++;
        }
      }
      return removed > 0;
    });
    return removed;
  }

  status(): StoreStatus {
    const state = this.current();
    if (state.kind === 'error') return { ok: false, message: state.problem.message };
    return {
      ok: true,
      file: this.paths.allowlistFile,
      keyFile: this.paths.keyFile,
      publicKey: state.key?.publicHex ?? null,
      records: state.data.records.size,
      denied: state.data.denied.size,
    };
  }

  private whitelisted(realPath: string): boolean {
    this.whitelist ??= new Whitelist(this.config.whitelist, this.paths.home);
    return this.whitelist.matches(realPath);
  }

  /** The verified state, re-read only when one of the files changed on disk. */
  private current(): LoadState {
    const fp = storeFingerprint(this.paths);
    if (this.cached !== null && this.cached.fp === fp) return this.cached.state;
    // Fingerprint first, then read: if the files change during the read, the next call
    // sees a different fingerprint and reads again.
    const state = loadStore(this.paths);
    this.cached = { fp, state };
    return state;
  }

  /**
   * Read-modify-write under the lock. What happens when the store on disk cannot be verified:
   * - 'recover' (allow, deny: a person asked for a change): move it aside and start anew;
   * - 'refuse' (prune): throw the problem as an EnvdError;
   * - 'skip' (recordSourced: bookkeeping after an evaluation): do nothing; and a write
   *   keeps the file's times.
   */
  private change(mode: 'recover' | 'refuse' | 'skip', mutate: Mutation): WriteReport {
    try {
      return this.changeUnguarded(mode, mutate);
    } catch (err) {
      if (err instanceof EnvdError) throw err;
      // The disk said no (EACCES, ENOSPC, ENOTDIR...). The old file is intact: writes are atomic.
      const code = errnoCode(err);
      const access = code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'EROFS';
      throw new EnvdError(access ? 'ALLOWLIST_PERMISSIONS' : 'INTERNAL', `cannot write the allowlist in ${this.paths.dataDir}: ${errorMessage(err)}`);
    }
  }

  private changeUnguarded(mode: 'recover' | 'refuse' | 'skip', mutate: Mutation): WriteReport {
    const { dataDir, allowlistFile, keyFile } = this.paths;
    if (mode !== 'recover' && !existsSync(dataDir)) return { notices: [] }; // nothing stored: nothing to change
    ensurePrivateDir(dataDir);
    const dirSt = statOrNull(dataDir);
    const dirBad = dirSt === null ? `${dataDir} is missing` : permissionProblem(dataDir, dirSt, 'dir');
    if (dirBad !== null) {
      if (mode === 'skip') return { notices: [] };
      throw new EnvdError('ALLOWLIST_PERMISSIONS', dirBad);
    }

    for (let attempt = 0; attempt <= LOST_LOCK_RETRIES; attempt++) {
      const result = withLock(lockPathFor(allowlistFile), (lock): WriteReport | 'lost' => {
        const notices: string[] = [];
        removeDeadTemps(dataDir, basename(allowlistFile));
        removeDeadTemps(dataDir, basename(keyFile));
        const fp = storeFingerprint(this.paths);
        const state = loadStore(this.paths);
        let data: AllowlistData;
        let key: SigningKey | null;
        if (state.kind === 'ok') {
          data = state.data;
          key = state.key;
        } else {
          const p = state.problem;
          if (mode === 'skip') return { notices };
          if (mode === 'refuse' || p.recover === 'refuse') throw new EnvdError(p.code, p.message);
          const moved: string[] = [];
          if (p.recover === 'new-key') moved.push(moveAside(keyFile, 'corrupt'));
          if (existsSync(allowlistFile)) moved.push(moveAside(allowlistFile, 'corrupt'));
          notices.push(`the allowlist could not be trusted: ${p.reason}. Moved it aside to ${moved.join(' and ')} and started a new allowlist with this change; re-approve your other projects with \`envd allow\``);
          data = emptyData();
          key = null;
        }
        if (!mutate(data)) {
          this.cached = { fp, state };
          return { notices };
        }
        key ??= createKey(keyFile);
        const text = encode(data, key);
        // Our lock was judged stale and broken while we were stopped: someone else may be
        // writing. Start over rather than overwrite their change.
        if (!lock.stillHeld()) return 'lost';
        // Bookkeeping ('skip') approves nothing new: the file keeps its times, set on the new
        // content before the rename so that it never shows with another (the hooks compare
        // it with their stamp to see an `envd allow`, and would ask once more).
        const was = mode === 'skip' ? statOrNull(allowlistFile) : null;
        writeFileAtomic(allowlistFile, text, 0o600, was === null ? undefined : { atime: Number(was.atimeNs) / 1e9, mtime: Number(was.mtimeNs) / 1e9 });
        // Under the lock nobody else writes, so what is on disk now is exactly `data`:
        // cache it against the new fingerprint instead of verifying our own write again.
        this.cached = { fp: storeFingerprint(this.paths), state: { kind: 'ok', data, key } };
        return { notices };
      }, this.lockOpts);
      if (result !== 'lost') return result;
    }
    throw new EnvdError('ALLOWLIST_LOCKED', `could not write ${allowlistFile}: its lock kept being taken over by other processes; try again`);
  }
}

/** Only absolute paths can be stored: anything else would make the file fail to verify. */
function checkPath(p: string): void {
  if (!p.startsWith('/') || p.includes('\0')) throw new EnvdError('INTERNAL', `allowlist: not an absolute path: ${JSON.stringify(p)}`);
}

function now(): string {
  return new Date().toISOString();
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Whether the file at a record's place still has the approved content there. */
function stillApproved(path: string, hash: string): boolean {
  try {
    if (placeOf(path) !== path) return false; // its directory is now reached another way
    return contentHash(path, readRegularFile(path, MAX_ENV_FILE_BYTES).bytes) === hash;
  } catch (err) {
    // Not a regular file any more, or too large to have been approved: not that content.
    if (err instanceof SafeReadError) return err.reason === 'UNREADABLE';
    const code = errnoCode(err);
    // Gone means gone; unreadable (EACCES, EIO) is not evidence of a change: keep it.
    return !(code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP');
  }
}
