import { readFileSync } from 'node:fs';
import type { EnvdPaths } from '../config/paths.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { fingerprint, permissionProblem, statOrNull } from './disk.js';
import { decode, emptyData, type AllowlistData } from './format.js';
import { parseKeyFile, type SigningKey } from './key.js';
import * as problems from './problems.js';
import type { Problem } from './problems.js';

export type LoadState =
  /** `key` is null when there is no key yet (nothing was ever written). */
  | { kind: 'ok'; data: AllowlistData; key: SigningKey | null }
  | { kind: 'error'; problem: Problem };

/** The on-disk identity of everything a load depends on; equal means a reload is not needed. */
export function storeFingerprint(paths: EnvdPaths): string {
  return [paths.dataDir, paths.keyFile, paths.allowlistFile].map((p) => {
    try {
      const st = statOrNull(p);
      // The directory's times change with every lock and temp file: only what the
      // permission check looks at counts for it.
      if (p === paths.dataDir) return st === null ? '-' : `${st.ino}:${st.mode}:${st.uid}`;
      return fingerprint(st);
    } catch (err) {
      // ENOTDIR, EACCES...: loadStore reports it; a fresh read each time until it is fixed.
      return `error:${errnoCode(err) ?? 'unknown'}:${Date.now()}:${Math.random()}`;
    }
  }).join('|');
}

function readText(path: string): string | Problem {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    return problems.unreadable(path, code === 'EACCES' ? 'permission denied' : code ?? errorMessage(err));
  }
}

/**
 * Read and verify the key and the allowlist. Every way this can go wrong yields an
 * error state (nothing trusted); it never throws.
 */
export function loadStore(paths: EnvdPaths): LoadState {
  try {
    return loadUnguarded(paths);
  } catch (err) {
    return { kind: 'error', problem: problems.unreadable(paths.dataDir, errorMessage(err)) };
  }
}

function loadUnguarded(paths: EnvdPaths): LoadState {
  const dirSt = statOrNull(paths.dataDir);
  if (dirSt === null) return { kind: 'ok', data: emptyData(), key: null };
  const dirBad = permissionProblem(paths.dataDir, dirSt, 'dir');
  if (dirBad !== null) return { kind: 'error', problem: problems.permissions(dirBad) };

  const keySt = statOrNull(paths.keyFile);
  const listSt = statOrNull(paths.allowlistFile);
  for (const [p, st] of [[paths.keyFile, keySt], [paths.allowlistFile, listSt]] as const) {
    if (st === null) continue;
    const bad = permissionProblem(p, st, 'file');
    if (bad !== null) return { kind: 'error', problem: problems.permissions(bad) };
  }

  let key: SigningKey | null = null;
  if (keySt !== null) {
    const text = readText(paths.keyFile);
    if (typeof text !== 'string') return { kind: 'error', problem: text };
    key = parseKeyFile(text);
    if (key === null) return { kind: 'error', problem: problems.keyMalformed(paths.keyFile) };
  }
  if (listSt === null) return { kind: 'ok', data: emptyData(), key };
  if (key === null) return { kind: 'error', problem: problems.keyMissing(paths.allowlistFile, paths.keyFile) };

  const text = readText(paths.allowlistFile);
  if (typeof text !== 'string') return { kind: 'error', problem: text };
  const d = decode(text, key.publicHex);
  switch (d.kind) {
    case 'ok': return { kind: 'ok', data: d.data, key };
    case 'corrupt': return { kind: 'error', problem: problems.corrupt(paths.allowlistFile, d.reason) };
    case 'wrong-key': return { kind: 'error', problem: problems.wrongKey(paths.allowlistFile, paths.keyFile) };
    case 'newer': return { kind: 'error', problem: problems.newer(paths.allowlistFile, d.version) };
  }
}
