import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { EnvdPaths } from './paths.js';
import { errorMessage } from '../util/errors.js';
import { MAX_CONFIG_FILE_BYTES, readRegularFile, SafeReadError } from '../util/safe-read.js';
import { MAX_TIMER_MS } from '../util/timer.js';

export type SourcedFilesPolicy = 'strict' | 'follow';
export type GoCachePolicy = 'project' | 'version' | 'shared';
/** `[go] install`: `auto` lets the daemon install a missing pinned Go in the background. */
export type GoInstallPolicy = 'off' | 'auto';

export interface Config {
  global: {
    loadDotenv: boolean;
    strictEnv: boolean;
    /** direnv's warn_timeout: after this, say the .envrc is still running. */
    warnTimeoutMs: number;
    /** Hard limit; the evaluation's whole process group is killed. */
    evalTimeoutMs: number;
    /** How long a prompt may wait for an evaluation before it is told "still loading". */
    asyncBudgetMs: number;
    hideEnvDiff: boolean;
    logFormat: string | null;
    disableStdin: boolean;
    bashPath: string | null;
    logLevel: string | null;
  };
  whitelist: { prefix: string[]; exact: string[] };
  trust: { sourcedFiles: SourcedFilesPolicy };
  go: { sdkDirs: string[]; cache: GoCachePolicy; auto: boolean; install: GoInstallPolicy; downloadUrl: string | null };
}

export function defaultConfig(): Config {
  return {
    global: {
      loadDotenv: false,
      strictEnv: false,
      warnTimeoutMs: 5_000,
      evalTimeoutMs: 60_000,
      asyncBudgetMs: 200,
      hideEnvDiff: false,
      logFormat: null,
      disableStdin: false,
      bashPath: null,
      logLevel: null,
    },
    whitelist: { prefix: [], exact: [] },
    trust: { sourcedFiles: 'strict' },
    go: { sdkDirs: [], cache: 'project', auto: false, install: 'off', downloadUrl: null },
  };
}

export interface LoadedConfig {
  config: Config;
  /** One line each: file, line and key, and what to do. envd keeps working with defaults. */
  warnings: string[];
  /** Files read (for watching and cache keys). */
  files: string[];
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Line of `key =` in the raw text, for messages; 0 when not found. */
function lineOf(text: string, key: string): number {
  const lines = text.split('\n');
  const re = new RegExp(`^\\s*["']?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*=`);
  const i = lines.findIndex((l) => re.test(l));
  return i + 1;
}

/** Only the table's own keys: a key named like an Object.prototype member is not a setting. */
function has(t: Table, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(t, key);
}

/** Durations: direnv writes "5s"; we also take numbers (seconds) and "200ms". */
function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000);
  if (typeof v === 'bigint' && v >= 0n) return Number(v) * 1000;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (m === null || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * mult);
}

class Reader {
  constructor(private readonly file: string, private readonly text: string, private readonly warnings: string[]) {}

  bad(key: string, want: string): void {
    const line = lineOf(this.text, key.split('.').pop() ?? key);
    this.warnings.push(`envd: ${this.file}${line > 0 ? `:${line}` : ''}: key '${key}' must be ${want}; using the default. Fix the file and envd picks it up at the next prompt.`);
  }

  bool(t: Table, key: string, full: string, set: (v: boolean) => void): void {
    if (!has(t, key)) return;
    const v = t[key];
    if (typeof v === 'boolean') set(v); else this.bad(full, 'true or false');
  }

  duration(t: Table, key: string, full: string, set: (ms: number) => void): void {
    if (!has(t, key)) return;
    const ms = parseDuration(t[key]);
    if (ms === undefined) this.bad(full, 'a duration such as "5s" or "200ms"');
    else if (ms > MAX_TIMER_MS) this.bad(full, 'at most 596h (24.8 days, the longest timer Node keeps)');
    else set(ms);
  }

  str(t: Table, key: string, full: string, set: (v: string) => void): void {
    if (!has(t, key)) return;
    const v = t[key];
    if (typeof v === 'string') set(v); else this.bad(full, 'a string');
  }

  strList(t: Table, key: string, full: string, set: (v: string[]) => void): void {
    if (!has(t, key)) return;
    const v = t[key];
    if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) set(v);
    else this.bad(full, 'a list of strings');
  }
}

