import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hasRawBytes } from '../env/bytes.js';
import { assertUtf8Path } from '../util/byte-paths.js';
import { printableOutput } from '../util/printable.js';
import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import { tildePath } from '../config/paths.js';
import type { Env } from '../env/diff.js';
import { checkEnvrcName, DROPPED_SILENTLY } from '../env/names.js';
import { checkValue } from '../env/values.js';
import type { RpcContext, RpcHandler } from '../eval/rpc-types.js';
import { runEvaluation } from '../eval/runner.js';
import { contentHash, judgeFile, placeOf } from '../allowlist/index.js';
import { MAX_ENV_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';
import { EnvdError } from '../util/errors.js';
import { ENVD_BIN_PATH } from '../version.js';
import { fingerprint, statFingerprint, type Fingerprint } from './fingerprint.js';
import { newNameMap, ownValue } from '../env/map.js';

/** What an env file evaluated to. Cached by the service, keyed by everything it depends on. */
export interface EvalResult {
  kind: 'loaded' | 'failed' | 'blocked';
  /** The full environment after evaluation (names and values checked); the service
   *  replaces it by `delta` before caching. */
  env: Env | null;
  /** What the evaluation changed relative to its starting environment (null: unset). */
  delta?: Record<string, string | null>;
  /** Lines for stderr: the file's own output and warnings. */
  output: string[];
  /** Why it failed or is blocked (one line, without the `envd: ` prefix). */
  detail: string;
  /** The env file and everything it read or watched. */
  deps: Fingerprint[];
  /** Sourced and dotenv'd files: real path -> hash. */
  sourced: Record<string, string>;
}

export interface EvalRequest {
  file: string;
  /** The env file's place (placeOf): what its approval belongs to. */
  realFile: string;
  dir: string;
  /** The bytes to run (already read, hashed and approved). */
  script: Buffer;
  /** The bytes of the env file itself (for a .env file the script is `dotenv`). */
  fileContent: Buffer;
  hash: string;
  /** The fstat taken before fileContent was read (null for content envd made itself). */
  fileStat: Stats | null;
  base: Env;
  /** Recorded sourced files of the approval; null: record them (first run after approval). */
  sourcedApproved: Record<string, string> | null;
  /** Trust every sourced file (whitelisted directory, or `[trust] sourced_files = "follow"`). */
  trustAllSourced: boolean;
  isApproved: (realPath: string, hash: string) => boolean;
  config: Config;
  paths: EnvdPaths;
  handlers: Record<string, RpcHandler>;
  onSlow?: () => void;
}

/**
 * User extensions, sourced before the .envrc in direnv's order: `lib/*.sh`, then
 * `direnvrc` (or `~/.direnvrc` when there is none); then envd's own `lib/*.sh` and `envdrc`.
 */
export function extensionFiles(paths: EnvdPaths): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const where = extensionPlaces(paths);
  const addLib = (dir: string): void => {
    dirs.push(dir);
    try {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.sh')).sort()) files.push(join(dir, f));
    } catch { /* no lib dir */ }
  };
  addLib(where.direnvLib);
  files.push(existsSync(where.direnvrc) ? where.direnvrc : where.homeDirenvrc);
  // Watched even while absent, so creating one reloads.
  if (!files.includes(where.direnvrc)) dirs.push(where.direnvrc);
  addLib(where.envdLib);
  files.push(where.envdrc);
  return { files, dirs };
}

// A type, not an interface: Object.values of it is a string[].
export type ExtensionPlaces = Readonly<{ direnvLib: string; direnvrc: string; homeDirenvrc: string; envdLib: string; envdrc: string }>;

/** Worked out once per paths object (a daemon has one): every evaluation asks. */
const placesByPaths = new WeakMap<EnvdPaths, ExtensionPlaces>();

/** Every place an extension may be read from, whether it is there or not. */
export function extensionPlaces(paths: EnvdPaths): ExtensionPlaces {
  let where = placesByPaths.get(paths);
  if (where === undefined) {
    where = {
      direnvLib: join(paths.direnvConfigDir, 'lib'),
      direnvrc: join(paths.direnvConfigDir, 'direnvrc'),
      homeDirenvrc: join(paths.home, '.direnvrc'),
      envdLib: join(paths.configDir, 'lib'),
      envdrc: join(paths.configDir, 'envdrc'),
    };
    placesByPaths.set(paths, where);
  }
  return where;
}

