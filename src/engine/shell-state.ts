import { decodeDiff, encodeDiff, type Env, type EnvDiff } from '../env/diff.js';
import { decodeState, encodeState } from '../env/codec.js';
import { isFingerprint, type Fingerprint } from './fingerprint.js';
import { copyNameMap, ownValue } from '../env/map.js';

export type LoadStatus = 'loaded' | 'blocked' | 'failed';

/** What the calling shell says it has loaded (from its exported state variables). */
export interface ShellState {
  dir: string | null;
  file: string | null;
  diff: EnvDiff | null;
  status: LoadStatus | null;
  watches: Fingerprint[];
}

/** The shell-side state variables (envd's own and the direnv mirrors). */
export const STATE_NAMES: readonly string[] = ['ENVD_DIR', 'ENVD_FILE', 'ENVD_DIFF', 'ENVD_WATCHES', 'DIRENV_DIR', 'DIRENV_FILE'];

/** ENVD_WATCHES: the load status and fingerprints (decodeState keeps recent texts decoded). */
function decodeWatches(text: string | undefined): { status: LoadStatus | null; watches: Fingerprint[] } {
  const raw = decodeState(text);
  let status: LoadStatus | null = null;
  let watches: Fingerprint[] = [];
  if (typeof raw === 'object' && raw !== null) {
    const { s, w } = raw as { s?: unknown; w?: unknown };
    if (s === 'loaded' || s === 'blocked' || s === 'failed') status = s;
    if (Array.isArray(w)) watches = w.filter(isFingerprint);
  }
  return { status, watches };
}

/**
 * The paths a shell's environment depends on after an answer: the ENVD_WATCHES the answer
 * sets, or the one the shell already had when the answer leaves it alone.
 */
export function watchedPaths(env: Env, change: { set: Record<string, string>; unset: readonly string[] }): string[] {
  const text = ownValue(change.set, 'ENVD_WATCHES')
    ?? (change.unset.includes('ENVD_WATCHES') ? undefined : env.ENVD_WATCHES);
  return decodeWatches(text).watches.map((w) => w.p);
}

export function readShellState(env: Env): ShellState {
  const { status, watches } = decodeWatches(env.ENVD_WATCHES);
  return {
    dir: env.ENVD_DIR ?? null,
    file: env.ENVD_FILE ?? null,
    diff: decodeDiff(env.ENVD_DIFF) ?? null,
    status,
    watches,
  };
}

/** The environment without envd's state variables. */
export function withoutState(env: Env): Env {
  const out = copyNameMap(env);
  for (const n of STATE_NAMES) delete out[n];
  return out;
}

/** A cached result answers many requests with the same dependencies: encode them once. */
const encodedWatches = new WeakMap<Fingerprint[], Map<LoadStatus, string>>();

function encodeWatches(status: LoadStatus, watches: Fingerprint[]): string {
  let byStatus = encodedWatches.get(watches);
  if (byStatus === undefined) {
    byStatus = new Map();
    encodedWatches.set(watches, byStatus);
  }
  let text = byStatus.get(status);
  if (text === undefined) {
    text = encodeState({ s: status, w: watches });
    byStatus.set(status, text);
  }
  return text;
}

/** The state variables for a new state (absent names are unset). */
export function stateVars(s: { dir: string | null; file: string; diff: EnvDiff | null; status: LoadStatus; watches: Fingerprint[] }): Env {
  const vars: Env = {
    ENVD_FILE: s.file,
    ENVD_WATCHES: encodeWatches(s.status, s.watches),
  };
  if (s.diff !== null) vars.ENVD_DIFF = encodeDiff(s.diff);
  if (s.dir !== null) {
    vars.ENVD_DIR = s.dir;
    vars.DIRENV_DIR = '-' + s.dir;
    vars.DIRENV_FILE = s.file;
  }
  return vars;
}
