import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { decodeDiff, revert } from '../env/diff.js';
import { ENVD_BIN_PATH } from '../version.js';
import type { Env } from '../env/diff.js';


/** Variables that describe the user's envd/direnv session; the sandbox starts without them. */
const SESSION_VARS = /^(ENVD_|DIRENV_|__ENVD)/;
/** Go's own settings: the demo shows a user with none, so what envd sets is plain to see. */
const GO_VARS = ['GOROOT', 'GOPATH', 'GOBIN', 'GOCACHE', 'GOMODCACHE', 'GOTOOLCHAIN', 'GOFLAGS', 'GOENV'];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A throwaway user for the demo: its own HOME, XDG dirs and runtime dir under one temp
 * directory. The real user's files are never read or written by anything started here
 * (the shell gets `--rcfile` with the sandbox's rc; envd gets the sandbox's XDG dirs).
 */
export class DemoSandbox {
  readonly root: string;
  readonly home: string;
  readonly runtimeParent: string;
  readonly env: Env;
  readonly envdBin: string = ENVD_BIN_PATH;

  constructor(userEnv: NodeJS.ProcessEnv, opts: { daemon: boolean }) {
    // Short name: the daemon's socket path must stay under the OS limit (~104 bytes).
    this.root = realpathSync(mkdtempSync(join(tmpdir(), 'envd-demo-')));
    this.home = join(this.root, 'home');
    this.runtimeParent = join(this.root, 'run');
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    mkdirSync(this.runtimeParent, { recursive: true, mode: 0o700 });
    chmodSync(this.runtimeParent, 0o700);
    this.env = sandboxEnv(userEnv, this.home, this.runtimeParent, opts.daemon);
    for (const d of [this.env.XDG_CONFIG_HOME, this.env.XDG_DATA_HOME, this.env.XDG_STATE_HOME, this.env.XDG_CACHE_HOME]) {
      if (d !== undefined) mkdirSync(d, { recursive: true, mode: 0o700 });
    }
  }

  /** An absolute path inside the sandbox's HOME. */
  inHome(...parts: string[]): string {
    return join(this.home, ...parts);
  }

  write(path: string, content: string, mode?: number): string {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (mode !== undefined) chmodSync(path, mode);
    return path;
  }

  /** Run the real envd binary as the sandbox's user. */
  envd(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): RunResult {
    const r = spawnSync(this.envdBin, args, {
      cwd: opts.cwd ?? this.home,
      env: this.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 20_000,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error !== undefined ? r.error.message : '') };
  }

  /** Stop the sandbox's daemon (if one was started) and delete everything. */
  dispose(keep: boolean): void {
    this.envd(['daemon', 'stop'], { timeoutMs: 10_000 });
    if (!keep) rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * The environment the demo shell starts with: the user's, minus envd's changes (reverted
 * exactly, as a daemon does) and session state, with HOME and every XDG dir in the sandbox,
 * and this checkout's envd first on PATH (then the node running us, for bin/envd's shebang).
 */
export function sandboxEnv(userEnv: NodeJS.ProcessEnv, home: string, runtimeParent: string, daemon: boolean): Env {
  let env: Env = {};
  for (const [k, v] of Object.entries(userEnv)) if (v !== undefined) env[k] = v;
  const diff = decodeDiff(env.ENVD_DIFF ?? env.DIRENV_DIFF);
  if (diff !== undefined) env = revert(env, diff);
  for (const k of Object.keys(env)) if (SESSION_VARS.test(k) || GO_VARS.includes(k)) delete env[k];
  // npm run sets these for its scripts; the demo user did not.
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'INIT_CWD' || k === 'NODE') delete env[k];
  const path = [dirname(ENVD_BIN_PATH), dirname(process.execPath), ...(env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)];
  Object.assign(env, {
    HOME: home,
    PATH: [...new Set(path)].join(delimiter),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: runtimeParent,
    HISTFILE: join(home, '.bash_history'),
  });
  delete env.ENVD_NO_DAEMON;
  delete env.ZDOTDIR;
  if (!daemon) env.ENVD_NO_DAEMON = '1';
  return env;
}
