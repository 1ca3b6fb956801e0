import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Env } from '../env/diff.js';
import type { RpcHandler } from './rpc-types.js';
import { RpcServer } from './rpc.js';
import { BOOTSTRAP } from './bootstrap.js';
import { STDLIB_DIR } from './stdlib.js';
import { copyNameMap } from '../env/map.js';
import { decodeBytes } from '../env/bytes.js';
import { envBytesHandler, splitRawEnv } from './env-bytes.js';
import { LINGER_MS, OutputCap, evalOutput, type EvalInput, type EvalOutput } from './eval-io.js';
import { WARM_SWITCH, warmKey, warmRequest } from './warm.js';
import { ForkServer } from './zygote.js';

export type { EvalInput, EvalOutput, EvalStatus } from './eval-io.js';

/** After that, how long to keep reading before giving up on a pipe held from outside the group. */
const HARD_CLOSE_MS = 2000;


/**
 * The lifeline: fd 4 of every evaluation is a socket whose other end only this process
 * holds. A watcher forked first thing in the evaluation's process group (a double fork, so
 * the file's own `wait` never waits for it) reads it: a line means "finished, stand down";
 * end of file without one means this process died (kill -9 included) while the evaluation
 * ran, and the watcher kills its whole group. So evaluations never outlive the daemon.
 */
const LIFELINE_WATCHER = `( { exec 0</dev/null 1>/dev/null 2>&1 3>&-; IFS= read -r -u 4 __envd_l || kill -s KILL 0; } & )
exec 4<&-
`;

/** Process groups of cold evaluations still running, to end them when the daemon stops. */
const running = new Set<number>();

/** Kill every evaluation still running, with its whole process group (daemon shutdown). */
export function endAllEvaluations(): void {
  // Stopping: no new fork server (one finishing now would keep its server).
  keepServers = false;
  for (const z of servers) z.drop();
  servers.clear();
  idle = [];
  for (const pgid of running) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  }
  running.clear();
}

/** Whether this process keeps fork servers (zygote.ts) between evaluations (the daemon does; the CLI does not). */
let keepServers = false;
/** Every fork server alive, busy or not. */
const servers = new Set<ForkServer>();
/** Servers waiting for an evaluation, most recently used last. */
let idle: ForkServer[] = [];
/**
 * How many wait. One serves evaluations one after the other; a second is there for the
 * evaluation that comes while the first is busy (a slow .envrc), so that it does not pay
 * for a bash reading the stdlib.
 */
const IDLE_SERVERS = 2;

/** `ENVD_WARM_EVAL=0`: every evaluation starts bash with its environment, the old way. */
function warmOff(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WARM_SWITCH] === '0';
}

/**
 * Keep fork servers from now on (zygote.ts), unless `ENVD_WARM_EVAL=0` says otherwise.
 * The first evaluation starts one for itself.
 */
export function enableWarmEvaluations(env: NodeJS.ProcessEnv = process.env): void {
  keepServers = !warmOff(env);
}

