import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/config.js';
import { tildePath } from '../config/paths.js';
import { changeBetween, decodeDiff, diffBetween, revert, summarize, type Env, type EnvDiff } from '../env/diff.js';
import { copyNameMap } from '../env/map.js';
import { ALL_STATE_VARS } from '../env/names.js';
import { red } from '../util/colour.js';
import type { EvalResult } from './evaluate.js';
import type { FoundFile } from './find.js';
import { fingerprint, treePaths, type Fingerprint } from './fingerprint.js';
import { readShellState, stateVars, stillValidExcept, watchedPaths, withoutState, type LoadStatus, type ShellState } from './shell-state.js';
import type { ExportOutcome } from './types.js';

/** watch_dir entries a hook checks at every prompt (each a stat). */
const MAX_HOOK_TREE_PATHS = 256;

/** What one request's answer is built from. */
export interface AnswerContext {
  config: Config;
  home: string;
  allowlistFile: string;
  /** Where shell records persist for the next process (shell-state.ts). */
  recordDir: string;
  configFiles: readonly string[];
  /** The caller's environment, its state, and its base (the environment without that state). */
  current: Env;
  state: ShellState;
  base: Env;
}

/** A message line in direnv's shape, honouring `log_format`. */
export function formatMessage(config: Config, text: string): string {
  const f = config.global.logFormat;
  if (f !== null) return f.includes('%s') ? f.replace('%s', text) : f;
  return `envd: ${text}`;
}

/**
 * The config files' fingerprints, in every shell's state: a config edit makes each
 * shell's next request evaluate again (strict_env, eval_timeout...), not answer no-op.
 */
function configPrints(c: AnswerContext): Fingerprint[] {
  return c.configFiles.map((f) => fingerprint(f));
}

/** No env file here any more: back to the base. */
export function unloaded(c: AnswerContext, messages: string[]): ExportOutcome {
  const out = c.state.dir !== null ? [...messages, formatMessage(c.config, 'unloading')] : messages;
  return { kind: 'unloaded', change: changeBetween(c.current, c.base, touched(c.state, null)), messages: out, file: null };
}

/**
 * What a shell whose environment is `after` (an answer applied) would be answered on
 * leaving for a directory where no env file is found, worked out beforehand: `unloaded`
 * for that environment, and the names whose values it depends on (the state variables and
 * every name of the state's diff). The answer depends on nothing else but the config
 * (message formats, warnings), which the hook watches, so a hook that finds each of those
 * names as it was in `after` may apply it without asking (leave plans: hook-session.ts).
 * Null when there is nothing to leave, or the state is one only the daemon reads (envd's
 * older variables, a DIRENV_DIFF that does not decode).
 */
/**
 * What leaveFrom's answer depends on in `after`: the state variables and the names the
 * state's diff changed (their values; `\u0001` for unset). Equal keys, equal answers (under
 * one config).
 */
export function leaveKey(after: Env): string {
  const names = new Set<string>(ALL_STATE_VARS);
  for (const n of Object.keys(decodeDiff(after.DIRENV_DIFF)?.next ?? {})) names.add(n);
  const parts: string[] = [];
  for (const n of names) parts.push(n, after[n] ?? '\u0001');
  return parts.join('\0');
}

export function leaveFrom(c: Omit<AnswerContext, 'current' | 'state' | 'base'>, after: Env, messages: string[]): { outcome: ExportOutcome; names: string[] } | null {
  if (after.ENVD_DIFF !== undefined || after.ENVD_WATCHES !== undefined) return null;
  // No record files are read: leaving needs the state's directory and diff alone.
  const state = readShellState(after);
  if (state.file === null && state.diff === null) return null;
  if (after.DIRENV_DIFF !== undefined && state.diff === null) return null;
  const base = withoutState(state.diff !== null ? revert(after, state.diff) : after);
  const outcome = unloaded({ ...c, current: after, state, base }, messages);
  return { outcome, names: [...touched(state, null)] };
}

