import { unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { loadConfig } from '../config/config.js';
import { resolvePaths, type EnvdPaths } from '../config/paths.js';
import { MAX_TIMER_MS } from '../util/timer.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { speakingVersion } from '../version.js';
import { BackendGate } from './backend.js';
import { Components } from './components.js';
import { FifoTransport } from './fifo.js';
import { AlreadyRunning, listenTakingOver, type Listening } from './listen.js';
import { lockHasToken, tryLock, breakIfStale, type HeldLock } from './lock.js';
import { openDaemonLog, pickLevel, type DaemonLogger } from './log.js';
import { pidFileComponent } from './pidfile.js';
import { checkRuntimeDir, checkSocketPath } from './runtime-dir.js';
import { CoreComponent, EngineComponent } from './serving.js';
import { SocketGuard, SocketTransport } from './socket.js';
import type { ProcessEnv } from '../env/diff.js';


/** Knobs read from the environment (the test-only ones are marked and documented in docs/protocol.md). */
export interface DaemonKnobs {
  /** ENVD_NO_WATCH=1: no file watching; edits are noticed by the engine's check on each request. */
  watch: boolean;
  /** ENVD_TEST_VERSION (test only): the version hello reports, to exercise version skew. */
  version: string;
  /** ENVD_WATCH_RETRY_MS: while watching fails, try setting it up again this often (default 60 s). */
  watchRetryMs: number | undefined;
  /** ENVD_DAEMON_IDLE_MS: close a JSON connection idle this long (default 30 s). */
  idleMs: number;
  /** ENVD_HOOK_IDLE_MS: close a hook stream idle this long (default 10 min). */
  hookIdleMs: number;
  /** ENVD_WATCH_IDLE_MS / ENVD_MAX_WATCHES: unwatch idle directories; bound the watch count. */
  watchIdleMs: number | undefined;
  maxWatches: number | undefined;
  /** ENVD_START_LOCK_TOKEN (internal): the starter holds the start lock on our behalf. */
  lockToken: string;
}

/** A positive number of milliseconds, at most what a Node timer holds (2^31 - 1). */
function intKnob(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isSafeInteger(n) && n > 0 ? Math.min(n, MAX_TIMER_MS) : undefined;
}

function readKnobs(env: ProcessEnv): DaemonKnobs {
  return {
    watch: env.ENVD_NO_WATCH !== '1',
    version: speakingVersion(env),
    watchRetryMs: intKnob(env.ENVD_WATCH_RETRY_MS),
    idleMs: intKnob(env.ENVD_DAEMON_IDLE_MS) ?? 30_000,
    hookIdleMs: intKnob(env.ENVD_HOOK_IDLE_MS) ?? 600_000,
    watchIdleMs: intKnob(env.ENVD_WATCH_IDLE_MS),
    maxWatches: intKnob(env.ENVD_MAX_WATCHES),
    lockToken: env.ENVD_START_LOCK_TOKEN ?? '',
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lock taken by our starter on our behalf: removed only while it still carries the token. */
function adoptedLock(path: string, token: string): HeldLock {
  return {
    path,
    token,
    release(): void {
      if (!lockHasToken(path, token)) return;
      try { unlinkSync(path); } catch { /* gone already */ }
    },
  };
}

/**
 * The start lock. When the process that spawned us holds it with our token, it is ours
 * too: a starter that did not wait for us handed it over (src/client/autostart.ts) and
 * only we remove it, once we listen and the pid file names us; one that waits removes it
 * itself when we answer.
 */
async function takeStartLock(paths: EnvdPaths, token: string): Promise<HeldLock> {
  if (lockHasToken(paths.lockFile, token)) return adoptedLock(paths.lockFile, token);
  const deadline = Date.now() + 5000;
  for (;;) {
    const held = tryLock(paths.lockFile);
    if (held !== null) return held;
    if (breakIfStale(paths.lockFile)) continue;
    if (Date.now() > deadline) throw new AlreadyRunning(`the start lock ${paths.lockFile} is held by another process`);
    await sleep(25);
  }
}

/**
 * `envd daemon run`: serve until told to stop, until the socket is replaced or removed,
 * or until a signal. Resolves with the exit status (when it returns at all: the normal
 * end is process.exit from shutdown).
 */
export async function runDaemon(env: ProcessEnv = process.env): Promise<number> {
  // Everything the daemon creates is owner-only, whatever umask the first shell had.
  process.umask(0o077);
  const knobs = readKnobs(env);
  const paths = resolvePaths(env);
  checkSocketPath(paths.socketPath);
  checkRuntimeDir(paths.runtimeDir, { create: true });

  const { config, warnings } = loadConfig(paths);
  const lv = pickLevel(env.ENVD_LOG_LEVEL, config.global.logLevel);
  const log = openDaemonLog(paths.logFile, lv.level);
  if (lv.warning !== null) log.warn(lv.warning);
  for (const w of warnings) log.warn(w);
  process.chdir('/');

  let lock: HeldLock;
  try {
    lock = await takeStartLock(paths, knobs.lockToken);
  } catch (err) {
    log.info(errorMessage(err));
    process.stderr.write(`envd: ${errorMessage(err)}\n`);
    return 1;
  }

  const server = createServer({ allowHalfOpen: false, pauseOnConnect: false });
  let listening: Listening;
  try {
    listening = await listenTakingOver(server, paths.socketPath);
  } catch (err) {
    lock.release();
    if (err instanceof AlreadyRunning) {
      log.info({ detail: err.detail }, 'not starting: a daemon is already running');
      process.stderr.write(`envd: ${err.detail}; not starting another\n`);
      return 0;
    }
    log.error({ err: errorMessage(err) }, 'cannot listen');
    process.stderr.write(`envd: cannot listen on ${paths.socketPath}: ${errorMessage(err)}\n`);
    return 1;
  }
  if (listening.tookOver) log.info({ socket: paths.socketPath }, 'removed a stale socket (connect was refused)');
  return serve(server, listening.identity, paths, knobs, env, log, lock);
}

/**
 * The daemon's parts, in the order they start (they stop in reverse): the socket takes
 * connections at once (requests wait behind the gate while the engine loads), then the
 * guard that notices a replaced socket, the pid file, the engine, the core with its
 * watcher, bash's FIFO transport, and last the gate opening: the daemon is ready.
 */
async function serve(server: Server, identity: string, paths: EnvdPaths, knobs: DaemonKnobs, env: ProcessEnv, log: DaemonLogger, lock: HeldLock): Promise<number> {
  const gate = new BackendGate();
  const socket = new SocketTransport({
    server, socketPath: paths.socketPath, identity, backend: gate, hooksReady: () => gate.isOpen,
    log, idleMs: knobs.idleMs, hookIdleMs: knobs.hookIdleMs,
  });
  const engine = new EngineComponent(paths, env);
  const core = new CoreComponent({
    engine, paths, log, watch: knobs.watch, version: knobs.version,
    watchRetryMs: knobs.watchRetryMs, watchIdleMs: knobs.watchIdleMs, maxWatches: knobs.maxWatches,
    requestShutdown: (r) => stop(r),
  });
  let fifo: FifoTransport | null = null;
  const parts = new Components([
    {
      name: 'socket',
      start: () => socket.accept(),
      // Also when the daemon stops before it was ready: requests still waiting are told so.
      stop: () => {
        gate.close();
        socket.close();
      },
    },
    new SocketGuard(paths.runtimeDir, paths.socketPath, () => socket.owns(), (r) => stop(r), log),
    pidFileComponent(paths),
    {
      // Held until the pid file names us: `daemon stop` reads the lock, then the pid file,
      // so a daemon that listens but does not answer yet is always found by one of them.
      name: 'start lock',
      start: () => lock.release(),
      stop: () => undefined,
    },
    engine,
    core,
    {
      name: 'fifo transport',
      start: () => {
        const t = new FifoTransport(paths.runtimeDir, core.core, log);
        try {
          t.start();
          fifo = t;
        } catch (err) {
          t.stop();
          // bash hooks then fall back to `envd export bash`; zsh and fish use the socket.
          log.warn({ err: errorMessage(err) }, 'FIFO transport failed to start; bash hooks fall back');
        }
      },
      stop: () => fifo?.stop(),
    },
    {
      name: 'ready',
      start: () => {
        gate.open(core.core);
        const h = core.core.hello();
        log.info({ socket: paths.socketPath, version: knobs.version, generation: h.generation, watch: h.watcher }, 'daemon ready');
      },
      // First to stop: no new request is taken, the socket stops listening, connections close.
      stop: () => {
        gate.close();
        socket.close();
      },
    },
  ], log);

  let exiting = false;
  const shutdown = async (reason: string, code = 0): Promise<void> => {
    if (exiting) return;
    exiting = true;
    log.info({ reason }, 'daemon stopping');
    await parts.stop();
    // Stopped before it was ready: the start lock goes too (it still names us if so).
    lock.release();
    log.info('daemon exiting');
    log.flush();
    process.exit(code);
  };
  const stop = (reason: string, code = 0): void => { void shutdown(reason, code); };

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(`signal ${sig}`));
  process.on('uncaughtException', (err) => {
    log.fatal({ err: errorMessage(err), stack: err.stack }, 'uncaught exception');
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err: errorMessage(err) }, 'unhandled rejection');
    stop('unhandled rejection', 1);
  });

  try {
    await parts.start();
  } catch (err) {
    log.fatal({ err: errorMessage(err), code: errnoCode(err) }, 'daemon failed to start');
    process.stderr.write(`envd: the daemon failed to start: ${errorMessage(err)}\n`);
    await shutdown('startup failure', 1);
    return 1;
  }
  return new Promise<number>(() => { /* runs until shutdown exits the process */ });
}
