import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync, type BigIntStats } from 'node:fs';
import { pidAlive } from '../util/process.js';
import { dirname, join } from 'node:path';
import { userId } from '../config/paths.js';
import { errnoCode } from '../util/errors.js';
import { shellWord } from './file-safety.js';

/** What is wrong with a path's ownership or mode, as one line (no `envd: ` prefix), or null. */
export function permissionProblem(path: string, st: BigIntStats, want: 'dir' | 'file'): string | null {
  const me = userId();
  const uid = Number(st.uid);
  const mode = Number(st.mode) & 0o777;
  if (want === 'dir' ? !st.isDirectory() : !st.isFile()) {
    return `${path} is not a ${want === 'dir' ? 'directory' : 'regular file'}; nothing is trusted until you move it away`;
  }
  if (uid !== me) {
    return `${path} is owned by uid ${uid}, not by you (uid ${me}); nothing is trusted until you move it away or run: chown ${me} ${shellWord(path)}`;
  }
  if ((mode & 0o077) !== 0) {
    const fix = want === 'dir' ? '700' : '600';
    return `${path} has mode ${mode.toString(8).padStart(4, '0')} but must be private to you (0${fix}); nothing is trusted until you run: chmod ${fix} ${shellWord(path)}`;
  }
  return null;
}

export function statOrNull(path: string): BigIntStats | null {
  return statSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
}

/** A string that changes whenever the file is replaced, written, resized or chmod'ed. */
export function fingerprint(st: BigIntStats | null): string {
  if (st === null) return '-';
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.mode}:${st.uid}`;
}

/**
 * Make the data directory (0700) and its parents (default mode) if missing. An existing
 * directory is left as it is; the caller checks its permissions.
 */
export function ensurePrivateDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    return;
  }
  // mkdir's mode is filtered by the umask; set it exactly.
  chmodSync(dir, 0o700);
}

/** Rename a bad file out of the way, keeping it for inspection; returns the new path. */
export function moveAside(path: string, label: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let target = `${path}.${label}-${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${path}.${label}-${stamp}-${n}`;
  renameSync(path, target);
  return target;
}

/**
 * Remove temp files left by writers that died (kill -9) before their rename. Only called
 * with the write lock held, so no live writer of ours has a temp file at that moment,
 * except one from a process whose lock was broken as stale: it is skipped while alive.
 */
export function removeDeadTemps(dir: string, base: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const re = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  for (const name of names) {
    const m = re.exec(name);
    if (m === null || m[1] === undefined) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    try { unlinkSync(join(dir, name)); } catch { /* gone */ }
  }
}

