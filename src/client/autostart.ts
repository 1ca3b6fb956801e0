import { spawn } from 'node:child_process';
import { DAEMON_NODE_FLAGS } from '../daemon/memory.js';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvdPaths } from '../config/paths.js';
import { decodeDiff, revert, type Env } from '../env/diff.js';
import { ALL_STATE_VARS } from '../env/names.js';
import { ClientError, ProtocolClient } from '../protocol/client.js';
import { PROTOCOL_VERSION, type HelloInfo } from '../protocol/messages.js';
import { replaceFile, writeFileAtomic } from '../util/atomic.js';
import { MAX_TIMER_MS } from '../util/timer.js';
import { EnvdError, errnoCode, errorMessage } from '../util/errors.js';
import { ENVD_BUNDLE_ENTRY, ENVD_NODE_ENTRY, speakingVersion } from '../version.js';
import { breakIfStale, lockHasToken, tryLock, type HeldLock } from '../daemon/lock.js';
import { compareSpeakers } from '../daemon/precedence.js';
import { identityDifference, identityOf, sameIdentity } from '../config/identity.js';
import { pidAlive } from '../util/process.js';
import { readPidFile } from '../daemon/pidfile.js';
import { newNameMap } from '../env/map.js';

/**
 * The client's side of "one daemon per user, started on first use" (after atuin's
 * probe: ready / needs restart / unreachable). Nothing here removes a socket: only a
 * daemon starting under the start lock does, and only after a connect was refused.
 */

export interface DaemonHandle {
  client: ProtocolClient;
  hello: HelloInfo;
}

export type ProbeResult =
  | { kind: 'ready'; client: ProtocolClient; hello: HelloInfo }
  /** ENOENT (no socket) or ECONNREFUSED (a socket nobody listens on). */
  | { kind: 'absent'; errno: string }
  /** Something else kept us from connecting (EAGAIN: backlog full); try again shortly. */
  | { kind: 'busy'; errno: string }
  /** Connected, but no answer in time: a stopped or wedged daemon. */
  | { kind: 'frozen'; message: string }
  /** Answered with something that is not a hello. */
  | { kind: 'broken'; message: string };

export { speakingVersion };

export function clientTimeoutMs(env: Record<string, string | undefined>): number {
  const n = Number.parseInt(env.ENVD_CLIENT_TIMEOUT_MS ?? '', 10);
  return Number.isSafeInteger(n) && n > 0 ? Math.min(n, MAX_TIMER_MS) : 1500;
}

export async function probeDaemon(paths: EnvdPaths, timeoutMs: number, env: Record<string, string | undefined> = process.env): Promise<ProbeResult> {
  let client: ProtocolClient;
  try {
    client = await ProtocolClient.connect(paths.socketPath, timeoutMs);
  } catch (err) {
    if (err instanceof ClientError && err.code === 'CONNECT') {
      const errno = err.errno ?? 'EUNKNOWN';
      return errno === 'ENOENT' || errno === 'ECONNREFUSED' ? { kind: 'absent', errno } : { kind: 'busy', errno };
    }
    return { kind: 'frozen', message: errorMessage(err) };
  }
  try {
    const me = { version: speakingVersion(env), protocol: PROTOCOL_VERSION, pid: process.pid, identity: identityOf(paths) };
    const r = await client.request({ type: 'hello', client: me }, timeoutMs);
    return { kind: 'ready', client, hello: r.result };
  } catch (err) {
    client.close();
    if (err instanceof ClientError && err.code === 'TIMEOUT') return { kind: 'frozen', message: err.message };
    if (err instanceof ClientError && err.code === 'CLOSED') return { kind: 'busy', errno: 'ECONNRESET' };
    return { kind: 'broken', message: errorMessage(err) };
  }
}

/**
 * What a client does with a daemon that answered hello:
 * - `use`: same identity, and the same version or a newer one speaking our protocol;
 * - `replace`: an older daemon (only the newer of two installations replaces the other,
 *   so two installed versions never take turns killing each other's daemon);
 * - `newer`: a newer daemon we cannot talk to: work in-process, leave it running;
 * - `foreign`: another identity's daemon (HOME, config or data dir): work in-process.
 */
export type Verdict = 'use' | 'replace' | 'newer' | 'foreign';

