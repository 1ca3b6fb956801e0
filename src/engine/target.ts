import { join, resolve } from 'node:path';
import { contentHash, placeOf } from '../allowlist/index.js';
import type { Config } from '../config/config.js';
import { tildePath } from '../config/paths.js';
import { MAX_VALUE_BYTES } from '../env/names.js';
import { quoteBash } from '../env/quote.js';
import type * as GoAuto from '../go/auto.js';
import { goAutoMarker } from '../go/auto.js';
import { EnvdError } from '../util/errors.js';
import { keepLatest } from '../util/recent.js';
import { MAX_ENV_FILE_BYTES, readRegularFile } from '../util/safe-read.js';
import { findEnvFile, markerNames, type FoundFile } from './find.js';
import type { TrustSubject } from './trust.js';

/** The env file a request is about, read once. */
export interface Target extends TrustSubject {
  found: FoundFile;
  content: Buffer;
  /** The bytes to run (for a .env file, the stdlib's `dotenv` of it). */
  script: Buffer;
}

/** The env file that applies in cwd, or a `[go] auto` pin when no env file is nearer. */
export function findTarget(cwd: string, config: Config, goAuto: typeof GoAuto | null): FoundFile | null {
  const found = findEnvFile(cwd, config.global.loadDotenv);
  const auto = config.go.auto && goAuto !== null ? goAuto.autoGoEnvrc(cwd, config) : null;
  if (auto !== null && (found === null || auto.dir.length > found.dir.length)) {
    return { path: goAutoMarker(auto.dir), dir: auto.dir, kind: 'go-auto' };
  }
  return found;
}

/**
 * Read the env file once (never blocking, never past the size cap: it may be anyone's
 * file in a parent directory) and hash the bytes that will run. Throws EnvdError.
 */
export function readTarget(found: FoundFile, home: string, goAuto: typeof GoAuto | null): Target {
  const realFile = placeOf(found.path);
  const base = { path: found.path, kind: found.kind, found, realFile };
  if (found.kind === 'go-auto') {
    const content = Buffer.from(goAuto?.AUTO_GO_CONTENT ?? 'use go\n');
    return { ...base, content, hash: contentHash(realFile, content), script: content, stat: null };
  }
  const { bytes: content, stat } = readRegularFile(realFile, MAX_ENV_FILE_BYTES);
  const hash = contentHash(realFile, content);
  if (content.includes(0)) throw new EnvdError('FILE_UNSAFE', `${tildePath(found.path, home)} contains a NUL byte; it is not a shell script`);
  if (content.length > MAX_VALUE_BYTES - 1024) throw new EnvdError('FILE_UNSAFE', `${tildePath(found.path, home)} is over ${MAX_VALUE_BYTES / 1024 - 1} KiB; split it with source_env`);
  // A .env file is loaded by the stdlib's dotenv, which is handed these same bytes.
  const script = found.kind === 'dotenv' ? Buffer.from(`dotenv ${quoteBash(found.path)}\n`) : content;
  return { ...base, content, hash, script, stat };
}

/**
 * Where a new .envrc (or .env) created between a recent request's directory and the file
 * that applies there would change the answer: dependencies the daemon watches (direnv
 * notices such a file at the next prompt; so does envd).
 */
export class Probes {
  private readonly byCwd = new Map<string, string[]>();
  private moves = 0;

  constructor(private readonly max = 64) {}

  /** Moves whenever paths() may return another set. */
  get version(): number {
    return this.moves;
  }

  record(cwd: string, found: FoundFile | null, config: Config): void {
    const known = this.byCwd.get(cwd);
    if (known !== undefined) {
      this.byCwd.delete(cwd);
      this.byCwd.set(cwd, known);
      return;
    }
    const names = markerNames(config.global.loadDotenv, false);
    const list: string[] = [];
    let dir = cwd;
    // Not `/` itself: nobody keeps an .envrc there, and a watch on the root would report
    // every entry made or touched there.
    for (let depth = 0; depth < 16 && dir !== '/'; depth++) {
      if (found !== null && dir === found.dir) break;
      for (const n of names) list.push(join(dir, n));
      const up = resolve(dir, '..');
      if (up === dir) break;
      dir = up;
    }
    keepLatest(this.byCwd, cwd, list, this.max);
    this.moves++;
  }

  paths(): string[] {
    return [...this.byCwd.values()].flat();
  }
}
