import { decodeDiff, emptyDiff, encodeDiff, type Env, type EnvDiff } from '../env/diff.js';
import { decodeState } from '../env/codec.js';
import { encodeGzenvValue } from '../eval/dump-codec.js';
import { direnvWatchesValid, isDirenvWatch, isFingerprint, stillValid, toDirenvWatch, type DirenvWatch, type Fingerprint } from './fingerprint.js';
import { newNameMap, ownValue } from '../env/map.js';
import { ALL_STATE_VARS } from '../env/names.js';
import { loadRecord, saveRecord } from './state-records.js';
import { keepLatest } from '../util/recent.js';

export type LoadStatus = 'loaded' | 'blocked' | 'failed';

/** What the calling shell says it has loaded (from its exported state variables). */
export interface ShellState {
  dir: string | null;
  file: string | null;
  diff: EnvDiff | null;
  /** null: nothing recorded. 'blocked' when the record watches the allowlist (see stateVars). */
  status: LoadStatus | null;
  /** The full fingerprints, when this process wrote the record (or an old ENVD_WATCHES has them). */
  exact: Fingerprint[] | null;
  /** The record as direnv keeps it (whole-second mtimes). */
  coarse: DirenvWatch[];
  /** Every exact list recorded for this DIRENV_WATCHES text (several when edits within one
   *  second gave the same whole-second text). */
  candidates: Fingerprint[][];
  /** The record was written by direnv itself (it watches its own allow file), or by envd's
   *  earlier release (ENVD_*): answered once more, so direnv's names replace it. */
  foreign: boolean;
  /** When the record was read: fingerprints checked after this are current as of it. */
  readAt: number;
}

/**
 * What direnv's format cannot hold (sub-second mtime, size, ctime, inode, tree signatures,
 * the status) stays here, in the process that wrote the record: in the daemon, it serves
 * every later request of every shell carrying that text. Keyed by the DIRENV_WATCHES text;
 * two records with one text (edits within one second, or a time set back) are told apart
 * by neither, so such a text counts as changed. A process without it (the in-process CLI,
 * a restarted daemon) reads the record from disk if it has one (state-records.ts), else
 * checks direnv's whole seconds, which toDirenvWatch keeps safe.
 */
interface Known { status: LoadStatus; fps: Fingerprint[][] }
const known = new Map<string, Known>();
const KNOWN_MAX = 4096;

/** Where records persist (`recordDir`: the CLI without a daemon; see state-records.ts). */
export interface RecordOptions { allowlistFile?: string; recordDir?: string }

function keep(text: string, k: Known): void {
  keepLatest(known, text, k, KNOWN_MAX);
}

function lookup(text: string, recordDir: string | undefined): Known | undefined {
  const k = known.get(text);
  if (k !== undefined || recordDir === undefined) return k;
  const rec = loadRecord(recordDir, text);
  if (rec === null) return undefined;
  keep(text, rec);
  return rec;
}

function remember(text: string, status: LoadStatus, fps: Fingerprint[], recordDir: string | undefined): void {
  if (text.length > 64 * 1024) return;
  const k = lookup(text, recordDir);
  if (k !== undefined && k.status === status && k.fps.some((f) => sameList(f, fps))) {
    keep(text, k);
    return;
  }
  const next: Known = k === undefined ? { status, fps: [fps] } : { status, fps: k.fps.some((f) => sameList(f, fps)) ? k.fps : [...k.fps, fps] };
  keep(text, next);
  if (recordDir !== undefined) saveRecord(recordDir, text, next);
}

function sameList(a: Fingerprint[], b: Fingerprint[]): boolean {
  return a.length === b.length && a.every((x, i) => sameFingerprint(x, b[i]));
}

/** Field by field (every answer compares its whole list: a JSON text each cost more). */
function sameFingerprint(x: Fingerprint, y: Fingerprint | undefined): boolean {
  return y !== undefined && x.p === y.p && x.m === y.m && x.s === y.s && x.c === y.c && x.i === y.i && x.h === y.h && x.d === y.d;
}

const DIRENV_ALLOW = /\/direnv\/allow\/[0-9a-f]{64}$/;

function decodeCoarse(text: string | undefined): DirenvWatch[] {
  const raw = decodeState(text);
  return Array.isArray(raw) ? raw.filter(isDirenvWatch) : [];
}

/**
 * The paths a shell's environment depends on after an answer: the DIRENV_WATCHES the
 * answer sets, or the one the shell already had when the answer leaves it alone.
 */
export function watchedPaths(env: Env, change: { set: Record<string, string>; unset: readonly string[] }): string[] {
  const text = ownValue(change.set, 'DIRENV_WATCHES')
    ?? (change.unset.includes('DIRENV_WATCHES') ? undefined : env.DIRENV_WATCHES);
  return decodeCoarse(text).map((w) => w.Path);
}

/** An old release's ENVD_WATCHES: `{s: status, w: fingerprints}`. */
function readLegacy(env: Env): ShellState {
  const raw = decodeState(env.ENVD_WATCHES);
  let status: LoadStatus | null = null;
  let exact: Fingerprint[] = [];
  if (typeof raw === 'object' && raw !== null) {
    const { s, w } = raw as { s?: unknown; w?: unknown };
    if (s === 'loaded' || s === 'blocked' || s === 'failed') status = s;
    if (Array.isArray(w)) exact = w.filter(isFingerprint);
  }
  return {
    dir: env.ENVD_DIR ?? null,
    file: env.ENVD_FILE ?? null,
    diff: decodeDiff(env.ENVD_DIFF) ?? null,
    status,
    exact,
    candidates: [exact],
    coarse: [],
    foreign: true,
    readAt: Date.now(),
  };
}

