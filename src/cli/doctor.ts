import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadConfig, type Config, type LoadedConfig } from '../config/config.js';
import { colourWanted } from '../util/colour.js';
import { resolvePaths, tildePath, type EnvdPaths } from '../config/paths.js';
import { envdVersion } from '../version.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { usage } from './command.js';
import type { ProcessEnv } from '../env/diff.js';
import { SHELLS, SHELL_NAMES, isShellName, type ShellName } from '../shells/index.js';

/**
 * `envd doctor [--json] [--no-start]`: one line per check, `ok` or what to do about it.
 * Exits 1 when a check fails (warnings do not fail). Nothing here changes a file; the
 * daemon check starts the daemon (as any envd command would) unless `--no-start`.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
}


interface Context {
  env: ProcessEnv;
  paths: EnvdPaths;
  loaded: LoadedConfig;
  startDaemon: boolean;
  /** Whether the runtime dir check passed: talking to a daemon through an unsafe dir is pointless. */
  runtimeDirOk: boolean;
}

const ok = (check: string, message: string): CheckResult => ({ check, status: 'ok', message });
const warn = (check: string, message: string): CheckResult => ({ check, status: 'warn', message });
const fail = (check: string, message: string): CheckResult => ({ check, status: 'fail', message });

/** Messages from other modules start with `envd: `; the check name already says whose line it is. */
function bare(message: string): string {
  return message.replace(/^envd: /, '');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---- node ------------------------------------------------------------------------------

export function checkNode(version: string = process.versions.node): CheckResult {
  const [major = 0, minor = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  if (major > 20 || (major === 20 && minor >= 19)) return ok('node', `Node ${version}, envd ${envdVersion()}`);
  return fail('node', `Node ${version} is too old: envd needs Node 20.19 or later (https://nodejs.org/)`);
}

// ---- hook ------------------------------------------------------------------------------

/** The shell that ran us: our parent process when it is a shell, else $SHELL. */
function currentShell(env: ProcessEnv): { name: string; from: string } {
  try {
    const comm = readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim().replace(/^-/, '');
    if (isShellName(comm)) return { name: comm, from: 'the parent process' };
  } catch { /* not Linux, or no /proc */ }
  if (process.platform !== 'linux') {
    const r = spawnSync('ps', ['-o', 'comm=', '-p', String(process.ppid)], { encoding: 'utf8', timeout: 2000 });
    const comm = basename((r.stdout ?? '').trim()).replace(/^-/, '');
    if (isShellName(comm)) return { name: comm, from: 'the parent process' };
  }
  const sh = env.SHELL;
  return { name: sh !== undefined && sh !== '' ? basename(sh) : 'unknown', from: '$SHELL' };
}

/** The line a user adds (src/shells/NAME.ts knows it, and the files it usually goes in). */
export function hookLine(shell: ShellName): string {
  return SHELLS[shell].hookLine;
}

/** The first rc file that loads envd's (or direnv's) hook for this shell. */
function rcWithHook(shell: ShellName, env: ProcessEnv, home: string): { file: string; direnv: boolean } | null {
  const envdRe = new RegExp(`envd["']?\\s+hook\\s+["']?${shell}\\b`);
  const direnvRe = new RegExp(`direnv["']?\\s+hook\\s+["']?${shell}\\b`);
  for (const file of SHELLS[shell].rcFiles(env, home)) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    const live = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
    if (envdRe.test(live)) return { file, direnv: false };
    if (direnvRe.test(live)) return { file, direnv: true };
  }
  return null;
}

/** Whether the bash hook of the shell with this pid has talked to the daemon (its FIFO pair exists). */
function hookPairOf(pid: number, runtimeDir: string): boolean {
  try {
    return readdirSync(join(runtimeDir, 'sh')).some((n) => n.startsWith(`${pid}-`) && n.endsWith('.req'));
  } catch {
    return false;
  }
}

/**
 * A child process cannot see its shell's functions or unexported variables, so the signs
 * are indirect, strongest first: ENVD_HOOK=SHELL:PID, the FIFO pair the bash hook makes
 * in the runtime dir under the shell's pid, envd's state variables in the environment
 * (only a hook or `eval "$(envd export ...)"` puts them there), and last the line in the
 * shell's rc file. envd's own hooks do not set ENVD_HOOK (an exported variable every
 * child would inherit); it is for setups that load the hook some other way than an rc
 * line doctor can read (a plugin manager, a container's entrypoint), which export it.
 */
export function checkHook(env: ProcessEnv, paths: EnvdPaths): CheckResult {
  const home = paths.home;
  const shell = currentShell(env);
  // ENVD_HOOK=SHELL or SHELL:PID. With a pid, only the shell with that pid has the hook
  // (a child shell inherits the variable without running the hook).
  const marker = /^([a-z]+)(?::(\d+))?$/.exec(env.ENVD_HOOK ?? '');
  if (marker !== null && isShellName(marker[1] ?? '') && (marker[2] === undefined || Number(marker[2]) === process.ppid)) {
    return ok('hook', `the ${marker[1] ?? ''} hook is loaded in this shell`);
  }
  if (shell.from === 'the parent process' && hookPairOf(process.ppid, paths.runtimeDir)) {
    return ok('hook', `the ${shell.name} hook is loaded in this shell (pid ${process.ppid}) and talks to the daemon`);
  }
  if (env.DIRENV_DIR !== undefined || env.DIRENV_FILE !== undefined) {
    return ok('hook', `a loaded environment's state is in this ${shell.name === 'unknown' ? 'shell' : shell.name}'s environment (DIRENV_FILE=${tildePath(env.DIRENV_FILE ?? (env.DIRENV_DIR ?? '').replace(/^-/, ''), home)})`);
  }
  if (!isShellName(shell.name)) {
    return warn('hook', `your shell (${shell.name}, from ${shell.from}) has no envd hook: envd hooks ${SHELL_NAMES.slice(0, -1).join(', ')} and ${SHELL_NAMES[SHELL_NAMES.length - 1] ?? ''}; elsewhere use 'envd exec DIR CMD'`);
  }
  const found = rcWithHook(shell.name, env, home);
  if (found === null) {
    const where = SHELLS[shell.name].rcHint;
    return fail('hook', `not installed for ${shell.name}: add  ${hookLine(shell.name)}  to the end of ${where}, then open a new shell`);
  }
  if (found.direnv) {
    return warn('hook', `${tildePath(found.file, home)} loads direnv's hook, not envd's: replace that line with  ${hookLine(shell.name)}`);
  }
  return ok('hook', `${tildePath(found.file, home)} loads it for ${shell.name} (a shell started before that line was added needs restarting)`);
}

// ---- runtime dir -----------------------------------------------------------------------

export async function checkRuntime(paths: EnvdPaths): Promise<CheckResult> {
  const { checkRuntimeDir, checkSocketPath } = await import('../daemon/runtime-dir.js');
  try {
    checkSocketPath(paths.socketPath);
    if (!checkRuntimeDir(paths.runtimeDir, { create: false })) {
      return ok('runtime dir', `${paths.runtimeDir} does not exist yet; the daemon creates it (0700) on first use`);
    }
  } catch (err) {
    return fail('runtime dir', bare(errorMessage(err)));
  }
  return ok('runtime dir', `${paths.runtimeDir} is yours, 0700, not a symlink`);
}

// ---- daemon ----------------------------------------------------------------------------

function since(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

export async function checkDaemon(ctx: Context): Promise<CheckResult> {
  if (ctx.env.ENVD_NO_DAEMON === '1') return ok('daemon', 'not used: ENVD_NO_DAEMON=1 runs everything in-process');
  if (!ctx.runtimeDirOk) return fail('daemon', 'not checked: the runtime dir is unsafe (see above); fix it, then run envd doctor again');
  const { clientTimeoutMs, ensureDaemon, judgeDaemon, probeDaemon, speakingVersion } = await import('../client/autostart.js');
  const { PROTOCOL_VERSION } = await import('../protocol/messages.js');
  const timeout = clientTimeoutMs(ctx.env);
  const p = await probeDaemon(ctx.paths, timeout, ctx.env);
  let started = false;
  let hello;
  if (p.kind === 'ready') {
    p.client.close();
    hello = p.hello;
  } else if (p.kind === 'frozen') {
    return fail('daemon', `a daemon accepts connections on ${ctx.paths.socketPath} but does not answer within ${timeout} ms (stopped or stuck): run  envd daemon restart`);
  } else if (p.kind === 'broken') {
    return fail('daemon', `something on ${ctx.paths.socketPath} answers, but not like an envd daemon (${p.message}): run  envd daemon restart`);
  } else if (p.kind === 'busy') {
    return warn('daemon', `could not connect to ${ctx.paths.socketPath} (${p.errno}); try again, or run  envd daemon restart`);
  } else if (!ctx.startDaemon) {
    return warn('daemon', 'not running; it starts on first use (or now: envd daemon start)');
  } else {
    try {
      const { checkRuntimeDir } = await import('../daemon/runtime-dir.js');
      checkRuntimeDir(ctx.paths.runtimeDir, { create: true });
      const h = await ensureDaemon(ctx.paths, ctx.env, { startTimeoutMs: 5000 });
      h.client.close();
      hello = h.hello;
      started = true;
    } catch (err) {
      const msg = err instanceof EnvdError ? bare(err.message) : errorMessage(err);
      return fail('daemon', `not running, and it could not be started: ${msg}`);
    }
  }
  // The rule every client follows (autostart.ts): an older daemon is replaced, a newer
  // one of the same protocol is used, another identity's is left alone.
  const verdict = judgeDaemon(hello, ctx.paths, ctx.env);
  const theirs = `pid ${hello.pid} runs envd ${hello.version} (protocol ${hello.protocol}), this is envd ${speakingVersion(ctx.env)} (protocol ${PROTOCOL_VERSION})`;
  if (verdict === 'replace') return fail('daemon', `${theirs}, older: run  envd daemon restart`);
  if (verdict === 'newer') return warn('daemon', `${theirs}, newer, and this envd cannot talk to it: put the newer envd first on PATH`);
  if (verdict === 'foreign') return warn('daemon', `pid ${hello.pid} serves another HOME or config than this shell's; this shell works without it ('envd daemon restart' from here makes it this shell's)`);
  if (!hello.engine) {
    return fail('daemon', `pid ${hello.pid} answers but could not load its engine; see  envd daemon logs, then  envd daemon restart`);
  }
  const what = started ? 'started it now: ' : '';
  return ok('daemon', `${what}pid ${hello.pid}, envd ${hello.version}, protocol ${hello.protocol}, up ${since(hello.uptimeMs)}, watching ${plural(hello.watched, 'path')} (watcher ${hello.watcher})`);
}

// ---- allowlist -------------------------------------------------------------------------

export async function checkAllowlist(paths: EnvdPaths, config: Config): Promise<CheckResult> {
  const { openAllowlist } = await import('../allowlist/index.js');
  const st = openAllowlist(paths, config).status();
  if (!st.ok) return fail('allowlist', bare(st.message));
  if (!existsSync(st.file)) return ok('allowlist', `no approvals yet (${tildePath(st.file, paths.home)} is created by the first envd allow)`);
  return ok('allowlist', `signature verified: ${plural(st.records, 'approval')}, ${plural(st.denied, 'denial')} in ${tildePath(st.file, paths.home)}`);
}

// ---- config ----------------------------------------------------------------------------

export function checkConfig(loaded: LoadedConfig, home: string): CheckResult[] {
  if (loaded.warnings.length > 0) return loaded.warnings.map((w) => fail('config', bare(w)));
  if (loaded.files.length === 0) return [ok('config', 'no config file; using the defaults (see docs/configuration.md)')];
  return [ok('config', `${loaded.files.map((f) => tildePath(f, home)).join(', ')}: valid`)];
}

// ---- bash ------------------------------------------------------------------------------

/** bash 4.4 brought what the stdlib relies on (`${var@Q}`, `local -`, empty arrays under `set -u`). */
const BASH_MIN: readonly [number, number] = [4, 4];

export function checkBash(config: Config, env: ProcessEnv): CheckResult {
  const bash = config.global.bashPath ?? 'bash';
  const r = spawnSync(bash, ['--noprofile', '--norc', '-c', 'printf "%s\\n%s\\n" "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}" "$BASH"'], {
    encoding: 'utf8',
    timeout: 5000,
    env: { PATH: env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const configured = config.global.bashPath !== null ? ' (bash_path in the config)' : '';
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? errorMessage(r.error) : `exit status ${String(r.status)}`;
    return fail('bash', `cannot run ${bash}${configured}: ${why}; install bash ${BASH_MIN.join('.')} or later, or set [global] bash_path`);
  }
  const [version = '', where = bash] = r.stdout.trim().split('\n');
  const [major = 0, minor = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  if (major < BASH_MIN[0] || (major === BASH_MIN[0] && minor < BASH_MIN[1])) {
    return fail('bash', `bash ${version} at ${where}${configured} is too old: envd evaluates .envrc files with bash ${BASH_MIN.join('.')} or later (macOS: brew install bash, then set [global] bash_path = "/opt/homebrew/bin/bash")`);
  }
  return ok('bash', `bash ${version} at ${where}${configured}`);
}

// ---- Go --------------------------------------------------------------------------------

export async function checkGo(paths: EnvdPaths, config: Config, env: ProcessEnv): Promise<CheckResult> {
  const { createGoProvider } = await import('../go/provider.js');
  const sdks = createGoProvider(paths, config, env).list();
  if (sdks.length === 0) {
    return warn('go', 'no Go SDKs found: `use go` needs one (https://go.dev/dl/, or your version manager), or name its directory in [go] sdk_dirs');
  }
  const shown = sdks.slice(0, 6).map((s) => `${s.version} (${tildePath(s.root, paths.home)})`).join(', ');
  const more = sdks.length > 6 ? `, and ${sdks.length - 6} more (envd go list)` : '';
  return ok('go', `${plural(sdks.length, 'SDK')}: ${shown}${more}`);
}

// ---- driver ----------------------------------------------------------------------------

export async function runChecks(env: ProcessEnv, opts: { startDaemon: boolean }): Promise<CheckResult[]> {
  const paths = resolvePaths(env);
  const loaded = loadConfig(paths);
  const results: CheckResult[] = [checkNode(), checkHook(env, paths)];
  const runtime = await checkRuntime(paths);
  const ctx: Context = { env, paths, loaded, startDaemon: opts.startDaemon, runtimeDirOk: runtime.status === 'ok' };
  results.push(runtime);
  results.push(await checkDaemon(ctx));
  results.push(await checkAllowlist(paths, loaded.config));
  results.push(...checkConfig(loaded, paths.home));
  results.push(checkBash(loaded.config, env));
  results.push(await checkGo(paths, loaded.config, env));
  return results;
}

export function formatResults(results: readonly CheckResult[], colour: boolean): string {
  const label: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL' };
  const paint: Record<CheckStatus, string> = { ok: '32', warn: '33', fail: '31' };
  const width = Math.max(...results.map((r) => r.check.length));
  return results.map((r) => {
    const tag = label[r.status].padEnd(4);
    const shown = colour ? `\u001b[${paint[r.status]}m${tag}\u001b[0m` : tag;
    return `${shown}  ${r.check.padEnd(width)}  ${r.message}\n`;
  }).join('');
}

export async function run(args: string[]): Promise<number> {
  let json = false;
  let startDaemon = true;
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--no-start') startDaemon = false;
    else return usage(`doctor: unknown argument '${a}'. Usage: envd doctor [--json] [--no-start]`);
  }
  const env: ProcessEnv = { ...process.env };
  const results = await runChecks(env, { startDaemon });
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(formatResults(results, colourWanted(process.stdout.isTTY === true, env)));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
