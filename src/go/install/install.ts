import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../../util/errors.js';
import { readGoroot } from '../discover.js';
import { describeWant, type GoWant } from '../resolve.js';
import type { GoSdk } from '../types.js';
import { formatGoVersion, parseGoVersion } from '../version.js';
import { downloadVerified, type DownloadProgress } from './download.js';
import { archiveFor, downloadBase, fetchListing, GoInstallError, pickRelease } from './listing.js';
import { goPlatform } from './platform.js';
import { unpackSdk } from './unpack.js';

/** Where envd installs SDKs: `$XDG_DATA_HOME/envd/go/<version>`, each a GOROOT. */
export function installRoot(dataDir: string): string {
  return join(dataDir, 'go');
}

export interface InstallRequest {
  /** What to install, tried in order (a version argument, or what a directory pins). */
  wants: readonly GoWant[];
  /** envd's data dir (`$XDG_DATA_HOME/envd`). */
  dataDir: string;
  /** `[go] download_url`. */
  downloadUrl: string | null;
  env: Readonly<Record<string, string | undefined>>;
  /** Called once the release is known, with the archive's size (for a progress bar). */
  onStart?: (version: string, size: number) => Promise<DownloadProgress | undefined> | DownloadProgress | undefined;
  /** SDKs already on this machine: a release installed anywhere is not installed again. */
  installed?: readonly GoSdk[];
  /** Called before unpacking and before moving into place (for messages). */
  onStep?: (step: 'verified' | 'unpacked') => void;
  signal?: AbortSignal;
}

export interface InstallOutcome {
  version: string;
  root: string;
  /** false: this version was already there (installed earlier, or by a concurrent install). */
  fresh: boolean;
}

/** Temporary entries beside the SDKs start with a dot, so discovery never lists them. */
const TEMP_RE = /^\.(?:download|unpack|remove)-[^-]+-(\d+)-[0-9a-f]+(?:\.tar\.gz)?$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Remove what installs killed midway (kill -9, power loss) left; never a live one's. */
async function sweepStale(root: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (m === null || m[1] === undefined) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !alive(pid)) await rm(join(root, n), { recursive: true, force: true }).catch(() => undefined);
  }
}

function tempName(kind: string, version: string): string {
  return `.${kind}-${version}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Install a Go release from go.dev's listing (or a mirror): pick the release, download the
 * archive beside its final place while hashing it, check it against the listing, unpack it
 * into a temporary directory beside its final place, check that it is the release asked
 * for, and rename it in. Discovery never sees half an SDK, a failure leaves nothing, and
 * of two installs of one version at once one renames and the other finds it done.
 */
export async function installGo(req: InstallRequest): Promise<InstallOutcome> {
  const platform = goPlatform();
  if (platform === null) throw new GoInstallError(`go.dev publishes no Go archive for ${process.platform}/${process.arch}; install Go another way and name it in [go] sdk_dirs`);
  const base = downloadBase(req.downloadUrl, req.env);
  const releases = await fetchListing(base, req.signal);
  const release = pickRelease(releases, req.wants, platform);
  if (release === null) {
    const wanted = req.wants.map(describeWant).join(' or ');
    throw new GoInstallError(`no Go release matching ${wanted} for ${platform.os}/${platform.arch} in ${base.href}`);
  }
  const parsed = parseGoVersion(release.version);
  const file = archiveFor(release, platform);
  if (parsed === null || file === null) throw new GoInstallError(`the listing entry ${release.version} has no usable archive`);
  const version = formatGoVersion(parsed);
  const root = installRoot(req.dataDir);
  const target = join(root, version);
  if (readGoroot(target)?.root === target) return { version, root: target, fresh: false };
  const existing = req.installed?.find((sdk) => sdk.version === version);
  if (existing !== undefined) return { version, root: existing.root, fresh: false };

  mkdirSync(root, { recursive: true, mode: 0o755 });
  await sweepStale(root);
  const archive = join(root, tempName('download', version) + '.tar.gz');
  const unpacked = join(root, tempName('unpack', version));
  try {
    const progress = await req.onStart?.(version, file.size);
    await downloadVerified(new URL(file.filename, base), archive, { sha256: file.sha256, size: file.size }, progress, req.signal);
    req.onStep?.('verified');
    await unpackSdk(archive, unpacked, version);
    await rm(archive, { force: true });
    req.onStep?.('unpacked');
    try {
      await rename(unpacked, target);
    } catch (err) {
      const code = errnoCode(err);
      // Another install of this version renamed first: its SDK is the one that stays.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && readGoroot(target)?.root === target) {
        return { version, root: target, fresh: false };
      }
      throw new GoInstallError(`cannot move go ${version} into ${target}: ${err instanceof Error ? err.message : String(err)}; nothing was installed`);
    }
    return { version, root: target, fresh: true };
  } finally {
    await rm(archive, { force: true }).catch(() => undefined);
    await rm(unpacked, { recursive: true, force: true }).catch(() => undefined);
  }
}

export interface UninstallOutcome {
  version: string;
  root: string;
}

/**
 * Remove an SDK envd installed: renamed aside first (so discovery stops seeing it at
 * once, whole), then deleted.
 */
export async function uninstallGo(dataDir: string, version: string): Promise<UninstallOutcome | null> {
  const root = installRoot(dataDir);
  const target = join(root, version);
  if (readGoroot(target)?.root !== target) return null;
  const aside = join(root, tempName('remove', version));
  await rename(target, aside);
  // Go leaves some files read-only (a module cache under GOROOT, if someone put one there).
  await rm(aside, { recursive: true, force: true, maxRetries: 2 });
  return { version, root: target };
}