/**
 * The caller's state. `allowlistFile`: envd's allowlist, which a blocked record watches
 * (as direnv's blocked record watches its allow file): that is how a blocked record is
 * told from a loaded or failed one without a variable of its own.
 */
export function readShellState(env: Env, opts: RecordOptions = {}): ShellState {
  if (env.ENVD_DIFF !== undefined || env.ENVD_WATCHES !== undefined) return readLegacy(env);
  const text = env.DIRENV_WATCHES;
  const coarse = decodeCoarse(text);
  const k = text !== undefined ? lookup(text, opts.recordDir) : undefined;
  let status: LoadStatus | null = null;
  if (k !== undefined) status = k.status;
  else if (coarse.length > 0) status = opts.allowlistFile !== undefined && coarse.some((w) => w.Path === opts.allowlistFile) ? 'blocked' : 'loaded';
  const dir = env.DIRENV_DIR;
  return {
    dir: dir !== undefined && dir !== '' ? dir.replace(/^-/, '') : null,
    file: env.DIRENV_FILE ?? null,
    diff: decodeDiff(env.DIRENV_DIFF) ?? null,
    status,
    exact: k !== undefined && k.fps.length === 1 ? (k.fps[0] ?? null) : null,
    candidates: k?.fps ?? [],
    coarse: k !== undefined && k.fps.length > 1 ? [] : coarse,
    foreign: coarse.some((w) => DIRENV_ALLOW.test(w.Path)),
    readAt: Date.now(),
  };
}

/**
 * Whether everything the shell's record depends on is as recorded. A record direnv wrote
 * is never taken as envd's answer (direnv's approval is not envd's): it is evaluated
 * again once, and envd's own record replaces it.
 */
export function stateStillValid(s: ShellState): boolean {
  if (s.foreign) return false;
  if (s.exact !== null) return s.exact.length > 0 && stillValid(s.exact);
  return s.coarse.length > 0 && direnvWatchesValid(s.coarse);
}

/** stateStillValid, leaving out one path (the allowlist, for a blocked record). */
export function stillValidExcept(s: ShellState, path: string): boolean {
  if (s.foreign) return false;
  if (s.exact !== null) return stillValid(s.exact.filter((w) => w.p !== path));
  // Ambiguous (several exact lists for one text): still valid if one of them is.
  if (s.candidates.length > 0) return s.candidates.some((list) => stillValid(list.filter((w) => w.p !== path)));
  return s.coarse.length > 0 && direnvWatchesValid(s.coarse.filter((w) => w.Path !== path));
}

/** The environment without the state variables. */
export function withoutState(env: Env): Env {
  // Only the kept entries: deleting from a prototype-free map turns it into a slow one,
  // and this runs on every request.
  const out = newNameMap<string>();
  for (const name of Object.keys(env)) {
    if (!STATE_SET.has(name)) out[name] = env[name] as string;
  }
  return out;
}

const STATE_SET: ReadonlySet<string> = new Set(ALL_STATE_VARS);

/** A cached result answers many requests with the same dependencies: encode them once. */
const encodedWatches = new WeakMap<Fingerprint[], string>();

function encodeWatches(status: LoadStatus, watches: Fingerprint[], asOf: number, recordDir: string | undefined): string {
  let text = encodedWatches.get(watches);
  if (text === undefined) {
    const list = watches.map((w) => toDirenvWatch(w, asOf));
    text = encodeGzenvValue(list);
    // A racy entry (see toDirenvWatch) is written differently once its second is over.
    if (list.every((w, i) => !w.Exists || w.Modtime === Math.floor((watches[i]?.m ?? 0) / 1000))) encodedWatches.set(watches, text);
  }
  remember(text, status, watches, recordDir);
  return text;
}

/**
 * The state variables for a new state, as direnv sets them: DIRENV_DIR (`-` + directory),
 * DIRENV_FILE, DIRENV_WATCHES and DIRENV_DIFF, whose `n` holds the other three too (so
 * direnv's own revert unsets them). `asOf`: a time at or before the fingerprints were
 * last known current.
 */
export function stateVars(s: { dir: string | null; file: string; diff: EnvDiff | null; status: LoadStatus; watches: Fingerprint[]; asOf: number; recordDir?: string }): Env {
  const vars: Env = {
    DIRENV_FILE: s.file,
    DIRENV_WATCHES: encodeWatches(s.status, s.watches, s.asOf, s.recordDir),
  };
  if (s.dir !== null) vars.DIRENV_DIR = '-' + s.dir;
  vars.DIRENV_DIFF = encodeDiff(s.diff ?? emptyDiff(), vars);
  return vars;
}

/** One entry of the record, for the commands that list them (watch-list, current, status). */
export interface WatchView { path: string; recursive: boolean; mtimeMs: number; current: boolean }

export function watchViews(s: ShellState): WatchView[] {
  if (s.exact !== null) return s.exact.map((w) => ({ path: w.p, recursive: w.d === 1, mtimeMs: w.m < 0 ? 0 : w.m, current: stillValid([w]) }));
  return s.coarse.map((w) => ({ path: w.Path, recursive: false, mtimeMs: w.Modtime * 1000, current: direnvWatchesValid([w]) }));
}
