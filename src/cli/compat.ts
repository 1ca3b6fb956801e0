import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { say, usage } from './command.js';
import { resolvePaths, tildePath } from '../config/paths.js';
import { loadConfig } from '../config/config.js';
import { findEnvFile } from '../engine/find.js';
import { readShellState, watchViews } from '../engine/shell-state.js';
import { recordDirOf } from '../engine/state-records.js';
import { fingerprint } from '../engine/fingerprint.js';
import { parseDotenvBytes } from '../engine/core-rpc.js';
import { isValidName } from '../env/names.js';
import { quoteBash } from '../env/quote.js';
import { SHELLS, SHELL_NAMES, isExportFormat, isShellName, type ShellName } from '../shells/index.js';
import { renderChange, renderedOutput } from '../env/render.js';
import type { Change } from '../env/diff.js';
import type { ExportFormat } from '../engine/types.js';
import { applicablePairs, decodeDump, DumpFormatError, dumpJson, encodeGzenv, isDumpIgnored, MAX_DUMP_BYTES, type DumpEnv } from '../eval/dump-codec.js';
import { fetchUrl, FetchError } from '../eval/fetchurl.js';
import { logicalCwd, processEnv } from './env.js';
import { errorMessage } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { MAX_ENV_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';

/**
 * direnv's internal and helper verbs, for the stdlib, for tools written against direnv
 * (nix-direnv, editor plugins) and for people debugging: dump, apply_dump, show_dump,
 * watch, watch-dir, watch-list, watch-print, dotenv, current, fetchurl, edit, reload.
 * Output that a shell evaluates goes to stdout; everything else to stderr.
 */

type Shell = ShellName;

function isShell(s: string | undefined): s is Shell {
  return s !== undefined && isShellName(s);
}

function exportLine(shell: Shell, name: string, value: string): string {
  return SHELLS[shell].exportStatement(name, value);
}


/**
 * Pairs rendered as export lines for `dump SHELL`, which (like direnv's) writes every
 * variable, the shell's own included; names no shell can hold and NUL values are skipped.
 */
function renderPairs(shell: Shell, pairs: Iterable<[string, string]>): string {
  let out = '';
  for (const [name, value] of pairs) {
    if (!isValidName(name)) { say(`envd: skipping '${name}': not a valid variable name`); continue; }
    try {
      out += exportLine(shell, name, value) + '\n';
    } catch (err) {
      say(`envd: skipping ${name}: ${errorMessage(err)}`);
    }
  }
  return out;
}

function readDumpArg(arg: string): string {
  // show_dump takes the dump itself (as direnv does) or, for convenience, a file holding it.
  // Read like any file someone else may have put there: never blocking, never whole.
  try {
    return readRegularFile(arg, MAX_DUMP_BYTES).bytes.toString('utf8');
  } catch { /* not a regular file: the dump text */ }
  return arg;
}

// ---- dump, apply_dump, show_dump -------------------------------------------------------

/**
 * `envd dump [json|gzenv|SHELL] [FILE]`: this process's environment, for a parent
 * to take on (direnv_load). Written to FILE, else to $DIRENV_DUMP_FILE_PATH, else stdout.
 */
export async function runDump(args: string[]): Promise<number> {
  const [format = 'gzenv', file] = args;
  const env = processEnv();
  delete env.DIRENV_DUMP_FILE_PATH;
  let text: string | Buffer;
  if (format === 'gzenv' || format === '') text = encodeGzenv(env);
  else if (format === 'json') text = dumpJson(env, 2) + '\n';
  else if (isShell(format)) text = renderedOutput(format, renderPairs(format, Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  else return usage(`dump: unknown format '${format}' (json, gzenv or ${SHELL_NAMES.join(', ')})`);
  const target = file !== undefined && file !== '' ? file : process.env.DIRENV_DUMP_FILE_PATH;
  if (target !== undefined && target !== '') {
    try {
      writeFileSync(target, text, { mode: 0o600 });
    } catch (err) {
      say(`envd: dump: cannot write ${target}: ${errorMessage(err)}`);
      return 1;
    }
    return 0;
  }
  process.stdout.write(text);
  return 0;
}

function loadDumpFile(path: string): DumpEnv | number {
  try {
    return decodeDump(readRegularFile(path, MAX_DUMP_BYTES).bytes.toString('utf8'));
  } catch (err) {
    if (err instanceof DumpFormatError) say(`envd: ${printable(path)} is not an environment dump: ${err.message}`);
    else if (err instanceof SafeReadError && err.reason === 'NOT_FOUND') say(`envd: ${printable(path)} does not exist`);
    else say(`envd: ${printable(errorMessage(err))}`);
    return 1;
  }
}

/**
 * `envd apply_dump FILE`: bash code that turns the current environment into the dumped
 * one (exports what differs, unsets what the dump lacks), leaving the shell's own
 * variables and envd's/direnv's bookkeeping alone.
 */
export async function runApplyDump(args: string[]): Promise<number> {
  const [first, second] = args;
  const shell: Shell = isShell(first) && second !== undefined ? first : 'bash';
  const file = isShell(first) && second !== undefined ? second : first;
  if (file === undefined || file === '') return usage('usage: envd apply_dump FILE');
  const dump = loadDumpFile(file);
  if (typeof dump === 'number') return dump;
  const current = processEnv();
  const want = new Map(applicablePairs(dump).filter(([n]) => !isDumpIgnored(n)));
  const change: Change = { set: {}, unset: [] };
  for (const name of Object.keys(current)) {
    if (!want.has(name) && isValidName(name) && !isDumpIgnored(name)) change.unset.push(name);
  }
  for (const [name, value] of want) if (current[name] !== value) change.set[name] = value;
  const { text, warnings } = renderChange(shell, change);
  for (const w of warnings) say(w);
  process.stdout.write(text === '' ? '' : renderedOutput(shell, text + '\n'));
  return 0;
}

/** `envd show_dump DUMP`: the dump (or a file holding one) as readable JSON. */
export async function runShowDump(args: string[]): Promise<number> {
  const arg = args[0];
  if (arg === undefined) return usage('usage: envd show_dump DUMP (the text `envd dump` printed, or a file holding it)');
  try {
    process.stdout.write(dumpJson(decodeDump(readDumpArg(arg)), 2) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof DumpFormatError) { say(`envd: not an environment dump: ${err.message}`); return 1; }
    throw err;
  }
}

// ---- watches -----------------------------------------------------------------------------

function inEvaluation(): boolean {
  return process.env.DIRENV_IN_ENVRC === '1';
}

function notInEvaluation(verb: string, fn: string): number {
  say(`envd: ${verb} only works while an .envrc is evaluated (call ${fn} there); envd keeps watches itself.`);
  return 1;
}

/** Drop a leading SHELL argument (direnv's verbs take one; envd's evaluation is bash). */
function withoutShell(args: string[]): string[] {
  return isShell(args[0]) && args.length > 1 ? args.slice(1) : args;
}

/**
 * `envd watch [SHELL] PATH...`: inside an evaluation, prints the stdlib call that records
 * the watch (for libraries that do `eval "$("$direnv" watch bash FILE)"`).
 */
export async function runWatch(args: string[]): Promise<number> {
  const paths = withoutShell(args);
  if (paths.length === 0 || (paths.length === 1 && isShell(paths[0]))) return usage('usage: envd watch [SHELL] PATH...');
  if (!inEvaluation()) return notInEvaluation('watch', 'watch_file');
  process.stdout.write(`watch_file ${paths.map((p) => quoteBash(resolve(p))).join(' ')}\n`);
  return 0;
}

/** `envd watch-dir [SHELL] DIR`: as watch, for a directory watched recursively. */
export async function runWatchDir(args: string[]): Promise<number> {
  const dirs = withoutShell(args);
  if (dirs.length === 0 || (dirs.length === 1 && isShell(dirs[0]))) return usage('usage: envd watch-dir [SHELL] DIR');
  if (!inEvaluation()) return notInEvaluation('watch-dir', 'watch_dir');
  process.stdout.write(dirs.map((d) => `watch_dir ${quoteBash(resolve(d))}`).join('\n') + '\n');
  return 0;
}

interface WatchEntry { path: string; recursive: boolean; exists: boolean; current: boolean }

function watchEntries(): WatchEntry[] {
  const state = readShellState(processEnv(), { recordDir: recordDirOf(resolvePaths(process.env)) });
  return watchViews(state).map((w) => ({ path: w.path, recursive: w.recursive, exists: fingerprint(w.path).m !== -1, current: w.current }));
}

/** `envd watch-print [--null]`: the files the loaded environment depends on, one per line. */
export async function runWatchPrint(args: string[]): Promise<number> {
  const nul = args.includes('--null') || args.includes('-0');
  const sep = nul ? '\0' : '\n';
  process.stdout.write(watchEntries().map((e) => e.path + sep).join(''));
  return 0;
}

/**
 * `envd watch-list [--json]`: like watch-print, with each entry's state: `=` unchanged,
 * `~` changed since it was loaded, `-` missing; `/` marks a directory watched recursively.
 */
export async function runWatchList(args: string[]): Promise<number> {
  const entries = watchEntries();
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
    return 0;
  }
  for (const e of entries) {
    const mark = !e.exists ? '-' : e.current ? '=' : '~';
    process.stdout.write(`${mark} ${e.path}${e.recursive ? '/' : ''}\n`);
  }
  return 0;
}

/** `envd current PATH`: exit 0 when PATH is watched and unchanged since it was loaded. */
export async function runCurrent(args: string[]): Promise<number> {
  const arg = args[0];
  if (arg === undefined) return usage('usage: envd current PATH');
  const path = resolve(arg);
  const state = readShellState(processEnv(), { recordDir: recordDirOf(resolvePaths(process.env)) });
  const w = watchViews(state).find((x) => x.path === path || x.path === arg);
  if (w === undefined) {
    say(`envd: ${path} is not watched by the loaded environment`);
    return 1;
  }
  if (!w.current) {
    say(`envd: ${path} changed since the environment was loaded`);
    return 1;
  }
  return 0;
}

// ---- dotenv, fetchurl --------------------------------------------------------------------

/** `envd dotenv [bash|zsh|fish|json|gha] [FILE]`: a .env file (default ./.env) as export statements. */
export async function runDotenv(args: string[]): Promise<number> {
  let format: ExportFormat = 'bash';
  let rest = args;
  if (rest[0] !== undefined && isExportFormat(rest[0])) {
    format = rest[0];
    rest = rest.slice(1);
  }
  const file = resolve(rest[0] ?? '.env');
  let bytes: Buffer;
  try {
    bytes = readRegularFile(existsSync(file) && statSync(file).isDirectory() ? join(file, '.env') : file, MAX_ENV_FILE_BYTES).bytes;
  } catch (err) {
    say(err instanceof SafeReadError && err.reason === 'NOT_FOUND' ? `envd: dotenv: ${printable(file)} does not exist` : `envd: dotenv: ${printable(errorMessage(err))}`);
    return 1;
  }
  const change: Change = { set: {}, unset: [] };
  for (const [n, v] of await parseDotenvBytes(bytes, processEnv())) change.set[n] = v;
  const { text, warnings } = renderChange(format, change);
  for (const w of warnings) say(w);
  process.stdout.write(text === '' || text.endsWith('\n') ? text : text + '\n');
  return 0;
}

/**
 * `envd fetchurl URL [INTEGRITY]`: fetch into the cache. Prints the cached file's path
 * when INTEGRITY is given (and matches), else the integrity to pin in the .envrc.
 */
export async function runFetchurl(args: string[]): Promise<number> {
  const [url, integrity] = args;
  if (url === undefined || url === '') return usage('usage: envd fetchurl URL [sha256-HASH]');
  try {
    const got = await fetchUrl(url, integrity, resolvePaths(process.env).cacheDir);
    process.stdout.write((integrity !== undefined && integrity !== '' ? got.path : got.integrity) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof FetchError) { say(`envd: fetchurl: ${err.message}`); return 1; }
    throw err;
  }
}

// ---- edit, reload ------------------------------------------------------------------------

function loadDotenvEnabled(): boolean {
  try {
    return loadConfig(resolvePaths(process.env)).config.global.loadDotenv;
  } catch {
    return false;
  }
}

/** The env file a verb is about: PATH (a file, or a directory's .envrc/.env), else the nearest one. */
function targetFile(arg: string | undefined, cwd: string): string | null {
  if (arg !== undefined && arg !== '') {
    const p = isAbsolute(arg) ? arg : resolve(cwd, arg);
    let isDir = false;
    try { isDir = statSync(p).isDirectory(); } catch { /* a new file */ }
    if (!isDir) return p;
    const rc = join(p, '.envrc');
    const env = join(p, '.env');
    return !existsSync(rc) && existsSync(env) ? env : rc;
  }
  return findEnvFile(cwd, loadDotenvEnabled())?.path ?? null;
}

function hashOf(path: string): string | null {
  try {
    return createHash('sha256').update(readRegularFile(path, MAX_ENV_FILE_BYTES).bytes).digest('hex');
  } catch {
    return null;
  }
}

function editorCommand(): string {
  for (const v of [process.env.VISUAL, process.env.EDITOR]) if (v !== undefined && v.trim() !== '') return v;
  for (const e of ['editor', 'nano', 'vim', 'vi']) {
    if (spawnSync('sh', ['-c', `command -v ${e}`], { stdio: 'ignore' }).status === 0) return e;
  }
  return 'vi';
}

/**
 * `envd edit [PATH]`: open the .envrc (PATH, else the nearest one, else ./.envrc) in
 * $VISUAL/$EDITOR; if the editor changed it, approve the new content.
 */
export async function runEdit(args: string[]): Promise<number> {
  // The exact directory, refused when its name is not UTF-8 (process.cwd() would name a
  // look-alike, and the editor and the approval would act on that one).
  const cwd = logicalCwd();
  const file = targetFile(args[0], cwd) ?? join(cwd, '.envrc');
  const before = hashOf(file);
  const editor = editorCommand();
  // The editor variable may hold arguments ("code --wait"), as shells treat it.
  const r = spawnSync('sh', ['-c', `${editor} "$1"`, 'envd-edit', file], { stdio: 'inherit' });
  if (r.error !== undefined || r.status !== 0) {
    say(`envd: edit: '${printable(editor)}' ${r.error !== undefined ? `could not start: ${r.error.message}` : `exited with status ${r.status ?? 'signal'}`}; nothing approved`);
    return 1;
  }
  const after = hashOf(file);
  const shown = tildePath(file, resolvePaths(process.env).home);
  if (after === null) {
    say(`envd: ${shown} was not saved; nothing approved`);
    return 0;
  }
  if (after === before) {
    say(`envd: ${shown} is unchanged; its approval is as it was`);
    return 0;
  }
  // Approved here, by the trust module itself (as `envd allow FILE` would).
  const [{ openTrust }, { allowWithRequired }] = await Promise.all([import('../engine/trust.js'), import('./trust.js')]);
  return allowWithRequired(openTrust(), file, cwd);
}

/**
 * `envd reload`: evaluate the current env file again at the next prompt, even though
 * nothing it reads changed (for commands whose output the .envrc uses). Marks the file as
 * changed (its mtime), which every shell and the daemon's cache notice.
 */
export async function runReload(args: string[]): Promise<number> {
  const cwd = logicalCwd();
  const loaded = process.env.DIRENV_FILE ?? process.env.ENVD_FILE;
  const file = args[0] !== undefined ? targetFile(args[0], cwd)
    : loaded !== undefined && loaded !== '' ? loaded : targetFile(undefined, cwd);
  if (file === null || !existsSync(file)) {
    say('envd: reload: no .envrc here or above; nothing to reload');
    return 1;
  }
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch (err) {
    say(`envd: reload: cannot mark ${tildePath(file, resolvePaths(process.env).home)} as changed: ${printable(errorMessage(err))}`);
    return 1;
  }
  say(`envd: ${tildePath(file, resolvePaths(process.env).home)} reloads at the next prompt`);
  return 0;
}

// ---- check-required ------------------------------------------------------------------------

/**
 * `envd check-required FILE...`: prints, one per line, the FILEs (relative to the current
 * directory) that are not approved with their present content. The stdlib's
 * require_allowed uses it in a plain shell; inside an evaluation it asks envd directly.
 */
export async function runCheckRequired(args: string[]): Promise<number> {
  if (args.length === 0) return usage('usage: envd check-required FILE...');
  const paths = resolvePaths(process.env);
  const { unapprovedFiles } = await import('../eval/rpc-extras.js');
  let config;
  try { config = loadConfig(paths).config; } catch { config = (await import('../config/config.js')).defaultConfig(); }
  const missing = unapprovedFiles(args, process.cwd(), paths, config);
  process.stdout.write(missing.map((m) => m + '\n').join(''));
  return 0;
}
