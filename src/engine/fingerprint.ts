import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a result depends on, cheap to re-check on every request: size and mtime, plus the
 * content hash for files (an edit that restores size and mtime is still seen), or a
 * signature of the whole tree for watch_dir.
 */
export interface Fingerprint {
  p: string;
  /** mtime in ms, -1 when missing. */
  m: number;
  s: number;
  /** sha256 of the content (files) or of the tree listing (dirs). */
  h?: string;
  /** A directory watched recursively. */
  d?: 1;
}

const MAX_HASHED_FILE = 4 * 1024 * 1024;
const MAX_TREE_ENTRIES = 2000;

function sha(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function treeSignature(dir: string): string {
  const h = createHash('sha256');
  let count = 0;
  const walk = (d: string): void => {
    let names: string[];
    try { names = readdirSync(d).sort(); } catch { return; }
    for (const name of names) {
      if (++count > MAX_TREE_ENTRIES) return;
      const p = join(d, name);
      try {
        const st = statSync(p);
        h.update(`${p}\0${st.mtimeMs}\0${st.size}\0`);
        if (st.isDirectory()) walk(p);
      } catch { /* vanished meanwhile */ }
    }
  };
  walk(dir);
  return h.digest('hex');
}

export function fingerprint(path: string, dirTree = false): Fingerprint {
  try {
    const st = statSync(path);
    if (dirTree && st.isDirectory()) return { p: path, m: st.mtimeMs, s: st.size, h: treeSignature(path), d: 1 };
    if (st.isFile() && st.size <= MAX_HASHED_FILE) {
      return { p: path, m: st.mtimeMs, s: st.size, h: sha(readFileSync(path)) };
    }
    return { p: path, m: st.mtimeMs, s: st.size };
  } catch {
    return { p: path, m: -1, s: -1 };
  }
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.m === b.m && a.s === b.s && a.h === b.h;
}

/** Whether every dependency is as it was. */
export function stillValid(fps: readonly Fingerprint[]): boolean {
  for (const fp of fps) {
    const now = fingerprint(fp.p, fp.d === 1);
    if (!sameFingerprint(fp, now)) return false;
  }
  return true;
}

export function isFingerprint(v: unknown): v is Fingerprint {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.p === 'string' && typeof o.m === 'number' && typeof o.s === 'number'
    && (o.h === undefined || typeof o.h === 'string') && (o.d === undefined || o.d === 1);
}
