import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { userId } from '../config/paths.js';
import { EnvdError, errnoCode, errorMessage } from '../util/errors.js';

/**
 * Node has no peer-credential API for Unix sockets, so the only thing that keeps other
 * users away from the daemon (and away from impersonating it) is the directory the
 * socket lives in. It must be ours, 0700, and not a symlink someone else could aim.
 */

/** Longest socket path in bytes: sun_path is 108 bytes on Linux, 104 elsewhere, NUL included. */
export function socketPathLimit(platform: NodeJS.Platform = process.platform): number {
  return (platform === 'linux' ? 108 : 104) - 1;
}

export function checkSocketPath(path: string, platform: NodeJS.Platform = process.platform): void {
  const bytes = Buffer.byteLength(path);
  const limit = socketPathLimit(platform);
  if (bytes > limit) {
    throw new EnvdError(
      'SOCKET_PATH_TOO_LONG',
      `envd: the daemon socket path ${path} is ${bytes} bytes, over the ${limit}-byte limit for Unix sockets on ${platform}; ` +
      'set ENVD_RUNTIME_DIR (or XDG_RUNTIME_DIR) to a shorter directory, e.g. ENVD_RUNTIME_DIR=/tmp/envd-$(id -u)',
    );
  }
}

function unsafe(dir: string, why: string, fix: string): EnvdError {
  return new EnvdError('RUNTIME_DIR_UNSAFE', `envd: runtime dir ${dir} ${why}; ${fix} (or set ENVD_RUNTIME_DIR to a private directory)`);
}

/**
 * Check the runtime dir; with `create`, make it first (0700) when it does not exist.
 * Returns false when it does not exist and `create` is off. Throws RUNTIME_DIR_UNSAFE.
 */
export function checkRuntimeDir(dir: string, opts: { create: boolean }): boolean {
  if (opts.create) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw unsafe(dir, `cannot be created (${errorMessage(err)})`, 'check the parent directory');
    }
  }
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !opts.create) return false;
    throw unsafe(dir, `cannot be read (${errorMessage(err)})`, 'check the parent directory');
  }
  if (st.isSymbolicLink()) throw unsafe(dir, 'is a symlink', `remove it (rm ${dir}) and envd recreates it`);
  if (!st.isDirectory()) throw unsafe(dir, 'is not a directory', `remove it (rm ${dir}) and envd recreates it`);
  const uid = userId();
  if (st.uid !== uid) throw unsafe(dir, `is owned by uid ${st.uid}, not by you (uid ${uid})`, 'remove it or use another directory');
  const mode = st.mode & 0o777;
  if (mode !== 0o700) {
    throw unsafe(dir, `has mode 0${mode.toString(8)}, not 0700, so other users could reach the daemon`, `run: chmod 700 ${dir}`);
  }
  checkParent(dir, uid);
  return true;
}

/**
 * The same rule as the hooks' (shells/NAME/hook.*, _envd_rstat): the directory is only as private
 * as its parent lets it stay. Another user who can write a parent that is not sticky can
 * rename the runtime dir away and put their own in its place between a check and a use.
 * So the parent must be sticky (like /tmp), or owned by you or root and writable by
 * nobody else (group-writable only by your own group).
 */
function checkParent(dir: string, uid: number): void {
  const parent = dirname(dir);
  let st;
  try {
    st = statSync(parent);
  } catch (err) {
    throw unsafe(dir, `is in ${parent}, which cannot be read (${errorMessage(err)})`, 'check the parent directory');
  }
  if (st.uid !== uid && st.uid !== 0) throw unsafe(dir, `is in ${parent}, owned by uid ${st.uid}, another user`, 'use a directory of your own');
  const sticky = (st.mode & 0o1000) !== 0;
  const othersWrite = (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== process.getegid?.());
  if (!sticky && othersWrite) {
    throw unsafe(dir, `is in ${parent}, which other users can write to and which is not sticky`, `run: chmod +t ${parent}`);
  }
}