function applyTable(cfg: Config, doc: Table, r: Reader, file: string, warnings: string[]): void {
  const known = new Set(['global', 'whitelist', 'trust', 'go']);
  for (const k of Object.keys(doc)) {
    if (!known.has(k)) warnings.push(`envd: ${file}: unknown section or key '${k}' is ignored.`);
  }
  const g = doc.global;
  if (g !== undefined) {
    if (!isTable(g)) r.bad('global', 'a table');
    else {
      r.bool(g, 'load_dotenv', 'global.load_dotenv', (v) => { cfg.global.loadDotenv = v; });
      r.bool(g, 'strict_env', 'global.strict_env', (v) => { cfg.global.strictEnv = v; });
      r.duration(g, 'warn_timeout', 'global.warn_timeout', (v) => { cfg.global.warnTimeoutMs = v; });
      r.duration(g, 'eval_timeout', 'global.eval_timeout', (v) => { cfg.global.evalTimeoutMs = v; });
      r.duration(g, 'async_budget', 'global.async_budget', (v) => { cfg.global.asyncBudgetMs = v; });
      r.bool(g, 'hide_env_diff', 'global.hide_env_diff', (v) => { cfg.global.hideEnvDiff = v; });
      r.str(g, 'log_format', 'global.log_format', (v) => { cfg.global.logFormat = v; });
      r.bool(g, 'disable_stdin', 'global.disable_stdin', (v) => { cfg.global.disableStdin = v; });
      r.str(g, 'bash_path', 'global.bash_path', (v) => { cfg.global.bashPath = v; });
      r.str(g, 'log_level', 'global.log_level', (v) => { cfg.global.logLevel = v; });
      // direnv keys we accept and ignore on purpose (documented in docs/configuration.md).
    }
  }
  const w = doc.whitelist;
  if (w !== undefined) {
    if (!isTable(w)) r.bad('whitelist', 'a table');
    else {
      r.strList(w, 'prefix', 'whitelist.prefix', (v) => { cfg.whitelist.prefix = v; });
      r.strList(w, 'exact', 'whitelist.exact', (v) => { cfg.whitelist.exact = v; });
    }
  }
  const t = doc.trust;
  if (t !== undefined) {
    if (!isTable(t)) r.bad('trust', 'a table');
    else r.str(t, 'sourced_files', 'trust.sourced_files', (v) => {
      if (v === 'strict' || v === 'follow') cfg.trust.sourcedFiles = v;
      else r.bad('trust.sourced_files', '"strict" or "follow"');
    });
  }
  const go = doc.go;
  if (go !== undefined) {
    if (!isTable(go)) r.bad('go', 'a table');
    else {
      r.strList(go, 'sdk_dirs', 'go.sdk_dirs', (v) => { cfg.go.sdkDirs = v; });
      r.str(go, 'cache', 'go.cache', (v) => {
        if (v === 'project' || v === 'version' || v === 'shared') cfg.go.cache = v;
        else r.bad('go.cache', '"project", "version" or "shared"');
      });
      r.bool(go, 'auto', 'go.auto', (v) => { cfg.go.auto = v; });
      r.str(go, 'install', 'go.install', (v) => {
        if (v === 'off' || v === 'auto') cfg.go.install = v;
        else r.bad('go.install', '"off" or "auto"');
      });
      r.str(go, 'download_url', 'go.download_url', (v) => { cfg.go.downloadUrl = v; });
    }
  }
}

function readOne(cfg: Config, file: string, warnings: string[], files: string[]): void {
  let text: string;
  try {
    // Read on every request that sees the file change: never blocking, never whole.
    text = readRegularFile(file, MAX_CONFIG_FILE_BYTES).bytes.toString('utf8');
  } catch (err) {
    if (err instanceof SafeReadError && err.reason === 'NOT_FOUND') return;
    const why = err instanceof SafeReadError ? err.message : `cannot read ${file}: ${errorMessage(err)}`;
    warnings.push(`envd: ${why}; using defaults.`);
    return;
  }
  files.push(file);
  let doc: Table;
  try {
    doc = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? `:${err.line}:${err.column}` : '';
    const first = errorMessage(err).split('\n')[0] ?? '';
    warnings.push(`envd: ${file}${where}: invalid TOML (${first}); using defaults for this file. Fix it and envd picks it up at the next prompt.`);
    return;
  }
  applyTable(cfg, doc, new Reader(file, text, warnings), file, warnings);
}

/**
 * direnv.toml is read first so a migrating user's settings carry over; envd.toml is read
 * second so that where both set a key, envd.toml wins.
 */
export function loadConfig(paths: EnvdPaths): LoadedConfig {
  const config = defaultConfig();
  const warnings: string[] = [];
  const files: string[] = [];
  for (const f of configFilePaths(paths)) readOne(config, f, warnings, files);
  return { config, warnings, files };
}

/** The config files, in the order they are read (later ones win), present or not. */
export function configFilePaths(paths: EnvdPaths): string[] {
  return [join(paths.direnvConfigDir, 'direnv.toml'), join(paths.direnvConfigDir, 'config.toml'), paths.configFile];
}