export function judgeDaemon(hello: HelloInfo, paths: EnvdPaths, env: Record<string, string | undefined> = process.env): Verdict {
  const order = compareSpeakers({ version: speakingVersion(env), protocol: PROTOCOL_VERSION }, hello);
  if (order > 0) return 'replace';
  // A daemon that does not say whose it is predates identities (so it is older, above).
  if (hello.identity === null) return 'newer';
  if (!sameIdentity(hello.identity, identityOf(paths))) return 'foreign';
  return order === 0 || hello.protocol === PROTOCOL_VERSION ? 'use' : 'newer';
}

export class DaemonFrozen extends EnvdError {
  constructor(message: string) {
    super('DAEMON_UNREACHABLE', message);
  }
}

/** A daemon answers but is not ours to use (`foreign` or `newer`); it keeps running. */
export class DaemonNotOurs extends EnvdError {
  constructor(readonly verdict: 'newer' | 'foreign', readonly pid: number, message: string) {
    super('DAEMON_UNREACHABLE', message);
  }
}

function notOurs(verdict: 'newer' | 'foreign', hello: HelloInfo, paths: EnvdPaths, env: Record<string, string | undefined>): DaemonNotOurs {
  if (verdict === 'newer') {
    return new DaemonNotOurs(verdict, hello.pid, `envd: the daemon (pid ${hello.pid}) runs envd ${hello.version} (protocol ${hello.protocol}), newer than this envd ${speakingVersion(env)} (protocol ${PROTOCOL_VERSION}); working without it. Put the newer envd first on PATH`);
  }
  const why = hello.identity === null ? 'another identity' : identityDifference(hello.identity, identityOf(paths));
  return new DaemonNotOurs(verdict, hello.pid, `envd: the daemon (pid ${hello.pid}) serves another identity: this shell has ${why}; working without it (one daemon serves one HOME and config; 'envd daemon restart' from this shell makes it this one's)`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Ask a daemon to go away, then make sure it did (SIGTERM, then SIGKILL). */
async function retireDaemon(client: ProtocolClient, pid: number, timeoutMs = 3000): Promise<void> {
  try {
    await client.request({ type: 'shutdown' }, timeoutMs);
  } catch {
    // An old or broken daemon may not answer; the signals below still work.
  } finally {
    client.close();
  }
  if (pid === process.pid) return;
  if (await waitForExit(pid, timeoutMs)) return;
  try { process.kill(pid, 'SIGTERM'); process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
  if (await waitForExit(pid, 1000)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  await waitForExit(pid, 1000);
}

/**
 * The environment a daemon starts with: the starting shell's, without envd's own changes
 * (a daemon must not carry one project's PATH into every evaluation) and state variables.
 */
function daemonEnvironment(env: Record<string, string | undefined>, token: string): Record<string, string> {
  const clean: Env = newNameMap();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const diff = decodeDiff(clean.ENVD_DIFF ?? clean.DIRENV_DIFF);
  const base = diff === undefined ? clean : revert(clean, diff);
  for (const k of [...ALL_STATE_VARS, 'ENVD_NO_DAEMON']) delete base[k];
  base.ENVD_START_LOCK_TOKEN = token;
  return base;
}

interface Spawned {
  pid: number | undefined;
  exited: () => boolean;
}

function spawnDaemon(paths: EnvdPaths, env: Record<string, string | undefined>, lock: HeldLock): Spawned {
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const out = openSync(paths.logFile, 'a', 0o600);
  let exited = false;
  // The one-file build when there is one (npm run build makes it): it starts much faster.
  const entry = existsSync(ENVD_BUNDLE_ENTRY) ? ENVD_BUNDLE_ENTRY : ENVD_NODE_ENTRY;
  try {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, entry, 'daemon', 'run'], {
      detached: true,
      stdio: ['ignore', out, out],
      env: daemonEnvironment(env, lock.token),
      cwd: '/',
    });
    child.on('error', () => { exited = true; });
    child.on('exit', () => { exited = true; });
    child.unref();
    return { pid: child.pid, exited: () => exited };
  } finally {
    closeSync(out);
  }
}

/**
 * A starter that does not wait for its daemon leaves the start lock to it: the lock then
 * names the daemon's pid (with the token the daemon was given), so it stays held while
 * the daemon starts and counts as stale if the daemon dies; the daemon removes it once it
 * listens and its pid file is written (src/daemon/run.ts).
 */
function handOver(lock: HeldLock, pid: number): boolean {
  if (!lockHasToken(lock.path, lock.token)) return false;
  try {
    replaceFile(lock.path, `${pid} ${lock.token}\n`, 0o600);
    return true;
  } catch {
    return false;
  }
}

export interface EnsureOptions {
  /** Overall bound for finding or starting a daemon. */
  startTimeoutMs?: number;
  /** Bound for one hello round trip (a frozen daemon costs this much). */
  helloTimeoutMs?: number;
  /** Start one when none answers (default true). */
  autostart?: boolean;
}

/**
 * A compatible daemon, started if need be. Throws DaemonFrozen for a daemon that accepts
 * but does not answer, and EnvdError('DAEMON_UNREACHABLE') when none could be started.
 */
export async function ensureDaemon(paths: EnvdPaths, env: Record<string, string | undefined>, opts: EnsureOptions = {}): Promise<DaemonHandle> {
  const h = await findDaemon(paths, env, opts, 'wait');
  if (h === null) throw new Error('unreachable: a waiting start returns a daemon or throws');
  return h;
}

/**
 * The daemon if one answers now; else null, having started one in the background (or
 * found one being started) without waiting for it, or with `start: false` without starting
 * one: for a verb that can answer in-process this time, so a cold start costs one Node
 * start, not two and a round trip. Throws as ensureDaemon does for a daemon that answers
 * but cannot be used.
 */
export function daemonOrBackgroundStart(paths: EnvdPaths, env: Record<string, string | undefined>, opts: EnsureOptions & { start?: boolean } = {}): Promise<DaemonHandle | null> {
  return findDaemon(paths, env, opts, opts.start === false ? 'none' : 'background');
}

/** What findDaemon does when none answers: start one and wait for it, start one, or nothing. */
type Absent = 'wait' | 'background' | 'none';

async function findDaemon(paths: EnvdPaths, env: Record<string, string | undefined>, opts: EnsureOptions, absentThen: Absent): Promise<DaemonHandle | null> {
  let absent = absentThen;
  let wait = absent === 'wait';
  const startTimeout = opts.startTimeoutMs ?? 3000;
  const helloTimeout = opts.helloTimeoutMs ?? clientTimeoutMs(env);
  const deadline = Date.now() + startTimeout;
  let lock: HeldLock | null = null;
  let spawned: Spawned | null = null;
  let retired = 0;
  let lastProblem = 'no daemon answered';
  try {
    for (;;) {
      const p = await probeDaemon(paths, spawned !== null ? Math.max(helloTimeout, deadline - Date.now()) : helloTimeout, env);
      if (p.kind === 'ready') {
        const verdict = judgeDaemon(p.hello, paths, env);
        if (verdict === 'use') return { client: p.client, hello: p.hello };
        if (verdict !== 'replace') {
          p.client.close();
          throw notOurs(verdict, p.hello, paths, env);
        }
        if (retired >= 2) {
          p.client.close();
          throw new EnvdError('DAEMON_UNREACHABLE', `envd: the daemon keeps answering as envd ${p.hello.version} (protocol ${p.hello.protocol}), not ${speakingVersion(env)} (protocol ${PROTOCOL_VERSION})`);
        }
        retired++;
        await retireDaemon(p.client, p.hello.pid);
        // Having stopped a daemon, start its replacement and wait for it, as always: an
        // upgrade is rare, and whoever comes next finds the new daemon running.
        absent = 'wait';
        wait = true;
        continue;
      }
      if (p.kind === 'frozen') {
        throw new DaemonFrozen(`envd: the daemon at ${paths.socketPath} does not answer (${p.message}); working without it. 'envd daemon restart' replaces it`);
      }
      if (p.kind === 'broken') {
        throw new EnvdError('DAEMON_UNREACHABLE', `envd: the daemon at ${paths.socketPath} answered nonsense (${p.message}); 'envd daemon restart' replaces it`);
      }
      if (p.kind === 'busy') lastProblem = `connect failed: ${p.errno}`;
      if (p.kind === 'absent') {
        lastProblem = `no daemon (${p.errno})`;
        if (opts.autostart === false) throw new EnvdError('DAEMON_UNREACHABLE', `envd: no daemon is running (${p.errno})`);
        if (absent === 'none') return null;
        if (spawned !== null && spawned.exited()) {
          // Our daemon gave up: either another one won the race (then the next probe finds
          // it) or it could not start (its reason is in the log).
          spawned = null;
          lock?.release();
          lock = null;
          lastProblem = `the daemon exited at start; see ${paths.logFile}`;
        } else if (lock === null) {
          lock = tryLock(paths.lockFile);
          if (lock === null) {
            const broken = breakIfStale(paths.lockFile);
            // Held and alive: someone is starting a daemon right now.
            if (!wait && !broken) return null;
          } else {
            // Someone may have finished starting one between our probe and the lock.
            const again = await probeDaemon(paths, helloTimeout, env);
            if (again.kind === 'ready') { again.client.close(); continue; }
            spawned = spawnDaemon(paths, env, lock);
            if (!wait) {
              // The lock goes with the daemon (released here only if it could not be).
              if (spawned.pid !== undefined && handOver(lock, spawned.pid)) lock = null;
              return null;
            }
          }
        }
      }
      if (Date.now() > deadline) {
        throw new EnvdError('DAEMON_UNREACHABLE', `envd: could not reach or start the daemon within ${startTimeout} ms (${lastProblem}); see ${paths.logFile}`);
      }
      await sleep(spawned !== null ? 10 : 25);
    }
  } finally {
    lock?.release();
  }
}

/** Stop whatever daemon runs here, answering or not. */
export async function stopDaemon(paths: EnvdPaths, env: Record<string, string | undefined>): Promise<'stopped' | 'not-running'> {
  const p = await probeDaemon(paths, clientTimeoutMs(env), env);
  if (p.kind === 'ready') {
    await retireDaemon(p.client, p.hello.pid);
    return 'stopped';
  }
  // Not answering. A daemon keeps the start lock until its pid file is written
  // (src/daemon/run.ts), so reading the lock before the pid file finds one that is still
  // starting in one or the other.
  const starting = lockOwner(paths);
  // The pid file says who it is; signals do the rest.
  const pid = readPidFile(paths);
  if (pid !== null && pid !== process.pid && pidAlive(pid) && looksLikeEnvdDaemon(pid)) {
    await killDaemon(pid);
    return 'stopped';
  }
  // A daemon started in the background that does not answer yet holds the start lock
  // (handOver): let it come up and stop it as any other, or signal it.
  if (starting !== null && starting !== process.pid && pidAlive(starting) && looksLikeEnvdDaemon(starting)) {
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && pidAlive(starting)) {
      const q = await probeDaemon(paths, clientTimeoutMs(env), env);
      if (q.kind === 'ready') {
        await retireDaemon(q.client, q.hello.pid);
        return 'stopped';
      }
      await sleep(20);
    }
    await killDaemon(starting);
    return 'stopped';
  }
  return 'not-running';
}

async function killDaemon(pid: number): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
  if (!(await waitForExit(pid, 2000))) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await waitForExit(pid, 1000);
  }
}

