import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { fetchFailure, GoInstallError } from './listing.js';

/** How long a download may go without a byte before it is given up. */
const IDLE_MS = 60_000;

export interface DownloadProgress {
  /** Bytes so far and the expected total (0 when unknown). */
  update(done: number, total: number): void;
}

/**
 * Stream `url` into a new file `dest` (created exclusively, 0600) while hashing it, and
 * check the bytes against the listing: the size when the listing gives one, then the
 * SHA-256. Nothing is unpacked from a file that did not pass. On any failure `dest` may
 * hold a partial file: the caller removes it.
 */
export async function downloadVerified(url: URL, dest: string, expect: { sha256: string; size: number }, progress?: DownloadProgress, signal?: AbortSignal): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(expect.sha256)) {
    throw new GoInstallError(`the listing gives no SHA-256 for ${url.href}; refusing to install an archive that cannot be checked`);
  }
  // A server that stops sending must not hold an install (or the daemon's auto install)
  // forever: no byte for this long ends it.
  const idle = new AbortController();
  const arm = (): NodeJS.Timeout => setTimeout(() => idle.abort(new Error(`no data for ${IDLE_MS / 1000} s`)), IDLE_MS);
  let idleTimer = arm();
  const poke = (): void => {
    clearTimeout(idleTimer);
    idleTimer = arm();
  };
  const both = signal === undefined ? idle.signal : AbortSignal.any([signal, idle.signal]);
  try {
    await fetchInto(url, dest, expect, both, poke, progress);
  } catch (err) {
    if (idle.signal.aborted && !(signal?.aborted ?? false)) {
      throw new GoInstallError(`the download of ${url.href} stalled (${errorText(idle.signal.reason)}); nothing was installed, try again`);
    }
    throw err;
  } finally {
    clearTimeout(idleTimer);
  }
}

function errorText(v: unknown): string {
  return v instanceof Error ? v.message : String(v);
}

async function fetchInto(url: URL, dest: string, expect: { sha256: string; size: number }, signal: AbortSignal, poke: () => void, progress?: DownloadProgress): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal });
  } catch (err) {
    throw new GoInstallError(`cannot download ${url.href}: ${fetchFailure(err)}`);
  }
  if (!res.ok || res.body === null) throw new GoInstallError(`cannot download ${url.href}: HTTP ${res.status}`);
  const header = Number(res.headers.get('content-length') ?? '');
  const total = expect.size > 0 ? expect.size : Number.isSafeInteger(header) && header > 0 ? header : 0;
  const hash = createHash('sha256');
  const out = await open(dest, 'wx', 0o600);
  let done = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      done += chunk.length;
      if (expect.size > 0 && done > expect.size) {
        await res.body.cancel().catch(() => undefined);
        throw new GoInstallError(`${url.href} is larger than the ${expect.size} bytes the listing gives; nothing was installed`);
      }
      poke();
      hash.update(chunk);
      await out.write(chunk);
      progress?.update(done, total);
    }
    await out.sync();
  } catch (err) {
    if (err instanceof GoInstallError) throw err;
    const of = total > 0 ? ` of ${total}` : '';
    throw new GoInstallError(`the download of ${url.href} was cut off after ${done}${of} bytes (${fetchFailure(err)}); nothing was installed, try again`);
  } finally {
    await out.close();
  }
  if (expect.size > 0 && done !== expect.size) {
    throw new GoInstallError(`the download of ${url.href} ended after ${done} of ${expect.size} bytes; nothing was installed, try again`);
  }
  const got = hash.digest('hex');
  if (got !== expect.sha256) {
    throw new GoInstallError(`${url.href} does not match the listing's SHA-256 (expected ${expect.sha256}, got ${got}); nothing was unpacked or installed`);
  }
}
