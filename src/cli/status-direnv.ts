import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import type { Config } from '../config/config.js';
import type { EnvdPaths } from '../config/paths.js';
import type { StatusInfo } from '../engine/service-types.js';
import type { Fingerprint } from '../engine/fingerprint.js';
import { ENVD_BIN_PATH } from '../version.js';

/**
 * `direnv status [--json]` through the shim, in direnv's formats, because prompt themes and
 * scripts parse them: the text is direnv 2.32's ("Found RC allowed true"), the JSON is the
 * form newer direnv prints for `--json` (`allowed` 0 allowed, 1 not allowed, 2 denied).
 * Where direnv names its per-file allow record, envd names its one allowlist file.
 */

/** What is known of one env file for the report. */
export interface RcReport {
  path: string;
  trust: string;
  /** Files the result depends on (the loaded state's watches; for a found file, itself). */
  watches: { path: string; mtimeMs: number }[];
}

/** direnv's three answers: 0 allowed (approved or whitelisted), 1 not allowed, 2 denied. */
export function allowCode(trust: string): 0 | 1 | 2 {
  if (trust === 'allowed' || trust === 'whitelisted') return 0;
  return trust === 'denied' ? 2 : 1;
}

/** Go's time.Duration text for whole milliseconds: 5s, 500ms, 1m30s, 1h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${Number(s.toFixed(3))}s`;
}

/** The bash direnv would run: the configured one, else the first on PATH. */
function bashPath(config: Config): string {
  if (config.global.bashPath !== null) return config.global.bashPath;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, 'bash');
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch { /* next */ }
  }
  return 'bash';
}

function watchLine(desc: string, workDir: string, w: { path: string; mtimeMs: number }): string {
  const when = new Date(Math.max(0, Math.floor(w.mtimeMs / 1000)) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${desc} watch: ${JSON.stringify(relative(workDir, w.path))} - ${when}`;
}

function rcLines(desc: string, rc: RcReport, paths: EnvdPaths): string[] {
  const workDir = dirname(rc.path);
  return [
    `${desc} RC path ${rc.path}`,
    ...rc.watches.map((w) => watchLine(desc, workDir, w)),
    `${desc} RC allowed ${allowCode(rc.trust) === 0 ? 'true' : 'false'}`,
    `${desc} RC allowPath ${paths.allowlistFile}`,
  ];
}

/** The found file's watches as direnv lists them: the file itself and the approval record. */
export function foundWatches(file: string, paths: EnvdPaths): { path: string; mtimeMs: number }[] {
  const mtime = (p: string): number => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return [{ path: file, mtimeMs: mtime(file) }, { path: paths.allowlistFile, mtimeMs: mtime(paths.allowlistFile) }];
}

export function loadedWatches(watches: Fingerprint[]): { path: string; mtimeMs: number }[] {
  return watches.map((w) => ({ path: w.p, mtimeMs: w.m < 0 ? 0 : w.m }));
}

export function direnvStatusText(info: StatusInfo, loaded: RcReport | null, found: RcReport | null, config: Config, paths: EnvdPaths): string {
  const exact = [...config.whitelist.exact].sort().map((p) => `${p}:true`);
  const lines = [
    `direnv exec path ${ENVD_BIN_PATH}`,
    `DIRENV_CONFIG ${paths.direnvConfigDir}`,
    `bash_path ${bashPath(config)}`,
    `disable_stdin ${config.global.disableStdin}`,
    `warn_timeout ${goDuration(config.global.warnTimeoutMs)}`,
    `whitelist.prefix [${config.whitelist.prefix.join(' ')}]`,
    `whitelist.exact map[${exact.join(' ')}]`,
    ...(loaded !== null ? rcLines('Loaded', loaded, paths) : ['No .envrc or .env loaded']),
    ...(found !== null && info.found !== null ? rcLines('Found', found, paths) : ['No .envrc or .env found']),
  ];
  return lines.join('\n') + '\n';
}

export function direnvStatusJson(loaded: RcReport | null, found: RcReport | null, paths: EnvdPaths): string {
  const rc = (r: RcReport | null): { allowed: number; path: string } | null => (r === null ? null : { allowed: allowCode(r.trust), path: r.path });
  const out = {
    config: { ConfigDir: paths.direnvConfigDir, SelfPath: ENVD_BIN_PATH },
    state: { foundRC: rc(found), loadedRC: rc(loaded) },
  };
  return JSON.stringify(out, null, 2) + '\n';
}
