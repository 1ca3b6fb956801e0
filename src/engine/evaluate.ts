import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { decodeBytes, hasRawBytes } from '../env/bytes.js';
import { assertUtf8Path, assertUtf8RealPath } from '../util/byte-paths.js';
import { printableOutput } from '../util/printable.js';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import { tildePath } from '../config/paths.js';
import type { Env } from '../env/diff.js';
import { checkEnvrcName } from '../env/names.js';
import { checkValue } from '../env/values.js';
import type { RpcContext, RpcHandler } from '../eval/rpc-types.js';
import { runEvaluation } from '../eval/runner.js';
import { contentHash, checkFileSafety } from '../allowlist/index.js';
import { EnvdError } from '../util/errors.js';
import { ENVD_BIN_PATH } from '../version.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import { newNameMap, ownValue } from '../env/map.js';

/** Names bash itself sets or changes while evaluating: differences are not the user's doing. */
const SHELL_NOISE = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);

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
  realFile: string;
  dir: string;
  /** The bytes to run (already read, hashed and approved). */
  script: Buffer;
  /** The bytes of the env file itself (for a .env file the script is `dotenv`). */
  fileContent: Buffer;
  hash: string;
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
  const addLib = (dir: string): void => {
    dirs.push(dir);
    try {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.sh')).sort()) files.push(join(dir, f));
    } catch { /* no lib dir */ }
  };
  const direnvDir = paths.direnvConfigDir;
  addLib(join(direnvDir, 'lib'));
  const direnvrc = join(direnvDir, 'direnvrc');
  files.push(existsSync(direnvrc) ? direnvrc : join(paths.home, '.direnvrc'));
  // Watched even while absent, so creating one reloads.
  if (!files.includes(direnvrc)) dirs.push(direnvrc);
  addLib(join(paths.configDir, 'lib'));
  files.push(join(paths.configDir, 'envdrc'));
  return { files, dirs };
}

/** The evaluation's output as lines to show: names it prints are escaped (printable.ts). */
function splitLines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0).map(printableOutput);
}

/** Run one evaluation of an approved file and check what it produced. */
export async function evaluateFile(req: EvalRequest): Promise<EvalResult> {
  const watched = new Map<string, boolean>(); // path -> recursive
  const sourced = newNameMap();
  let violation: string | null = null;
  const home = req.paths.home;

  const readTrusted = (path: string): Buffer => {
    // A path from the evaluation is bytes (rpc.ts); one that is not UTF-8 would name a
    // look-alike for Node's fs, so it is refused, as is a real path that is not UTF-8.
    assertUtf8Path('the file', path);
    let realBytes: Buffer;
    try {
      realBytes = realpathSync.native(path, { encoding: 'buffer' });
    } catch {
      throw new EnvdError('NOT_FOUND', `${tildePath(path, home)} does not exist`);
    }
    const real = decodeBytes(realBytes);
    assertUtf8RealPath(path, real);
    watched.set(path, false);
    const bytes = real === req.realFile ? req.fileContent : readFileSync(real);
    if (real === req.realFile) return bytes;
    const safety = checkFileSafety(real);
    if (!safety.ok) {
      violation = safety.message;
      throw new EnvdError('FILE_UNSAFE', safety.message);
    }
    const hash = contentHash(real, bytes);
    sourced[real] = hash;
    if (req.trustAllSourced || req.isApproved(real, hash)) return bytes;
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
      if (p.endsWith('/') && p.length > 1) watched.set(p.slice(0, -1), true);
      else if (!watched.has(p)) watched.set(p, false);
    },
    readTrusted,
  };

  const ext = extensionFiles(req.paths);
  const extraEnv: Env = {
    DIRENV_IN_ENVRC: '1',
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

  const deps: Fingerprint[] = [{ ...fingerprint(req.realFile), p: req.realFile }];
  for (const f of [...ext.files, ...ext.dirs]) deps.push(fingerprint(f));
  for (const [p, recursive] of watched) deps.push(fingerprint(p, recursive));
  const output = splitLines(out.output);
  const name = tildePath(req.file, home);

  if (violation !== null) {
    return { kind: 'blocked', env: null, output, detail: violation, deps, sourced };
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
      if (value !== before && !SHELL_NOISE.has(n)) output.push(`envd: not exporting ${n}: ${verdict.reason}`);
      if (before !== undefined) env[n] = before;
      continue;
    }
    if (value !== undefined) env[n] = value;
  }
  return { kind: 'loaded', env, output, detail: '', deps, sourced };
}