/** An idle server for this bash and this stdlib, or a new one; stale ones go. */
function takeServer(bashPath: string): ForkServer | Error {
  const key = warmKey(bashPath);
  while (idle.length > 0) {
    const z = idle.pop();
    if (z === undefined) break;
    if (!z.dead && z.key === key) return z;
    servers.delete(z);
    z.drop();
  }
  try {
    const z = new ForkServer(bashPath, key);
    servers.add(z);
    z.child.on('exit', () => {
      servers.delete(z);
      idle = idle.filter((w) => w !== z);
    });
    return z;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Back to the idle list when it is still good and wanted; else it goes. */
function releaseServer(z: ForkServer): void {
  if (z.dead || !keepServers || idle.length >= IDLE_SERVERS) {
    servers.delete(z);
    z.drop();
    return;
  }
  idle.push(z);
}

/** One bash started for an evaluation, with what it printed and how it ended so far. */
interface Launched {
  child: ChildProcess;
  lifeline: Socket | null;
  out: OutputCap;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  error: Error | null;
  onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null;
  onError: ((err: Error) => void) | null;
}

/**
 * Start bash in its own process group with envd's pipes: stdout and stderr (captured),
 * fd 3 (RPC socket), fd 4 (lifeline); no stdin. Output and the end are recorded from the
 * start.
 */
function launch(bashPath: string, script: string, env: Env, cwd: string): Launched | Error {
  let child: ChildProcess;
  try {
    child = spawn(bashPath, ['--noprofile', '--norc', '-c', script], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const l: Launched = { child, lifeline: child.stdio[4] as Socket | null, out: new OutputCap(), exit: null, error: null, onExit: null, onError: null };
  if (child.pid !== undefined) running.add(child.pid);
  l.lifeline?.on('error', () => { /* the watcher is gone: the group was killed */ });
  const collect = (chunk: Buffer): void => l.out.add(chunk);
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('exit', (code, signal) => {
    l.exit = { code, signal };
    l.onExit?.(code, signal);
  });
  child.on('error', (err) => {
    l.error = err;
    l.onError?.(err);
  });
  return l;
}

/**
 * Run one evaluation: bash runs the stdlib, the user's extensions and the given bytes,
 * then sends its exported environment over the private socket. bash gets its own process
 * group so a timeout, or a background child still holding envd's pipes after bash has
 * exited, is killed whole and leaves no orphans. In the daemon a fork server (zygote.ts)
 * that has already read the stdlib takes the request when it can.
 */
export function runEvaluation(input: EvalInput): Promise<EvalOutput> {
  return new Promise((resolve) => {
    const go = (): void => {
      started += 1;
      startEvaluation(input).then(resolve, (err: unknown) => {
        resolve({ status: 'spawn-error', exitCode: null, dump: null, output: '', detail: String(err) });
      }).finally(() => {
        started -= 1;
        waiting.shift()?.();
      });
    };
    if (started < MAX_RUNNING) go(); else waiting.push(go);
  });
}

/**
 * Evaluations running at once, at most a few per core: 50 shells entering their projects
 * at the same moment must not start 50 bash processes together, which would hold the
 * daemon's event loop past every hook's wait. The others queue (their eval_timeout starts
 * when they start); a request past its budget is answered meanwhile (pending, or the last
 * result for the same content).
 */
const MAX_RUNNING = Math.max(4, 2 * availableParallelism());
let started = 0;
const waiting: (() => void)[] = [];

function startEvaluation(input: EvalInput): Promise<EvalOutput> {
  const all = copyNameMap(input.env, input.extraEnv, { __ENVD_RC: decodeBytes(input.script) });
  // In the daemon, the warm way whenever the request allows it (warm.ts): a fork server
  // has usually read the stdlib already. A one-shot CLI gains nothing by it.
  const request = warmOff() || !keepServers ? null : warmRequest(input.dir, all);
  if (request !== null) {
    const server = takeServer(input.bashPath);
    if (server instanceof Error) {
      return Promise.resolve({ status: 'spawn-error', exitCode: null, dump: null, output: '', detail: String(server) });
    }
    const done = server.run(input, input.handlers, request);
    done.then(() => releaseServer(server), () => releaseServer(server));
    return done;
  }
  // The environment at the end comes back over the socket (no file: __envd_dumpfd empty).
  const script = `${LIFELINE_WATCHER}for __envd_lib in "$__ENVD_STDLIB_DIR"/*.sh; do . "$__envd_lib"; done; unset __envd_lib __ENVD_STDLIB_DIR\n__envd_dumpfd= __envd_dumpid=\n${BOOTSTRAP}`;
  // Values that are not UTF-8 (the .envrc's bytes too) go over the private socket.
  const { env, bytes } = splitRawEnv(copyNameMap(all, { __ENVD_STDLIB_DIR: STDLIB_DIR }));
  const handlers = bytes === null ? input.handlers : copyNameMap(input.handlers, { 'env-bytes': envBytesHandler(bytes) });
  const launched = launch(input.bashPath, script, env, input.dir);
  if (launched instanceof Error) {
    return Promise.resolve({ status: 'spawn-error', exitCode: null, dump: null, output: '', detail: String(launched) });
  }
  return drive(launched, input, handlers);
}

/** Serve one evaluation on a bash started for it. */
function drive(l: Launched, input: EvalInput, handlers: Record<string, RpcHandler>): Promise<EvalOutput> {
  return new Promise((resolve) => {
    const child = l.child;
    const pgid = child.pid;
    const lifeline = l.lifeline;
    // bash is done: the watcher may go (background children that let go of envd's pipes
    // stay, as they do with direnv).
    const standDown = (): void => {
      if (pgid !== undefined) running.delete(pgid);
      if (lifeline !== null && !lifeline.destroyed) lifeline.end('\n');
    };

    let settled = false;
    let killedFor: 'timeout' | 'protocol' | null = null;
    let protocolDetail = '';
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    };
    const sock = child.stdio[3] as Socket | null;
    const rpc = sock === null ? null : new RpcServer(sock, handlers, input.ctx, (why) => {
      killedFor = 'protocol';
      protocolDetail = why;
      killGroup();
    });

    const timer = setTimeout(() => { killedFor = 'timeout'; killGroup(); }, input.timeoutMs);
    const warnTimer = input.warnAfterMs !== undefined && input.onSlow !== undefined
      ? setTimeout(input.onSlow, input.warnAfterMs) : undefined;

    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      standDown();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (warnTimer !== undefined) clearTimeout(warnTimer);
      // Something the file started in the background still holds our pipes: kill the group,
      // which closes them, and keep reading to the end: data already sent (the dump) may
      // still be queued when the event loop is busy, and destroying a stream would drop it.
      // Only a holder that left the group (setsid) meets the hard limit.
      let hard: NodeJS.Timeout | undefined;
      const linger = setTimeout(() => {
        killGroup();
        hard = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          sock?.destroy();
        }, HARD_CLOSE_MS);
      }, LINGER_MS);
      const done = (): void => {
        clearTimeout(linger);
        if (hard !== undefined) clearTimeout(hard);
        resolve(evalOutput({ killedFor, protocolDetail, code, signal, rpc, timeoutMs: input.timeoutMs, output: l.out.shown() }));
      };
      // Wait for the pipes to drain (normally immediate) and queued RPCs to finish.
      const closed = Promise.all([
        streamClosed(child.stdout),
        streamClosed(child.stderr),
        sock === null ? Promise.resolve() : streamClosed(sock),
      ]);
      closed.then(() => rpc?.settled()).then(done, done);
    };
    const failed = (err: Error): void => {
      standDown();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (warnTimer !== undefined) clearTimeout(warnTimer);
      resolve({ status: 'spawn-error', exitCode: null, dump: null, output: l.out.shown(), detail: `cannot run ${input.bashPath}: ${err.message}` });
    };
    if (l.error !== null) { failed(l.error); return; }
    if (l.exit !== null) { finish(l.exit.code, l.exit.signal); return; }
    l.onError = failed;
    l.onExit = finish;
  });
}

function streamClosed(s: NodeJS.ReadableStream | Socket | null): Promise<void> {
  if (s === null) return Promise.resolve();
  return new Promise((resolve) => {
    const stream = s as NodeJS.ReadableStream & { destroyed?: boolean; readableEnded?: boolean };
    if (stream.destroyed === true || stream.readableEnded === true) { resolve(); return; }
    stream.once('close', () => resolve());
    stream.once('end', () => resolve());
  });
}
