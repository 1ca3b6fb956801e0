import { statSync, type Stats } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { contentHash, judgeFile, openAllowlist, placeOf, type AllowlistStore, type SourcedRecord, type TrustVerdict } from '../allowlist/index.js';
import { lockPathFor, withLockAsync } from '../allowlist/lock.js';
import { loadConfig, type Config } from '../config/config.js';
import { resolvePaths, tildePath, type EnvdPaths } from '../config/paths.js';
import { assertUtf8Path } from '../util/byte-paths.js';
import { EnvdError } from '../util/errors.js';
import { MAX_ENV_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';
import { findEnvFile, type EnvFileKind } from './find.js';
import type { TrustChange } from './service-types.js';

/** What a trust check looks at: the file as found, its place, what was read and hashed there. */
export interface TrustSubject {
  path: string;
  kind: EnvFileKind;
  realFile: string;
  hash: string;
  /** fstat of the descriptor the content was read from; null for `[go] auto`'s own content. */
  stat: Stats | null;
}

/**
 * Every trust operation: approving and denying (`envd allow|deny|edit`), pruning, and the
 * checks a request makes (the allowlist's verdict with the file's owner and mode, sourced
 * files that changed since the approval, recording what a first evaluation sourced). Used
 * by LocalService and, directly, by `envd edit`.
 */
export class Trust {
  /** The allowlist as this process last wrote it (bookkeeping writes are not news). */
  private ownWrite: string | null = null;
  /** Bookkeeping writes deferred past the answer; idle() waits for them. */
  private readonly pendingWrites = new Set<Promise<void>>();
  /** recordSourcedLater's records, written together once the daemon has been quiet. */
  private readonly queued = new Map<string, SourcedRecord>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushDone: (() => void) | null = null;

  constructor(private readonly paths: EnvdPaths, private readonly allowlist: AllowlistStore) {}

  /** Use a reloaded config (the whitelist) from now on. */
  setConfig(config: Config): void {
    this.allowlist.setConfig(config);
  }

  check(realFile: string, hash: string): TrustVerdict {
    return this.withQueued(realFile, hash, this.allowlist.check(realFile, hash));
  }

  /**
   * A verdict as it stands with the records not yet written (recordSourcedLater): what the
   * first evaluation sourced is approved from that moment, not from the write.
   */
  private withQueued(realFile: string, hash: string, v: TrustVerdict): TrustVerdict {
    if (v.kind !== 'allowed' || v.sourced !== null) return v;
    const q = this.queued.get(realFile);
    return q !== undefined && q.hash === hash ? { kind: 'allowed', sourced: { ...q.sourced } } : v;
  }

  /**
   * The allowlist's verdict on what was read, after the file's owner and mode are judged
   * (on the descriptor the bytes came from). A whitelisted file is trusted whatever it
   * says, so it is judged more strictly (see judgeFile). Throws EnvdError('FILE_UNSAFE').
   */
  verdictFor(t: TrustSubject): TrustVerdict {
    // A Go pin with no env file runs no user code: it only selects among installed SDKs.
    if (t.kind === 'go-auto' || t.stat === null) return { kind: 'whitelisted' };
    const verdict = this.withQueued(t.realFile, t.hash, this.allowlist.check(t.realFile, t.hash));
    const safety = judgeFile(t.path, t.stat, verdict.kind === 'whitelisted' ? 'none' : 'content');
    if (!safety.ok) throw new EnvdError('FILE_UNSAFE', safety.message);
    return verdict;
  }

  isApproved(realPath: string, hash: string | null): boolean {
    if (hash === null) return false;
    const v = this.allowlist.check(realPath, hash);
    return v.kind === 'allowed' || v.kind === 'whitelisted';
  }

  /**
   * A recorded sourced file whose content changed (and is not approved itself), or null.
   * Gone is a state the approved file allows for (source_env_if_exists): it runs without
   * it. Brought back with other content, it is blocked again.
   */
  changedSourced(sourced: Record<string, string> | null): string | null {
    for (const [p, h] of Object.entries(sourced ?? {})) {
      let now: string | null = null;
      try {
        now = contentHash(p, readRegularFile(p, MAX_ENV_FILE_BYTES).bytes);
      } catch (err) {
        if (err instanceof SafeReadError && err.reason === 'NOT_FOUND') continue;
        now = null;
      }
      if (now !== h && !this.isApproved(p, now)) return p;
    }
    return null;
  }

  /** The strict rule for sourced files, given a verdict: the changed file that blocks it, or null. */
  blockingSourced(v: TrustVerdict, config: Config): string | null {
    return v.kind === 'allowed' && config.trust.sourcedFiles === 'strict' ? this.changedSourced(v.sourced) : null;
  }

  /**
   * Record what the first evaluation after an approval sourced, after the answer has gone
   * out and once the daemon has been quiet for a moment (signing and fsync under a lock
   * take milliseconds of its one thread: done at once, they held the next shell's request,
   * entering the next project, as long). Records made together are written together.
   */
  recordSourcedLater(realFile: string, hash: string, sourced: Record<string, string>): void {
    this.queued.set(realFile, { realPath: realFile, hash, sourced });
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    else {
      const p = new Promise<void>((resolveWrite) => { this.flushDone = resolveWrite; });
      this.pendingWrites.add(p);
      void p.then(() => this.pendingWrites.delete(p));
    }
    this.flushTimer = setTimeout(() => { this.flushQueued(); }, QUIET_MS);
  }

  private flushQueued(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const items = [...this.queued.values()];
    this.queued.clear();
    const done = this.flushDone;
    this.flushDone = null;
    // The lock is waited for without blocking: a daemon serves every shell meanwhile.
    this.underLock(() => {
      const file = this.paths.allowlistFile;
      // Bookkeeping approves nothing new: the file keeps its modification time (the store
      // sets it on the new content before the rename), which the hooks compare with their
      // stamp to see an `envd allow` at the next prompt. A shell that entered a project
      // meanwhile would otherwise take this write for one and ask once more. The daemon's
      // own stamps (ctime, size, inode) still see the new file.
      this.allowlist.recordSourcedAll(items);
      this.ownWrite = stampOf(file);
    }).catch(() => { /* reported by status */ }).finally(() => done?.());
  }

  /** Whether PATH is the allowlist exactly as this process itself last wrote it. */
  isOwnWrite(path: string): boolean {
    return path === this.paths.allowlistFile && this.ownWrite !== null && this.ownWrite === stampOf(path);
  }

  /** PATH (file or directory, relative to cwd) to the env file it means. */
  resolvePath(path: string, cwd: string): string {
    assertUtf8Path('the current directory', cwd);
    assertUtf8Path('the path', path);
    const p = path === '' ? cwd : isAbsolute(path) ? path : resolve(cwd, path);
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new EnvdError('NOT_FOUND', `${tildePath(p, this.paths.home)} does not exist`);
    }
    if (st.isDirectory()) {
      const found = findEnvFile(p, true);
      if (found === null || (path !== '' && found.dir !== p)) {
        throw new EnvdError('NOT_FOUND', `no .envrc or .env in ${tildePath(p, this.paths.home)} or above it; create one first`);
      }
      return found.path;
    }
    return p;
  }

  async allow(path: string, cwd: string): Promise<TrustChange> {
    const file = this.resolvePath(path, cwd);
    const real = placeOf(file);
    const { bytes, stat } = readRegularFile(real, MAX_ENV_FILE_BYTES);
    const safety = judgeFile(file, stat, 'content');
    if (!safety.ok) throw new EnvdError('FILE_UNSAFE', safety.message);
    const hash = contentHash(real, bytes);
    // A new approval starts over: what an earlier one's first evaluation sourced and is
    // still queued is not written over it.
    this.queued.delete(real);
    const report = await this.underLock(() => this.allowlist.allow(real, hash));
    return { file: real, message: report.notices.map((n) => `envd: ${n}`).join('\n') };
  }

  async deny(path: string, cwd: string): Promise<TrustChange> {
    const file = this.resolvePath(path, cwd);
    const real = placeOf(file);
    this.queued.delete(real);
    const report = await this.underLock(() => this.allowlist.deny(real));
    return { file: real, message: report.notices.map((n) => `envd: ${n}`).join('\n') };
  }

  async prune(): Promise<number> {
    return this.underLock(() => this.allowlist.prune());
  }

  /** Resolves when every deferred bookkeeping write has finished (queued ones written now). */
  async idle(): Promise<void> {
    if (this.flushTimer !== null) this.flushQueued();
    await Promise.allSettled([...this.pendingWrites]);
  }

  /** Run an allowlist write holding its lock, taken without blocking the event loop. */
  private underLock<T>(fn: () => T): Promise<T> {
    return withLockAsync(lockPathFor(this.paths.allowlistFile), fn);
  }
}

/** Trust operations for this user's paths and config, without an engine (`envd edit`). */
export function openTrust(paths: EnvdPaths = resolvePaths(process.env)): Trust {
  return new Trust(paths, openAllowlist(paths, loadConfig(paths).config));
}

/** A file's identity and times, to recognise a version of it this process wrote. */
/** How long the daemon is quiet before bookkeeping writes are made (a burst of entries is milliseconds apart). */
const QUIET_MS = 150;

function stampOf(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? null : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}