/**
 * Blocked, denied or failed: leave whatever was loaded (restore the base), and record the
 * file and its fingerprints so the shell is not told again until something changes.
 */
export function settle(c: AnswerContext, found: FoundFile, kind: 'blocked' | 'denied' | 'failed', deps: Fingerprint[], messages: string[]): ExportOutcome {
  const status: LoadStatus = kind === 'failed' ? 'failed' : 'blocked';
  const { state } = c;
  // As direnv: the directory is recorded with an empty diff, so the file is neither run
  // nor reported again until something it depends on changes (config edits included). A
  // blocked record also watches the allowlist (as direnv's watches its allow file): an
  // approval is a change.
  const all = [...deps, ...configPrints(c)];
  const watches = status === 'blocked' ? [...all, fingerprint(c.allowlistFile)] : all;
  const target: Env = copyNameMap(c.base, stateVars({ dir: found.dir, file: found.path, diff: null, status, watches, asOf: state.readAt, recordDir: c.recordDir }));
  const out = [...messages];
  // Still blocked, and only the allowlist moved (another file's approval): said already,
  // and nothing was loaded to unload (a blocked record has no diff).
  const saidAlready = status === 'blocked' && state.status === 'blocked' && state.file === found.path && stillValidExcept(state, c.allowlistFile);
  if (saidAlready) out.pop();
  // The last line says what went wrong: red on a terminal, as direnv shows its errors.
  const last = out.pop();
  if (last !== undefined) out.push(red(last));
  if (state.dir !== null && !saidAlready) out.unshift(formatMessage(c.config, 'unloading'));
  return { kind, change: changeBetween(c.current, target, touched(state, null)), messages: out, file: found.path };
}

/**
 * An evaluation's result applied to this shell. `stale`: a stand-in for a fresh run still
 * going, which must not let the shell's next request be a no-op.
 */
export function applyResult(c: AnswerContext, found: FoundFile, r: EvalResult, messages: string[], stale = false): ExportOutcome {
  const loadingLine = formatMessage(c.config, `loading ${tildePath(found.path, c.home)}`);
  if (r.kind !== 'loaded' || r.delta === undefined) {
    return settle(c, found, r.kind === 'blocked' ? 'blocked' : 'failed', r.deps, [...messages, loadingLine, ...r.output, formatMessage(c.config, r.detail)]);
  }
  // The file's changes on top of this shell's own starting environment (a cached result
  // may come from another shell: PWD, OLDPWD, SHLVL… stay this shell's).
  const env: Env = copyNameMap(c.base);
  for (const [n, v] of Object.entries(r.delta)) {
    if (v === null) delete env[n]; else env[n] = v;
  }
  const diff = diffBetween(c.base, env);
  // A stand-in carries a fingerprint that matches nothing, so the shell's next request (at
  // the generation bump the fresh result brings) is not a no-op.
  const watches = [...r.deps, ...configPrints(c), ...(stale ? [{ p: found.path, m: -2, s: -1 }] : [])];
  const target: Env = copyNameMap(env, stateVars({ dir: found.dir, file: found.path, diff, status: 'loaded', watches, asOf: c.state.readAt, recordDir: c.recordDir }));
  const change = changeBetween(c.current, target, touched(c.state, diff));
  if (change.unset.length === 0 && Object.keys(change.set).length === 0) {
    return { kind: 'noop', change, messages, file: found.path };
  }
  const out = [...messages, loadingLine, ...r.output];
  if (!c.config.global.hideEnvDiff) {
    const summary = summarize(diff, (n) => n.startsWith('DIRENV_') || n.startsWith('ENVD_'));
    if (summary !== '') out.push(formatMessage(c.config, `export ${summary}`));
  }
  return { kind: 'loaded', change, messages: out, file: found.path };
}

