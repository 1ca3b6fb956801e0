import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';
import { readRegularFile, SafeReadError } from '../util/safe-read.js';

/**
 * `fetchurl URL [INTEGRITY]`: download into a content-addressed cache and check the
 * content against an SRI hash (`sha256-<base64>`, also sha384/sha512). Files are stored
 * under `<cacheDir>/fetchurl/<algo>-<hex digest>`, read-only, so a pinned URL is fetched
 * once and never again, even offline. URLs: http, https, and file (for local mirrors and
 * tests).
 */

export const MAX_FETCH_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

export type HashAlgo = 'sha256' | 'sha384' | 'sha512';
const DIGEST_BYTES: Record<HashAlgo, number> = { sha256: 32, sha384: 48, sha512: 64 };

export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface Integrity {
  algo: HashAlgo;
  digest: Buffer;
}

/** Parse an SRI hash; throws FetchError with what is expected. */
export function parseIntegrity(text: string): Integrity {
  const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
  const algo = m?.[1] as HashAlgo | undefined;
  const digest = m?.[2] !== undefined ? Buffer.from(m[2], 'base64') : undefined;
  if (algo === undefined || digest === undefined || digest.length !== DIGEST_BYTES[algo]) {
    throw new FetchError(`'${text}' is not an integrity hash; expected sha256-<base64> as printed by 'envd fetchurl URL'`);
  }
  return { algo, digest };
}

export function formatIntegrity(i: Integrity): string {
  return `${i.algo}-${i.digest.toString('base64')}`;
}

function digestOf(algo: HashAlgo, data: Buffer): Buffer {
  return createHash(algo).update(data).digest();
}

export function fetchCacheDir(cacheDir: string): string {
  return join(cacheDir, 'fetchurl');
}

function cachePath(cacheDir: string, i: Integrity): string {
  return join(fetchCacheDir(cacheDir), `${i.algo}-${i.digest.toString('hex')}`);
}

// node:http and node:https (with tls) cost a CLI start milliseconds; loaded on the first
// download. With require, not import(): the bundle runs from a vm.Script (dist/envd.cjs,
// for V8's code cache), where import() needs an experimental loader.
async function download(url: URL, redirectsLeft: number): Promise<Buffer> {
  const load = createRequire(import.meta.url);
  const getter = url.protocol === 'https:' ? (load('node:https') as typeof import('node:https')).get : (load('node:http') as typeof import('node:http')).get;
  return new Promise((resolve, reject) => {
    const req = getter(url, { timeout: TIMEOUT_MS, headers: { 'user-agent': 'envd-fetchurl' } }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        res.resume();
        if (redirectsLeft <= 0) { reject(new FetchError(`${url.href}: too many redirects`)); return; }
        let next: URL;
        try { next = new URL(location, url); } catch { reject(new FetchError(`${url.href}: bad redirect to '${location}'`)); return; }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') { reject(new FetchError(`${url.href}: redirect to unsupported ${next.protocol}`)); return; }
        download(next, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new FetchError(`${url.href}: the server answered ${status}, expected 200`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_FETCH_BYTES) {
          req.destroy(new FetchError(`${url.href}: larger than ${MAX_FETCH_BYTES / 1024 / 1024} MiB`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (err) => reject(err instanceof FetchError ? err : new FetchError(`${url.href}: ${errorMessage(err)}`)));
    });
    req.on('timeout', () => req.destroy(new FetchError(`${url.href}: no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', (err) => reject(err instanceof FetchError ? err : new FetchError(`${url.href}: ${errorMessage(err)}`)));
  });
}

async function readUrl(text: string): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FetchError(`'${text}' is not a URL`);
  }
  if (url.protocol === 'file:') {
    try {
      // This runs in the daemon: a FIFO or a device must not hold it (safe-read.ts).
      return readRegularFile(fileURLToPath(url), MAX_FETCH_BYTES).bytes;
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError(`${text}: ${err instanceof SafeReadError && err.reason === 'NOT_FOUND' ? 'no such file' : errorMessage(err)}`);
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError(`${text}: unsupported URL scheme ${url.protocol} (http, https and file are)`);
  }
  return download(url, MAX_REDIRECTS);
}

export interface Fetched {
  /** The cached file. */
  path: string;
  /** The content's SRI hash (in the algorithm that was asked for, sha256 by default). */
  integrity: string;
  content: Buffer;
}

function readCached(path: string, want: Integrity): Buffer | null {
  let data: Buffer;
  try {
    data = readRegularFile(path, MAX_FETCH_BYTES).bytes;
  } catch {
    return null;
  }
  // A cached file that no longer matches its name (disk error, tampering) is fetched again.
  return digestOf(want.algo, data).equals(want.digest) ? data : null;
}

/** Fetch URL (from the cache when the integrity is known and cached) and check it. */
export async function fetchUrl(url: string, integrityText: string | undefined, cacheDir: string): Promise<Fetched> {
  if (url === '') throw new FetchError('missing URL');
  const want = integrityText !== undefined && integrityText !== '' ? parseIntegrity(integrityText) : undefined;
  if (want !== undefined) {
    const path = cachePath(cacheDir, want);
    const cached = readCached(path, want);
    if (cached !== null) return { path, integrity: formatIntegrity(want), content: cached };
  }
  const content = await readUrl(url);
  const algo: HashAlgo = want?.algo ?? 'sha256';
  const got: Integrity = { algo, digest: digestOf(algo, content) };
  if (want !== undefined && !got.digest.equals(want.digest)) {
    throw new FetchError(`${url}: integrity mismatch: expected ${formatIntegrity(want)}, got ${formatIntegrity(got)}`);
  }
  const dir = fetchCacheDir(cacheDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = cachePath(cacheDir, got);
  // Written beside and renamed over: a reader never sees a half-written file.
  if (readCached(path, got) === null) writeFileAtomic(path, content, 0o500);
  return { path, integrity: formatIntegrity(got), content };
}
