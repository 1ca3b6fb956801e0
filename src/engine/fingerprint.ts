import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * What a result depends on, cheap to re-check on every request: one stat. Size, mtime and
 * inode, and ctime, which no user can set back (an edit that restores size and mtime with
 * `touch -d` still moves ctime), so a file's content is never read to notice a change. A
 * directory watched with watch_dir gets a signature of its whole tree.
 */
export interface Fingerprint {
  p: string;
  /** mtime in ms, -1 when missing. */
  m: number;
  s: number;
  /** ctime in ms and inode (files and directories). */
  c?: number;
  i?: number;
  /** sha256 of the tree listing (watch_dir directories). */
  h?: string;
  /** A directory watched recursively. */
  d?: 1;
}

/** How much of a watch_dir tree is looked at (direnv walks it all; a bound keeps a huge tree cheap). */
export const MAX_TREE_ENTRIES = 2000;

/** Every entry of a tree, depth first in name order, at most `max`, each with its stat. */
function walkTree(dir: string, max: number, visit: (p: string, st: Stats) => void): void {
  let count = 0;
  const walk = (d: string): void => {
    let names: string[];
    try { names = readdirSync(d).sort(); } catch { return; }
    for (const name of names) {
      if (++count > max) return;
      const p = join(d, name);
      try {
        const st = statSync(p);
        visit(p, st);
        if (st.isDirectory()) walk(p);
      } catch { /* vanished meanwhile */ }
    }
  };
  walk(dir);
}

/** ctime and inode too: an edit inside the tree that keeps size and mtime still counts. */
function treeSignature(dir: string): string {
  const h = createHash('sha256');
  walkTree(dir, MAX_TREE_ENTRIES, (p, st) => h.update(`${p}\0${st.mtimeMs}\0${st.size}\0${st.ctimeMs}\0${st.ino}\0`));
  return h.digest('hex');
}

/** The paths of a watch_dir tree (at most `max`), for the hooks' per-prompt check. */
export function treePaths(dir: string, max: number): string[] {
  const out: string[] = [];
  walkTree(dir, max, (p) => out.push(p));
  return out;
}

/** The fingerprint of a file from a stat already taken (the fstat of a read). */
export function statFingerprint(path: string, st: Stats): Fingerprint {
  return { p: path, m: st.mtimeMs, s: st.size, c: st.ctimeMs, i: st.ino };
}

export function fingerprint(path: string, dirTree = false): Fingerprint {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return { p: path, m: -1, s: -1 };
    if (dirTree && st.isDirectory()) return { ...statFingerprint(path, st), h: treeSignature(path), d: 1 };
    return statFingerprint(path, st);
  } catch {
    return { p: path, m: -1, s: -1 };
  }
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.m === b.m && a.s === b.s && a.c === b.c && a.i === b.i && a.h === b.h;
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
    && (o.c === undefined || typeof o.c === 'number') && (o.i === undefined || typeof o.i === 'number')
    && (o.h === undefined || typeof o.h === 'string') && (o.d === undefined || o.d === 1);
}

/**
 * One entry of direnv's DIRENV_WATCHES (direnv's FileTime): the path, its mtime in whole
 * seconds (0 when missing) and whether it exists. direnv reloads when one of them differs.
 */
export interface DirenvWatch {
  Path: string;
  Modtime: number;
  Exists: boolean;
}

export function isDirenvWatch(v: unknown): v is DirenvWatch {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.Path === 'string' && typeof o.Modtime === 'number' && typeof o.Exists === 'boolean';
}

/** A symlink's own mtime in ms (direnv counts the latest along the link), else -1. */
function linkMtimeMs(path: string): number {
  try {
    const link = lstatSync(path);
    return link.isSymbolicLink() ? link.mtimeMs : -1;
  } catch {
    return -1;
  }
}

/** What direnv itself records for PATH now (its getLatestStat, in whole seconds). */
function direnvStat(path: string): { modtime: number; exists: boolean } {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return { modtime: 0, exists: false };
    return { modtime: Math.floor(Math.max(st.mtimeMs, linkMtimeMs(path)) / 1000), exists: true };
  } catch {
    return { modtime: 0, exists: false };
  }
}

/**
 * A fingerprint in direnv's format. direnv keeps whole seconds, so an edit in the same
 * second as the state was taken would look unchanged ("racily clean", as git calls it).
 * When the file's second is not yet over at `asOfMs` (the moment the fingerprint was
 * known to be current), the second before is recorded: the next check then sees a
 * difference and evaluates once more, after which the second is over and the record exact.
 */
export function toDirenvWatch(fp: Fingerprint, asOfMs: number): DirenvWatch {
  if (fp.m < 0) return { Path: fp.p, Modtime: 0, Exists: false };
  const sec = Math.floor(Math.max(fp.m, linkMtimeMs(fp.p)) / 1000);
  // The kernel's file clock may lag the wall clock by a tick: a margin keeps it safe.
  const racy = sec >= Math.floor((asOfMs - 50) / 1000);
  return { Path: fp.p, Modtime: racy ? sec - 1 : sec, Exists: true };
}

/** Whether every entry of a direnv watch list is as recorded (the check direnv makes). */
export function direnvWatchesValid(list: readonly DirenvWatch[]): boolean {
  for (const w of list) {
    const now = direnvStat(w.Path);
    if (now.exists !== w.Exists) return false;
    if (now.exists && now.modtime !== w.Modtime) return false;
  }
  return true;
}