/**
 * The files a hook compares with its stamp at every prompt (builtin `-nt`), so an edit
 * made by the previous command is seen at the next prompt whatever the watcher is doing:
 * those in the shell's new state, plus the allowlist and config files (allow, deny and
 * config edits).
 */
export function withDeps(current: Env, o: ExportOutcome, allowlistFile: string, configFiles: readonly string[], userFiles: ReadonlySet<string> = new Set(), home = ''): ExportOutcome {
  if (o.kind === 'pending' || o.kind === 'unloaded' || o.file === null) return o;
  const after = copyNameMap(current);
  for (const n of o.change.unset) delete after[n];
  for (const [n, v] of Object.entries(o.change.set)) after[n] = v;
  const st = readShellState(after);
  const mine = st.file === o.file;
  // The paths themselves come from DIRENV_WATCHES (whatever the record says about them:
  // an ambiguous record has no exact list), and the env file always.
  const out = new Set<string>([o.file, ...(mine ? watchedPaths(current, o.change) : [])]);
  // A watch_dir tree: its entries too (bounded: past that, the watcher and the request's
  // tree signature still notice; the hook stats each of these at every prompt).
  let room = MAX_HOOK_TREE_PATHS;
  for (const w of mine ? st.exact ?? st.candidates.at(-1) ?? [] : []) {
    if (w.d !== 1 || room <= 0) continue;
    const paths = treePaths(w.p, room);
    room -= paths.length;
    for (const p of paths) out.add(p);
  }
  out.add(allowlistFile);
  for (const f of configFiles) out.add(f);
  const deps = [...out];
  return { ...o, deps, promptDeps: promptPaths(deps, userFiles, home) };
}

/**
 * What the hook stats at every prompt (two stat calls a file, the most of an idle prompt):
 * `deps`, except for user config and extension files (`userFiles`) that do not exist,
 * usually most of them:
 *  - one under a directory that does not exist either is stood for by the highest missing
 *    directory on its way up (the hook's test sees a missing file as older than its stamp,
 *    and creating the file creates that directory first, new);
 *  - two or more missing in one existing directory are stood for by it (creating a file
 *    changes its mtime), unless it is the home directory, whose mtime moves all the time
 *    (history files): those are checked each.
 * So the hook still asks at the next prompt when one appears.
 */
export function promptPaths(deps: readonly string[], userFiles: ReadonlySet<string>, home: string): string[] {
  const missingIn = new Map<string, string[]>();
  const out: string[] = [];
  // The missing files share their directories (~/.config/direnv, ~/.config/envd, ~/.config):
  // each is looked at once per answer.
  const seen = new Map<string, boolean>();
  const exists = (p: string): boolean => {
    let there = seen.get(p);
    if (there === undefined) {
      there = existsSync(p);
      seen.set(p, there);
    }
    return there;
  };
  for (const d of deps) {
    if (!userFiles.has(d) || exists(d)) { out.push(d); continue; }
    let top = d;
    while (dirname(top) !== top && !exists(dirname(top))) top = dirname(top);
    if (top !== d) { out.push(top); continue; }
    const dir = dirname(d);
    missingIn.set(dir, [...(missingIn.get(dir) ?? []), d]);
  }
  for (const [dir, missing] of missingIn) {
    if (missing.length >= 2 && dir !== home && dirname(dir) !== dir) out.push(dir);
    else out.push(...missing);
  }
  return [...new Set(out)];
}

/**
 * The only names whose value can differ between the shell's environment and an answer:
 * what the old state changed (reverted), what the new diff changes, and the state itself.
 */
function touched(state: ShellState, diff: EnvDiff | null): Set<string> {
  const names = new Set<string>(ALL_STATE_VARS);
  for (const n of Object.keys(state.diff?.next ?? {})) names.add(n);
  for (const n of Object.keys(diff?.next ?? {})) names.add(n);
  return names;
}
