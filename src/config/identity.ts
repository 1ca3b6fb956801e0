import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { resolvePaths, type EnvdPaths } from './paths.js';
import type { ProcessEnv } from '../env/diff.js';

/**
 * Whose settings and approvals a request is about. The runtime dir (and so the socket) is
 * per uid, but one uid can run shells with another HOME, XDG_CONFIG_HOME, XDG_DATA_HOME or
 * DIRENV_CONFIG: a daemon must only serve requests whose identity is its own, or a shell
 * would get another config's whitelist and its `allow` would land in another allowlist.
 */
export interface Identity {
  home: string;
  /** envd.toml, envdrc, lib/ ($XDG_CONFIG_HOME/envd). */
  configDir: string;
  /** direnv.toml, direnvrc, lib/ ($DIRENV_CONFIG or $XDG_CONFIG_HOME/direnv). */
  direnvConfigDir: string;
  /** The allowlist and its key ($XDG_DATA_HOME/envd). */
  dataDir: string;
}


/** Normalised: `/home/u/` and `/home/u` are one identity. */
export function identityOf(paths: EnvdPaths): Identity {
  return {
    home: resolve(paths.home),
    configDir: resolve(paths.configDir),
    direnvConfigDir: resolve(paths.direnvConfigDir),
    dataDir: resolve(paths.dataDir),
  };
}

/**
 * The identity of an environment (a hook's request). Without HOME it is the account's home
 * directory, as it would be for a CLI started in that environment — never the daemon's
 * own HOME, which `os.homedir()` would return here.
 */
export function identityOfEnv(env: ProcessEnv): Identity {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : accountHome();
  return identityOf(resolvePaths({ ...env, HOME: home }));
}

let cachedHome: string | null = null;
function accountHome(): string {
  if (cachedHome === null) {
    try { cachedHome = userInfo().homedir; } catch { cachedHome = '/'; }
  }
  return cachedHome;
}

export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.home === b.home && a.configDir === b.configDir && a.direnvConfigDir === b.direnvConfigDir && a.dataDir === b.dataDir;
}

/** The first difference, for messages: `HOME /a (this daemon: /b)`. */
export function identityDifference(mine: Identity, theirs: Identity): string {
  if (mine.home !== theirs.home) return `HOME ${theirs.home} (the daemon's: ${mine.home})`;
  if (mine.configDir !== theirs.configDir) return `config dir ${theirs.configDir} (the daemon's: ${mine.configDir})`;
  if (mine.direnvConfigDir !== theirs.direnvConfigDir) return `direnv config dir ${theirs.direnvConfigDir} (the daemon's: ${mine.direnvConfigDir})`;
  return `data dir ${theirs.dataDir} (the daemon's: ${mine.dataDir})`;
}