/**
 * The evaluation's output as lines to show: blank lines the file printed are kept (as
 * direnv shows them); names it prints are escaped (printable.ts).
 */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // Escaping can make the runner's 64 KiB of kept output four times longer (\x00 for a
  // NUL): what is shown is bounded again, after escaping, keeping the runner's last note.
  const note = lines.length > 0 && /^\[\d+ more bytes of output not shown\]$/.test(lines[lines.length - 1] ?? '') ? lines.pop() : undefined;
  const shown: string[] = [];
  let size = 0;
  for (const line of lines) {
    const p = printableOutput(line);
    if (size + p.length > MAX_SHOWN_OUTPUT) {
      shown.push(`${p.slice(0, Math.max(0, MAX_SHOWN_OUTPUT - size))}[...]`);
      break;
    }
    shown.push(p);
    size += p.length + 1;
  }
  if (note !== undefined) shown.push(note);
  return shown;
}

/** Characters of an evaluation's output shown, once escaped. */
const MAX_SHOWN_OUTPUT = 64 * 1024;

/** Run one evaluation of an approved file and check what it produced. */
export async function evaluateFile(req: EvalRequest): Promise<EvalResult> {
  // Each dependency's fingerprint is taken before what it stands for is read: an edit made
  // while the evaluation runs then shows as a change, and the result is not kept (cache.ts).
  // One taken afterwards would vouch for content the evaluation never saw.
  const watched = new Map<string, Fingerprint>();
  const sourced = newNameMap();
  let violation: string | null = null;
  const home = req.paths.home;

  const unsafe = (message: string): never => {
    violation = message;
    throw new EnvdError('FILE_UNSAFE', message);
  };

  // Sourced files are judged like the env file: by their place (a symlinked file is run
  // from its own directory, see __envd_run_file), read once without blocking and under a
  // size cap (this runs in the daemon: a FIFO or /dev/zero must not hold it), on the
  // descriptor's owner and mode, and the bytes that were hashed are the bytes returned.
  const readTrusted = (path: string): Buffer => {
    // A path from the evaluation is bytes (rpc.ts); one that is not UTF-8 would name a
    // look-alike for Node's fs, so it is refused, as is a real path that is not UTF-8
    // (placeOf resolves with realpathUtf8).
    assertUtf8Path('the file', path);
    const abs = resolve(req.dir, path);
    let real: string;
    try {
      real = placeOf(abs);
    } catch (err) {
      if (err instanceof EnvdError) throw err;
      throw new EnvdError('NOT_FOUND', `${tildePath(abs, home)} does not exist`);
    }
    if (!watched.has(abs)) watched.set(abs, fingerprint(abs));
    if (real === req.realFile) return req.fileContent;
    if (namesOwnDescriptor(real)) {
      unsafe(`refusing ${tildePath(abs, home)}: it names one of envd's own descriptors, not a file (use source_env <(...) directly)`);
    }
    let bytes: Buffer;
    let stat: Stats;
    try {
      ({ bytes, stat } = readRegularFile(real, MAX_ENV_FILE_BYTES));
    } catch (err) {
      if (err instanceof SafeReadError && err.reason === 'NOT_FOUND') throw new EnvdError('NOT_FOUND', `${tildePath(abs, home)} does not exist`);
      return unsafe(err instanceof SafeReadError ? err.message : String(err));
    }
    const hash = contentHash(real, bytes);
    const approvedItself = req.isApproved(real, hash);
    const safety = judgeFile(abs, stat, req.trustAllSourced && !approvedItself ? 'none' : 'content');
    if (!safety.ok) unsafe(safety.message);
    sourced[real] = hash;
    if (req.trustAllSourced || approvedItself) return bytes;
    if (req.sourcedApproved === null) return bytes; // first run after approval: recorded
    if (req.sourcedApproved[real] === hash) return bytes;
    const what = req.sourcedApproved[real] === undefined ? 'is new since' : 'changed since';
    violation = `${tildePath(req.file, home)} is blocked: ${tildePath(real, home)} ${what} the approval. Run 'envd allow' to approve its content`;
    throw new EnvdError('FILE_UNSAFE', violation);
  };

  const ctx: RpcContext = {
    dir: req.dir,
    env: req.base,
    config: req.config,
    paths: req.paths,
    watch: (p) => {
      // A watch on a look-alike name would watch another file: such a path is not watched
      // (nothing it names could have been read either).
      if (hasRawBytes(p)) return;
      if (p.endsWith('/') && p.length > 1) {
        const dir = p.slice(0, -1);
        if (watched.get(dir)?.d !== 1) watched.set(dir, fingerprint(dir, true));
      } else if (!watched.has(p)) watched.set(p, fingerprint(p));
    },
    readTrusted,
  };

  const ext = extensionFiles(req.paths);
  const deps: Fingerprint[] = [req.fileStat !== null ? statFingerprint(req.realFile, req.fileStat) : fingerprint(req.realFile)];
  // A symlinked env file: its target too, so a watcher on the target's directory sees edits.
  try {
    const target = realpathSync.native(req.realFile);
    if (target !== req.realFile) deps.push(fingerprint(target));
  } catch { /* gone meanwhile: the first fingerprint says so */ }
  for (const f of [...ext.files, ...ext.dirs]) deps.push(fingerprint(f));
  const extraEnv: Env = {
    DIRENV_IN_ENVRC: '1',
    // The directory as found (a symlinked directory keeps its spelling), as direnv
    // evaluates from the shell's own PWD: bash keeps an inherited PWD that names its cwd.
    PWD: req.dir,
    DIRENV_DIR: '-' + req.dir,
    DIRENV_FILE: req.file,
    __ENVD_RC_PATH: req.file,
    __ENVD_EXTENSIONS: ext.files.join('\n'),
    __ENVD_STRICT: req.config.global.strictEnv ? '1' : '',
    __ENVD_BIN: ENVD_BIN_PATH,
    __ENVD_GO_CACHE: req.config.go.cache,
    __ENVD_CACHE_DIR: req.paths.cacheDir,
    // log_error writes red; whoever shows the output to a person drops colour if need be.
    __ENVD_COLOR: '1',
  };
  if (req.config.global.logFormat !== null) extraEnv.DIRENV_LOG_FORMAT = req.config.global.logFormat;

  const out = await runEvaluation({
    dir: req.dir,
    script: req.script,
    env: req.base,
    extraEnv,
    bashPath: req.config.global.bashPath ?? 'bash',
    timeoutMs: req.config.global.evalTimeoutMs,
    handlers: req.handlers,
    ctx,
    warnAfterMs: req.config.global.warnTimeoutMs,
    ...(req.onSlow !== undefined ? { onSlow: req.onSlow } : {}),
  });

  deps.push(...watched.values());
  const output = splitLines(out.output);
  const name = tildePath(req.file, home);

  if (violation !== null) {
    // The stdlib also printed the refusal it was sent; it is said once, as the last line.
    const said = violation;
    const rest = output.filter((l) => !l.includes(said));
    return { kind: 'blocked', env: null, output: rest, detail: violation, deps, sourced };
  }
  if (out.status !== 'ok' || out.dump === null) {
    const why = out.status === 'timeout'
      ? `${name} ${out.detail} and was stopped; it is not run again until it changes`
      : `${name} failed (${out.detail}); nothing applied. It runs again when it changes`;
    return { kind: 'failed', env: null, output, detail: why, deps, sourced };
  }

  // Check every name and value; refused ones keep the value they had before.
  const env: Env = newNameMap();
  const names = new Set([...Object.keys(req.base), ...out.dump.keys()]);
  for (const n of names) {
    const before = req.base[n];
    const raw = out.dump.get(n);
    if (ownValue(extraEnv, n) !== undefined) {
      if (before !== undefined) env[n] = before;
      continue;
    }
    const verdict = checkEnvrcName(n);
    let value: string | undefined;
    if (raw !== undefined) {
      // One check for every value a shell will be handed: UTF-8, no NUL, fits E2BIG.
      const v = checkValue(n, raw);
      if (!v.ok) {
        if (verdict.ok) output.push(`envd: not exporting ${n}: ${v.reason}`);
        if (before !== undefined) env[n] = before;
        continue;
      }
      value = v.value;
    }
    if (!verdict.ok) {
      if (value !== before && !DROPPED_SILENTLY.has(n)) output.push(`envd: not exporting ${n}: ${verdict.reason}`);
      if (before !== undefined) env[n] = before;
      continue;
    }
    if (value !== undefined) env[n] = value;
  }
  return { kind: 'loaded', env, output, detail: '', deps, sourced };
}

/**
 * Whether a path leads (through symlinks) into /proc or /dev/fd. There a name means a
 * descriptor of the process that opens it, which would be the daemon's own (its log, its
 * sockets), never the evaluation's: `source_env <(...)` is read by bash itself (10-files.sh).
 */
function namesOwnDescriptor(place: string): boolean {
  let p = place;
  for (let hops = 0; hops < 40; hops++) {
    if (p.startsWith('/proc/') || p.startsWith('/dev/fd/') || /^\/dev\/std(?:in|out|err)$/.test(p)) return true;
    try {
      if (!lstatSync(p).isSymbolicLink()) return false;
      p = placeOf(resolve(dirname(p), readlinkSync(p)));
    } catch {
      return false;
    }
  }
  return false;
}
