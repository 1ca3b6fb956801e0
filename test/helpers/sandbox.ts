import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect } from 'vitest';
import { asUserArgv, chownTree, USER_PASS, type Account } from './users.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ENVD_BIN = join(ROOT, 'bin', 'envd');

export type Shell = 'bash' | 'zsh' | 'fish';

/** Absolute path of a command on PATH, or null. */
export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : null;
}

/** Absolute path of a command the tests cannot do without. */
export function mustWhich(cmd: string): string {
  const p = which(cmd);
  if (p === null) throw new Error(`${cmd} not found`);
  return p;
}

/**
 * Whether a shell can be tested here. With ENVD_REQUIRE_SHELLS=1 (set by .ci/run) a
 * missing shell is a failure, not a skip.
 */
export function haveShell(shell: Shell): boolean {
  return haveTool(shell);
}

/** The same for another tool the shell tests use (shellcheck, fish_indent), by Debian package. */
export function haveTool(cmd: string, pkg: string = cmd): boolean {
  const ok = which(cmd) !== null;
  if (!ok && process.env.ENVD_REQUIRE_SHELLS === '1') {
    throw new Error(`${cmd} is required (ENVD_REQUIRE_SHELLS=1) but not installed: apt-get install -y ${pkg}`);
  }
  if (!ok) process.stderr.write(`[envd tests] SKIPPED: ${cmd} is not installed; its tests are skipped (apt-get install -y ${pkg})\n`);
  return ok;
}

export const SHELLS: Shell[] = ['bash', 'zsh', 'fish'];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface SandboxOptions {
  /** false: ENVD_NO_DAEMON=1. */
  daemon?: boolean;
  /**
   * Run every command of this sandbox as this user (from a root test process), under
   * umask 002; the sandbox's files are theirs.
   */
  user?: Account;
  /**
   * Set XDG_RUNTIME_DIR (default: yes, except in the user pass). Without it envd falls
   * back to $TMPDIR/envd-UID, and TMPDIR is the sandbox's own `tmp` (shared with nobody).
   */
  xdgRuntime?: boolean;
  /** LANG (and LC_ALL) for the sandbox's commands; default: the test process's. */
  lang?: string;
}

/**
 * An isolated user: its own HOME, XDG dirs and runtime dir under one temp directory,
 * a PATH without the developer's tools beyond the system's, and no inherited envd state.
 */
export class Sandbox {
  readonly root: string;
  readonly home: string;
  readonly env: Record<string, string>;
  readonly user: Account | undefined;

