import { decodeDiff, encodeDiff, type Env, type EnvDiff } from '../env/diff.js';
import { decodeState, encodeState } from '../env/codec.js';
import { isFingerprint, type Fingerprint } from './fingerprint.js';

export type LoadStatus = 'loaded' | 'blocked' | 'failed';

/** What the calling shell says it has loaded (from its exported state variables). */
export interface ShellState {
  dir: string | null;
  file: string | null;
  diff: EnvDiff | null;
  status: LoadStatus | null;
  watches: Fingerprint[];
}

const STATE_NAMES = ['ENVD_DIR', 'ENVD_FILE', 'ENVD_DIFF', 'ENVD_WATCHES', 'DIRENV_DIR', 'DIRENV_FILE'];

export function readShellState(env: Env): ShellState {
  const raw = decodeState(env.ENVD_WATCHES);
  let status: LoadStatus | null = null;
  let watches: Fingerprint[] = [];
  if (typeof raw === 'object' && raw !== null) {
    const { s, w } = raw as { s?: unknown; w?: unknown };
    if (s === 'loaded' || s === 'blocked' || s === 'failed') status = s;
    if (Array.isArray(w)) watches = w.filter(isFingerprint);
  }
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
  const out = { ...env };
  for (const n of STATE_NAMES) delete out[n];
  return out;
}

/** The state variables for a new state (absent names are unset). */
export function stateVars(s: { dir: string | null; file: string; diff: EnvDiff | null; status: LoadStatus; watches: Fingerprint[] }): Env {
  const vars: Env = {
    ENVD_FILE: s.file,
    ENVD_WATCHES: encodeState({ s: s.status, w: s.watches }),
  };
  if (s.diff !== null) vars.ENVD_DIFF = encodeDiff(s.diff);
  if (s.dir !== null) {
    vars.ENVD_DIR = s.dir;
    vars.DIRENV_DIR = '-' + s.dir;
    vars.DIRENV_FILE = s.file;
  }
  return vars;
}
