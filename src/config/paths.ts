import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { printable } from '../util/printable.js';
import type { ProcessEnv } from '../env/diff.js';

/** Where envd keeps everything. Derived only from the environment, so tests isolate by env. */
export interface EnvdPaths {
  home: string;
  configDir: string;      // $XDG_CONFIG_HOME/envd
  configFile: string;     // envd.toml
  direnvConfigDir: string; // $DIRENV_CONFIG or $XDG_CONFIG_HOME/direnv
  dataDir: string;        // $XDG_DATA_HOME/envd: allowlist + key
  allowlistFile: string;
  keyFile: string;
  stateDir: string;       // $XDG_STATE_HOME/envd: logs
  logFile: string;
  cacheDir: string;       // $XDG_CACHE_HOME/envd
  runtimeDir: string;     // $XDG_RUNTIME_DIR/envd, else a uid-named dir under tmp
  socketPath: string;
  generationFile: string;
  lockFile: string;       // autostart lock
  /** Made when a tcsh was answered without the daemon: a daemon starting then needs new inodes (generation.ts). */
  tcshAnsweredFile: string;
}


function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

export function userId(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

export function resolvePaths(env: ProcessEnv = process.env): EnvdPaths {
  const home = nonEmpty(env.HOME) ?? homedir();
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, '.config');
  const dataHome = nonEmpty(env.XDG_DATA_HOME) ?? join(home, '.local', 'share');
  const stateHome = nonEmpty(env.XDG_STATE_HOME) ?? join(home, '.local', 'state');
  const cacheHome = nonEmpty(env.XDG_CACHE_HOME) ?? join(home, '.cache');
  const xdgRuntime = nonEmpty(env.XDG_RUNTIME_DIR);
  const runtimeDir = nonEmpty(env.ENVD_RUNTIME_DIR)
    ?? (xdgRuntime !== undefined ? join(xdgRuntime, 'envd') : join(nonEmpty(env.TMPDIR) ?? tmpdir(), `envd-${userId()}`));
  const configDir = join(configHome, 'envd');
  const dataDir = join(dataHome, 'envd');
  const stateDir = join(stateHome, 'envd');
  return {
    home,
    configDir,
    configFile: join(configDir, 'envd.toml'),
    direnvConfigDir: nonEmpty(env.DIRENV_CONFIG) ?? join(configHome, 'direnv'),
    dataDir,
    allowlistFile: join(dataDir, 'allowlist.json'),
    keyFile: join(dataDir, 'signing.key'),
    stateDir,
    logFile: join(stateDir, 'daemon.log'),
    cacheDir: join(cacheHome, 'envd'),
    runtimeDir,
    socketPath: join(runtimeDir, 'daemon.sock'),
    generationFile: join(runtimeDir, 'generation'),
    lockFile: join(runtimeDir, 'daemon.lock'),
    tcshAnsweredFile: join(runtimeDir, 'tcsh-answered'),
  };
}

/**
 * `~/p/.envrc` for messages, as direnv prints paths; control characters and bytes that
 * are not UTF-8 escaped (util/printable.ts), since a name may hold any of them.
 */
export function tildePath(path: string, home: string): string {
  if (home !== '' && home !== '/' && (path === home || path.startsWith(home + '/'))) {
    return printable('~' + path.slice(home.length));
  }
  return printable(path);
}