  constructor(opts: SandboxOptions = {}) {
    // Short prefix: socket paths must stay under 108 bytes.
    this.root = realpathSync(mkdtempSync(join(tmpdir(), 'ev-')));
    chmodSync(this.root, 0o755);
    this.home = join(this.root, 'home');
    this.user = opts.user;
    const run = join(this.root, 'run');
    const tmp = join(this.root, 'tmp');
    for (const d of [this.home, run]) mkdirSync(d, { recursive: true, mode: 0o700 });
    mkdirSync(tmp, { mode: 0o700 });
    chmodSync(run, 0o700);
    const env: Record<string, string> = {};
    for (const k of ['PATH', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'NODE_OPTIONS']) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, {
      HOME: this.home,
      USER: opts.user?.name ?? process.env.USER ?? 'root',
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_DATA_HOME: join(this.home, '.local', 'share'),
      XDG_STATE_HOME: join(this.home, '.local', 'state'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      ENVD_LOG_LEVEL: 'debug',
    });
    if (opts.xdgRuntime ?? !USER_PASS) env.XDG_RUNTIME_DIR = run;
    else env.TMPDIR = tmp;
    if (opts.lang !== undefined) {
      env.LANG = opts.lang;
      delete env.LC_ALL;
    }
    if (opts.daemon === false) env.ENVD_NO_DAEMON = '1';
    this.env = env;
    if (opts.user !== undefined) chownTree(this.root, opts.user);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** envd's runtime dir for this sandbox's user: under XDG_RUNTIME_DIR, else $TMPDIR/envd-UID. */
  get runtimeDir(): string {
    const xdg = this.env.XDG_RUNTIME_DIR;
    if (xdg !== undefined) return join(xdg, 'envd');
    const uid = this.user?.uid ?? process.getuid?.() ?? 0;
    return join(this.env.TMPDIR ?? tmpdir(), `envd-${uid}`);
  }

  /** Write a file (parents created), returning its absolute path. */
  write(rel: string, content: string | Buffer, mode?: number): string {
    const p = rel.startsWith('/') ? rel : join(this.root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    if (mode !== undefined) chmodSync(p, mode);
    this.own(p);
    return p;
  }

  mkdir(rel: string): string {
    const p = join(this.root, rel);
    mkdirSync(p, { recursive: true });
    this.own(p);
    return p;
  }

  /** With a sandbox user: give them what the test process made at p and its parents. */
  private own(p: string): void {
    if (this.user === undefined || !p.startsWith(this.root)) return;
    for (let q = p; q.length >= this.root.length; q = dirname(q)) {
      chownSync(q, this.user.uid, this.user.gid);
      if (q === this.root) break;
    }
  }

  /** Run the real envd binary synchronously. */
  envd(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {}): RunResult {
    return this.run(ENVD_BIN, args, opts);
  }

  run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {}): RunResult {
    if (this.user !== undefined) [cmd, args] = asUserArgv(this.user, cmd, args);
    return runSync(cmd, args, { cwd: opts.cwd ?? this.root, env: mergeEnv(this.env, opts.env), input: opts.input, timeoutMs: opts.timeoutMs });
  }

  /** Run a script in a real shell with no rc files. */
  shell(shell: Shell, script: string, opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): RunResult {
    const args = shell === 'bash' ? ['--noprofile', '--norc', '-c', script]
      : shell === 'zsh' ? ['-f', '-c', script]
        : ['--no-config', '-c', script];
    return this.run(shell, args, opts);
  }

  /** Run the real envd binary asynchronously (for concurrency tests). */
  envdAsync(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
    const [cmd, argv] = this.user !== undefined ? asUserArgv(this.user, ENVD_BIN, args) : [ENVD_BIN, args];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(cmd, argv, { cwd: opts.cwd ?? this.root, env: mergeEnv(this.env, opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    });
  }

  /** Stop any daemon this sandbox started and remove its files. */
  cleanup(): void {
    if (existsSync(ENVD_BIN)) {
      try { this.envd(['daemon', 'stop'], { timeoutMs: 10_000 }); } catch { /* best effort */ }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Run a command and wait for it: text output, a 30 s default limit, 64 MiB of output. */
export function runSync(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string>; input?: string | Buffer | undefined; timeoutMs?: number | undefined }): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A fresh sandbox for every test of the file (and an environment whose PATH holds only
 * the system's tools), removed after each; `set` receives them.
 */
export function sandboxEachTest(set: (sb: Sandbox, env: Record<string, string>) => void, opts: SandboxOptions = {}): void {
  let current: Sandbox | null = null;
  beforeEach(() => {
    current = new Sandbox(opts);
    set(current, { ...current.env, PATH: '/usr/local/bin:/usr/bin:/bin' });
  });
  afterEach(() => { current?.cleanup(); current = null; });
}

/** `envd allow` in dir, which must succeed. */
export function allowIn(sb: Sandbox, dir: string): void {
  const r = sb.envd(['allow'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
}

function mergeEnv(base: Record<string, string>, extra?: Record<string, string | undefined>): Record<string, string> {
  const env = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k]; else env[k] = v;
  }
  return env;
}

/** Parse `envd export json` output. */
export function parseJsonExport(stdout: string): Record<string, string | null> {
  if (stdout.trim() === '') return {};
  return JSON.parse(stdout) as Record<string, string | null>;
}

/** A process's state letter from /proc (R, S, T stopped, Z zombie), or null when it is gone. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}
