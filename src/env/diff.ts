import { decodeState } from './codec.js';
import { encodeGzenvValue } from '../eval/dump-codec.js';
import { copyNameMap, newNameMap, ownValue } from './map.js';

/**
 * The two shapes of an environment. `Env`: a shell's exported variables as envd reads,
 * diffs and answers them, every name with a value. `ProcessEnv`: a process's own
 * environment as Node hands it over (`process.env`, an options bag), where a name may be
 * present with no value.
 */
export type Env = Record<string, string>;
export type ProcessEnv = Readonly<Record<string, string | undefined>>;

/**
 * What envd changed when it loaded a directory: each variable's value before (null: was
 * unset) and the value envd set (null: envd unset it). Leaving uses `prev` to restore
 * exactly, and `next` to notice what the user changed by hand meanwhile.
 */
export interface EnvDiff {
  prev: Record<string, string | null>;
  next: Record<string, string | null>;
}

export const emptyDiff = (): EnvDiff => ({ prev: newNameMap(), next: newNameMap() });

/**
 * DIRENV_DIFF as direnv writes it: gzenv of `{"p": {...}, "n": {...}}`, where `p` holds the
 * value before of each changed name that was set, `n` the value after of each that is set
 * after (a name missing from `p` was unset; missing from `n`, envd unset it). direnv
 * reverts with it (unset every name of `n`, then set `p`), so either tool can leave.
 * `extraNext`: values set along with the diff (the state variables, as direnv records them).
 */
export function encodeDiff(d: EnvDiff, extraNext: Record<string, string> = {}): string {
  const p: Record<string, string> = newNameMap();
  const n: Record<string, string> = newNameMap();
  const next: Record<string, string | null> = copyNameMap(d.next, extraNext);
  // Sorted, as Go's encoder writes maps: the same diff is the same text.
  for (const name of Object.keys(next).sort()) {
    const before = ownValue(d.prev, name) ?? null;
    const after = ownValue(next, name) ?? null;
    if (before !== null) p[name] = before;
    if (after !== null) n[name] = after;
  }
  return encodeGzenvValue({ p, n });
}

function isNullableStringRecord(v: unknown): v is Record<string, string | null> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((x) => x === null || typeof x === 'string');
}

/** DIRENV_DIFF (direnv's or envd's), or ENVD_DIFF of envd's earlier releases (nulls for unset). */
export function decodeDiff(text: string | undefined): EnvDiff | undefined {
  const raw = decodeState(text);
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { p, n } = raw as { p?: unknown; n?: unknown };
  // Go writes a nil map as null.
  const prev = p === null || p === undefined ? {} : p;
  const next = n === null || n === undefined ? {} : n;
  if (!isNullableStringRecord(prev) || !isNullableStringRecord(next)) return undefined;
  const d = emptyDiff();
  for (const name of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    d.prev[name] = ownValue(prev, name) ?? null;
    d.next[name] = ownValue(next, name) ?? null;
  }
  return d;
}

/** List-valued variables where a user's own additions are kept on leave (as mise does for PATH). */
export function isPathList(name: string): boolean {
  return name === 'PATH' || name === 'MANPATH' || name === 'INFOPATH' || name.endsWith('PATH') || name.endsWith('_PATH') || name === 'PKG_CONFIG_PATH';
}

function splitList(v: string): string[] {
  return v === '' ? [] : v.split(':');
}

/**
 * The environment as it was before envd's changes. Where the user changed a variable by
 * hand after envd set it, their change wins; for PATH-like lists only the entries envd
 * added are taken out again, so entries the user prepended survive.
 */
export function revert(current: Env, d: EnvDiff): Env {
  const out: Env = copyNameMap(current);
  for (const [name, applied] of Object.entries(d.next)) {
    const before = ownValue(d.prev, name) ?? null;
    const now = ownValue(current, name);
    if ((now ?? null) === applied) {
      if (before === null) delete out[name]; else out[name] = before;
      continue;
    }
    if (now !== undefined && applied !== null && isPathList(name)) {
      const beforeEntries = new Set(splitList(before ?? ''));
      const added = new Set(splitList(applied).filter((e) => !beforeEntries.has(e)));
      const kept = splitList(now).filter((e) => !added.has(e));
      // Entries envd removed (PATH_rm) come back where the user has not re-added them.
      for (const e of splitList(before ?? '')) if (!kept.includes(e) && !splitList(applied).includes(e)) kept.push(e);
      if (kept.length === 0 && before === null) delete out[name]; else out[name] = kept.join(':');
    }
    // Otherwise the user's own value stays.
  }
  return out;
}

/** The diff that takes `base` to `target`, over every variable either one has. */
export function diffBetween(base: Env, target: Env, include: (name: string) => boolean = () => true): EnvDiff {
  const d = emptyDiff();
  const names = new Set([...Object.keys(base), ...Object.keys(target)]);
  for (const name of [...names].sort()) {
    if (!include(name)) continue;
    const a = ownValue(base, name) ?? null;
    const b = ownValue(target, name) ?? null;
    if (a === b) continue;
    d.prev[name] = a;
    d.next[name] = b;
  }
  return d;
}

/** A change to apply in the shell: values to export, names to unset. */
export interface Change {
  set: Record<string, string>;
  unset: string[];
}

export const emptyChange = (): Change => ({ set: newNameMap(), unset: [] });

/**
 * What the shell must do to go from `current` to `target` (only names that differ). With
 * `only`, just those names are compared: a caller that knows which names can differ saves
 * walking the whole environment on every answer.
 */
export function changeBetween(current: Env, target: Env, only?: Iterable<string>): Change {
  const c = emptyChange();
  const names = only !== undefined ? new Set(only) : new Set([...Object.keys(current), ...Object.keys(target)]);
  for (const name of [...names].sort()) {
    const a = ownValue(current, name);
    const b = ownValue(target, name);
    if (a === b) continue;
    if (b === undefined) c.unset.push(name); else c.set[name] = b;
  }
  return c;
}

/**
 * direnv's summary line: every `+NEW`, then every `-GONE`, then every `~CHANGED`, each
 * group by name in byte order (direnv sorts the marked words as strings, and `+` < `-` <
 * `~`), so scripts and eyes that read direnv's line read envd's the same way.
 */
export function summarize(d: EnvDiff, hidden: (name: string) => boolean): string {
  const parts: string[] = [];
  for (const name of Object.keys(d.next)) {
    if (hidden(name)) continue;
    const before = ownValue(d.prev, name) ?? null;
    const after = ownValue(d.next, name) ?? null;
    if (before === null && after !== null) parts.push(`+${name}`);
    else if (before !== null && after === null) parts.push(`-${name}`);
    else parts.push(`~${name}`);
  }
  return parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(' ');
}