/** The pid the start lock names (`PID TOKEN`), if there is one. */
function lockOwner(paths: EnvdPaths): number | null {
  let raw: string;
  try { raw = readFileSync(paths.lockFile, 'utf8'); } catch { return null; }
  const n = Number.parseInt(raw.trim().split(/\s+/)[0] ?? '', 10);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** On Linux, check the command line before signalling a pid read from a file (pids are reused). */
function looksLikeEnvdDaemon(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('daemon\0run');
  } catch (err) {
    return errnoCode(err) !== 'ENOENT' || process.platform !== 'linux';
  }
}

/**
 * Warn about a frozen daemon once per daemon, not once per prompt: remember the pid we
 * warned about in the runtime dir.
 */
export function shouldWarnFrozen(paths: EnvdPaths): boolean {
  return firstTime(paths, 'warned-frozen', String(readPidFile(paths) ?? 'unknown'));
}

/** The same for a daemon that is not ours to use: once per daemon and reason. */
export function shouldWarnNotOurs(paths: EnvdPaths, err: DaemonNotOurs): boolean {
  return firstTime(paths, 'warned-other', `${err.pid} ${err.message}`);
}

function firstTime(paths: EnvdPaths, name: string, key: string): boolean {
  const marker = join(paths.runtimeDir, name);
  let seen = '';
  try { seen = readFileSync(marker, 'utf8').trim(); } catch { /* first time */ }
  const line = key.replace(/\n/g, ' ');
  if (seen === line) return false;
  try { writeFileAtomic(marker, line + '\n', 0o600); } catch { /* best effort */ }
  return true;
}
