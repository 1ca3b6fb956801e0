import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../util/safe-read.js';
import { isFingerprint, type Fingerprint } from './fingerprint.js';

/**
 * Records of what a DIRENV_WATCHES text stands for, on disk, for envd without a daemon
 * (each `envd export` is a new process; the daemon keeps these in memory). Without them a
 * file written in the same second as its evaluation would be evaluated again at the next
 * prompt (direnv's whole seconds cannot tell). They are derived data in the user's own
 * cache: a lost or stale record costs one evaluation, never a wrong answer, since a text
 * is only ever looked up against the fingerprints it was written with.
 */
export interface StateRecord {
  status: 'loaded' | 'blocked' | 'failed';
  /** One list per distinct set of fingerprints written under this text (more: ambiguous). */
  fps: Fingerprint[][];
}

const MAX_RECORDS = 512;
/** Saves since this process last pruned: the directory is listed once in a while only. */
let savesSincePrune = MAX_RECORDS;

/** The records' directory for a user's paths. */
export function recordDirOf(paths: { cacheDir: string }): string {
  return join(paths.cacheDir, 'records');
}
const MAX_RECORD_BYTES = 256 * 1024;

function fileFor(dir: string, text: string): string {
  return join(dir, createHash('sha256').update(text).digest('hex').slice(0, 40) + '.json');
}

export function loadRecord(dir: string, text: string): StateRecord | null {
  try {
    const raw = JSON.parse(readRegularFile(fileFor(dir, text), MAX_RECORD_BYTES).bytes.toString('utf8')) as unknown;
    if (typeof raw !== 'object' || raw === null) return null;
    const { status, fps, text: t } = raw as { status?: unknown; fps?: unknown; text?: unknown };
    if (t !== text || (status !== 'loaded' && status !== 'blocked' && status !== 'failed') || !Array.isArray(fps)) return null;
    const lists = fps.filter((l): l is unknown[] => Array.isArray(l)).map((l) => l.filter(isFingerprint));
    return lists.length > 0 ? { status, fps: lists } : null;
  } catch {
    return null;
  }
}

export function saveRecord(dir: string, text: string, rec: StateRecord): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = fileFor(dir, text);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ text, ...rec }), { mode: 0o600 });
    renameSync(tmp, file);
    if (++savesSincePrune >= 64) {
      savesSincePrune = 0;
      prune(dir);
    }
  } catch {
    // A record is an optimisation: without it the next prompt evaluates once more.
  }
}

/** Keep the newest MAX_RECORDS (by mtime): an old shell's record costs one evaluation. */
function prune(dir: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_RECORDS) return;
  const aged = names.map((n) => ({ n, m: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.m - b.m);
  for (const { n } of aged.slice(0, names.length - MAX_RECORDS / 2)) {
    try { unlinkSync(join(dir, n)); } catch { /* gone */ }
  }
}
