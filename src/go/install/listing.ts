import { EnvdError } from '../../util/errors.js';
import { matchWant, type GoWant } from '../resolve.js';
import { formatGoVersion, parseGoVersion } from '../version.js';
import type { GoPlatform } from './platform.js';
import type { GoSdk } from '../types.js';

// go.dev's download listing (https://go.dev/dl/?mode=json&include=all): every release with
// its files, each with a SHA-256. The same JSON is what a mirror serves at its base URL.

export const DEFAULT_DOWNLOAD_URL = 'https://go.dev/dl/';
/** The real listing is a few MiB; anything far larger is not a listing. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
const LISTING_TIMEOUT_MS = 60_000;

export interface GoFile {
  filename: string;
  os: string;
  arch: string;
  version: string;
  sha256: string;
  size: number;
  kind: string;
}

export interface GoRelease {
  /** `go1.22.5`, as the listing writes it. */
  version: string;
  stable: boolean;
  files: GoFile[];
}

/** Thrown for anything that stops an install; the message is the one line a person reads. */
export class GoInstallError extends EnvdError {
  constructor(message: string) {
    super('GO_NOT_INSTALLED', message);
    this.name = 'GoInstallError';
  }
}

/**
 * The base URL releases are fetched from: `ENVD_GO_DOWNLOAD_URL`, else `[go] download_url`,
 * else go.dev. The listing is `BASE?mode=json&include=all` and each archive `BASE<filename>`.
 */
export function downloadBase(configured: string | null, env: Readonly<Record<string, string | undefined>>): URL {
  const fromEnv = env.ENVD_GO_DOWNLOAD_URL;
  const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : configured ?? DEFAULT_DOWNLOAD_URL;
  const what = fromEnv !== undefined && fromEnv !== '' ? 'ENVD_GO_DOWNLOAD_URL' : '[go] download_url';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GoInstallError(`${what} '${raw}' is not a URL (expected e.g. ${DEFAULT_DOWNLOAD_URL})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GoInstallError(`${what} '${raw}' must be an http or https URL (expected e.g. ${DEFAULT_DOWNLOAD_URL})`);
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseFile(v: unknown): GoFile | null {
  if (!isRecord(v)) return null;
  const { filename, os, arch, version, sha256, size, kind } = v;
  if (typeof filename !== 'string' || typeof version !== 'string' || typeof kind !== 'string') return null;
  return {
    filename,
    os: typeof os === 'string' ? os : '',
    arch: typeof arch === 'string' ? arch : '',
    version,
    sha256: typeof sha256 === 'string' ? sha256.toLowerCase() : '',
    size: typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : 0,
    kind,
  };
}

/** The listing's JSON, checked field by field; entries that are not releases are skipped. */
export function parseListing(doc: unknown, source: string): GoRelease[] {
  if (!Array.isArray(doc)) throw new GoInstallError(`${source} is not a Go download listing (expected a JSON array of releases)`);
  const out: GoRelease[] = [];
  for (const r of doc) {
    if (!isRecord(r) || typeof r.version !== 'string' || !Array.isArray(r.files)) continue;
    if (parseGoVersion(r.version) === null) continue;
    const files: GoFile[] = [];
    for (const f of r.files) {
      const file = parseFile(f);
      if (file !== null) files.push(file);
    }
    out.push({ version: r.version, stable: r.stable === true, files });
  }
  return out;
}

export function listingUrl(base: URL): URL {
  const u = new URL(base.href);
  u.search = '?mode=json&include=all';
  return u;
}

/** Fetch and parse the listing. */
export async function fetchListing(base: URL, signal?: AbortSignal): Promise<GoRelease[]> {
  const url = listingUrl(base);
  const timeout = AbortSignal.timeout(LISTING_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]), redirect: 'follow' });
  } catch (err) {
    throw new GoInstallError(`cannot fetch the Go download listing ${url.href}: ${fetchFailure(err)}`);
  }
  if (!res.ok || res.body === null) {
    throw new GoInstallError(`cannot fetch the Go download listing ${url.href}: HTTP ${res.status}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > MAX_LISTING_BYTES) {
        await res.body.cancel().catch(() => undefined);
        throw new GoInstallError(`the Go download listing ${url.href} is over ${MAX_LISTING_BYTES / 1024 / 1024} MiB; is ENVD_GO_DOWNLOAD_URL or [go] download_url right?`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof GoInstallError) throw err;
    throw new GoInstallError(`cannot fetch the Go download listing ${url.href}: ${fetchFailure(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(chunks, total).toString('utf8'));
  } catch {
    throw new GoInstallError(`${url.href} did not answer with JSON; is ENVD_GO_DOWNLOAD_URL or [go] download_url a Go download listing (go.dev/dl or a mirror of it)?`);
  }
  return parseListing(doc, url.href);
}

/** Why a fetch failed, in words: fetch's own `TypeError: fetch failed` hides the cause. */
export function fetchFailure(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    if (err.name === 'AbortError') return 'stopped';
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

/** The archive for a platform: a `.tar.gz` of kind `archive`, named as go.dev names them. */
export function archiveFor(release: GoRelease, platform: GoPlatform): GoFile | null {
  return release.files.find((f) => f.kind === 'archive' && f.os === platform.os && f.arch === platform.arch
    && /^go[0-9A-Za-z.]+\.[0-9a-z]+-[0-9a-z]+\.tar\.gz$/.test(f.filename)) ?? null;
}

/**
 * The release of the listing that meets `wants` (tried in order) and has an archive for
 * this platform, picked as `use go` picks among installed SDKs: an exact version as named,
 * a line's newest release (a pre-release only when the line has no release yet), and so on.
 */
export function pickRelease(releases: GoRelease[], wants: readonly GoWant[], platform: GoPlatform): GoRelease | null {
  const byVersion = new Map<string, GoRelease>();
  const pseudo: GoSdk[] = [];
  for (const r of releases) {
    const v = parseGoVersion(r.version);
    if (v === null || archiveFor(r, platform) === null) continue;
    // An unstable entry is only a pre-release in practice; the flag is not trusted to say more.
    const version = formatGoVersion(v);
    if (byVersion.has(version)) continue;
    byVersion.set(version, r);
    pseudo.push({ version, root: r.version, source: 'listing' });
  }
  for (const w of wants) {
    const hit = matchWant(pseudo, w);
    if (hit !== null) return byVersion.get(hit.version) ?? null;
  }
  return null;
}
