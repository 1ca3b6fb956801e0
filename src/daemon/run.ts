import { unlinkSync, watch, type FSWatcher } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import { loadConfig } from '../config/config.js';
import { resolvePaths, type EnvdPaths } from '../config/paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import { MAX_TIMER_MS } from '../util/timer.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { speakingVersion } from './autostart.js';
import { DaemonCore, type DaemonEngine } from './core.js';
import { serveConnection } from './connection.js';
import { Generation } from './generation.js';
import { serveHookStream, startFifoTransport, type HookBackend } from './hook-connection.js';
import { AlreadyRunning, listenTakingOver, socketIdentity, type Listening } from './listen.js';
import { lockHasToken, tryLock, breakIfStale, type HeldLock } from './lock.js';
import { openDaemonLog, pickLevel, type DaemonLogger } from './log.js';
import { pidFile, readPidFile } from './pidfile.js';
import { checkRuntimeDir, checkSocketPath } from './runtime-dir.js';
import { DependencyWatcher } from './watcher.js';

type Env = Record<string, string | undefined>;

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

export function readKnobs(env: Env): DaemonKnobs {
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

/** The start lock, unless the process that spawned us holds it for us. */
async function takeStartLock(paths: EnvdPaths, token: string): Promise<HeldLock | null> {
  if (lockHasToken(paths.lockFile, token)) return null;
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
export async function runDaemon(env: Env = process.env): Promise<number> {
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

  let lock: HeldLock | null;
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
    lock?.release();
    if (err instanceof AlreadyRunning) {
      log.info({ detail: err.detail }, 'not starting: a daemon is already running');
      process.stderr.write(`envd: ${err.detail}; not starting another\n`);
      return 0;
    }
    log.error({ err: errorMessage(err) }, 'cannot listen');
    process.stderr.write(`envd: cannot listen on ${paths.socketPath}: ${errorMessage(err)}\n`);
    return 1;
  } finally {
    lock?.release();
  }
  if (listening.tookOver) log.info({ socket: paths.socketPath }, 'removed a stale socket (connect was refused)');
  return serve(server, listening.identity, paths, knobs, env, log);
}

async function serve(server: Server, identity: string, paths: EnvdPaths, knobs: DaemonKnobs, env: Env, log: DaemonLogger): Promise<number> {
  // Connections that arrive while the engine loads wait for it.
  let resolveReady: (core: DaemonCore | null) => void = () => {};
  const ready = new Promise<DaemonCore | null>((r) => { resolveReady = r; });
  let hook: ((socket: Socket) => void) | null = null;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, {
      log,
      idleMs: knobs.idleMs,
      handle: async (frame, session) => {
        const core = await ready;
        if (core === null) throw new Error('the daemon is stopping');
        return core.handle(frame, session);
      },
      hook: (s) => {
        s.setTimeout(knobs.hookIdleMs);
        if (hook === null) { s.destroy(); return; }
        hook(s);
      },
    });
  });
  server.on('error', (err) => log.error({ err: errorMessage(err) }, 'server error'));

  let stopping = false;
  let dirWatch: FSWatcher | null = null;
  let fifo: { close(): Promise<void> } | null = null;
  let watcher: DependencyWatcher | null = null;
  let engine: DaemonEngine | null = null;
  let endEvaluations: (() => void) | null = null;
  const ownsSocket = (): boolean => {
    return socketIdentity(paths.socketPath) === identity;
  };
  const shutdown = async (reason: string, code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'daemon stopping');
    resolveReady(null);
    dirWatch?.close();
    // Closing a listening Unix socket server unlinks its path (libuv does), so close it only
    // while the path is still ours: a replaced socket belongs to the daemon that replaced us.
    if (ownsSocket()) {
      server.close();
      try { unlinkSync(paths.socketPath); } catch { /* gone */ }
    }
    for (const s of sockets) s.destroy();
    if (readPidFile(paths) === process.pid) {
      try { unlinkSync(pidFile(paths)); } catch { /* gone */ }
    }
    // Evaluations end with the daemon (their watchers would also see our end of the
    // lifeline close when we exit; this is at once, and for SIGTERM and stop alike).
    endEvaluations?.();
    const closing = Promise.allSettled([fifo?.close(), watcher?.close(), engine?.close()]);
    await Promise.race([closing, sleep(1500)]);
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

  // A daemon whose socket was replaced (another daemon took over) or removed exits: no
  // polling, the runtime dir's inotify events say when to look.
  const sockName = basename(paths.socketPath);
  try {
    dirWatch = watch(paths.runtimeDir, { persistent: false }, (_event, name) => {
      if (stopping || (name !== null && name !== sockName)) return;
      if (!ownsSocket()) stop('the socket was removed or replaced');
    });
    dirWatch.on('error', () => { if (!ownsSocket()) stop('the runtime dir went away'); });
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'cannot watch the runtime dir; a replaced socket will not be noticed');
  }

  try {
    writeFileAtomic(pidFile(paths), `${process.pid}\n`, 0o600);
    // Watching off: hooks in a project ask at every prompt (see Generation).
    const generation = new Generation(paths.generationFile, (m) => log.error(m), !knobs.watch);
    const { LocalService } = await import('../engine/service.js');
    const runner = await import('../eval/runner.js');
    endEvaluations = runner.endAllEvaluations;
    // The daemon keeps a bash that has read the stdlib ready for the next evaluation.
    runner.enableWarmEvaluations();
    const service = new LocalService({ paths, env, background: true });
    engine = service;
    let core: DaemonCore | null = null;
    const w = new DependencyWatcher({
      log,
      enabled: knobs.watch,
      onChange: (changed) => core?.onWatchedChange(changed),
      markers: () => service.markers(),
      onUnwatched: (dirs) => core?.onUnwatched(dirs),
      onDegraded: () => generation.setPolling(true),
      onRecovered: () => generation.setPolling(false),
      ...(knobs.watchRetryMs !== undefined ? { retryMs: knobs.watchRetryMs } : {}),
      ...(knobs.watchIdleMs !== undefined ? { idleMs: knobs.watchIdleMs } : {}),
      ...(knobs.maxWatches !== undefined ? { maxDirs: knobs.maxWatches } : {}),
    });
    watcher = w;
    core = new DaemonCore({ engine, generation, watcher: w, log, paths, version: knobs.version, requestShutdown: (r) => stop(r) });
    const foreignSeen = new Set<string>();
    const backend: HookBackend = {
      export: (req, opts) => (core ?? failNoCore()).export(req, opts),
      generation: () => generation.current,
      budgetMs: () => (core ?? failNoCore()).budgetMs(),
      markers: () => service.markers(),
      foreign: (reqEnv) => {
        const why = (core ?? failNoCore()).foreignEnv(reqEnv);
        // Such a shell asks at many prompts: log each identity once.
        if (why !== null && !foreignSeen.has(why) && foreignSeen.size < 100) {
          foreignSeen.add(why);
          log.info({ why }, 'hook request of another identity: told to use the CLI');
        }
        return why;
      },
    };
    hook = (s) => serveHookStream(s, s, backend);
    try {
      fifo = startFifoTransport(paths.runtimeDir, backend, log);
    } catch (err) {
      // bash hooks then fall back to `envd export bash`; zsh and fish use the socket.
      log.warn({ err: errorMessage(err) }, 'FIFO transport failed to start; bash hooks fall back');
    }
    core.scheduleSync();
    resolveReady(core);
    log.info({ socket: paths.socketPath, version: knobs.version, generation: generation.current, watch: w.state }, 'daemon ready');
  } catch (err) {
    log.fatal({ err: errorMessage(err), code: errnoCode(err) }, 'daemon failed to start');
    process.stderr.write(`envd: the daemon failed to start: ${errorMessage(err)}\n`);
    await shutdown('startup failure', 1);
    return 1;
  }
  return new Promise<number>(() => { /* runs until shutdown exits the process */ });
}

function failNoCore(): never {
  throw new Error('the daemon is not ready');
}
