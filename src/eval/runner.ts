import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Env } from '../env/diff.js';
import type { RpcContext, RpcHandler } from './rpc-types.js';
import { RpcServer } from './rpc.js';
import { BOOTSTRAP } from './bootstrap.js';
import { STDLIB_DIR } from './stdlib.js';
import { copyNameMap } from '../env/map.js';
import { decodeBytes, encodeBytes } from '../env/bytes.js';
import { parseDeclarePx } from '../protocol/hook-records.js';
import { errorMessage } from '../util/errors.js';
import { envBytesHandler, splitRawEnv } from './env-bytes.js';
import { WARM_RECEIVE, WARM_SWITCH, warmKey, warmRequest } from './warm.js';

/** Output of the user's file kept for display; the rest is counted and dropped. */
const MAX_OUTPUT = 64 * 1024;
/** After bash exits, how long its pipes may stay open before the group is killed. */
const LINGER_MS = 100;
/** After that, how long to keep reading before giving up on a pipe held from outside the group. */
const HARD_CLOSE_MS = 2000;

export interface EvalInput {
  /** Directory to run in (the .envrc's). */
  dir: string;
  /** The exact bytes to run (already hashed and trusted). */
  script: Buffer;
  /** Environment the evaluation starts from (envd's previous changes reverted). */
  env: Env;
  /** Variables only for the evaluation (DIRENV_*, __ENVD_*). */
  extraEnv: Env;
  bashPath: string;
  timeoutMs: number;
  handlers: Record<string, RpcHandler>;
  ctx: RpcContext;
  /** Called once if still running after this long (direnv's warn_timeout). */
  warnAfterMs?: number;
  onSlow?: () => void;
}

export type EvalStatus = 'ok' | 'exit' | 'timeout' | 'spawn-error' | 'protocol';

export interface EvalOutput {
  status: EvalStatus;
  exitCode: number | null;
  /** The exported environment at the end (status 'ok' only); raw bytes per value. */
  dump: Map<string, Buffer> | null;
  /** What the file printed (stdout and stderr), capped. */
  output: string;
  detail: string;
}

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

/** Process groups of evaluations still running, to end them when the daemon stops. */
const running = new Set<number>();

/** Kill every evaluation still running, with its whole process group (daemon shutdown). */
export function endAllEvaluations(): void {
  // Stopping: no new warm bash (one finishing now would start the next).
  keepSpare = false;
  dropSpares();
  for (const pgid of running) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  }
  running.clear();
}

/** Whether this process keeps warm bashes waiting (the daemon does; the CLI does not). */
let keepSpare = false;
/** Bashes waiting for the next evaluations, oldest first, with the key each was started for. */
let spares: { key: string; launched: Launched }[] = [];

/**
 * How many wait. Two, so that the one an evaluation takes was started a whole evaluation
 * earlier: a bash needs a few milliseconds to start and read the stdlib, and a person
 * leaving and entering projects (`cd ..; cd -`) asks for the next one within ten.
 */
const SPARES = 2;

/** `ENVD_WARM_EVAL=0`: every evaluation starts bash with its environment, the old way. */
function warmOff(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WARM_SWITCH] === '0';
}

/**
 * Keep warm bashes ready from now on (warm.ts), unless `ENVD_WARM_EVAL=0` says otherwise.
 * The first evaluation starts one for itself and the others are started when it is done.
 */
export function enableWarmEvaluations(env: NodeJS.ProcessEnv = process.env): void {
  keepSpare = !warmOff(env);
}

function dropLaunched(l: Launched): void {
  const { child, lifeline } = l;
  if (child.pid !== undefined) {
    running.delete(child.pid);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  lifeline?.destroy();
  (child.stdio[3] as Socket | null)?.destroy();
}

function dropSpares(): void {
  const all = spares;
  spares = [];
  for (const s of all) dropLaunched(s.launched);
}

/** A bash that sources the stdlib, then waits on stdin for its request. */
function launchWarm(bashPath: string): Launched | Error {
  const script = `${LIFELINE_WATCHER}for __envd_lib in "$__ENVD_STDLIB_DIR"/*.sh; do . "$__envd_lib"; done; unset __envd_lib __ENVD_STDLIB_DIR\n${WARM_RECEIVE}${BOOTSTRAP}`;
  return launch(bashPath, script, { __ENVD_STDLIB_DIR: STDLIB_DIR }, '/', 'pipe');
}

/**
 * Start one more warm bash when fewer than SPARES fit (this bash, this stdlib, alive);
 * those that no longer fit go. One per call: starting a process holds the daemon's event
 * loop for a moment (Node forks itself), and two in a row would hold it twice as long.
 */
function prepareWarm(bashPath: string): void {
  if (!keepSpare) return;
  const key = warmKey(bashPath);
  const keep = spares.filter((s) => s.key === key && usable(s.launched));
  for (const s of spares) if (!keep.includes(s)) dropLaunched(s.launched);
  spares = keep;
  if (spares.length >= SPARES) return;
  const launched = launchWarm(bashPath);
  if (launched instanceof Error) return;
  spares.push({ key, launched });
  if (spares.length < SPARES) prepareSoon(bashPath);
}

/**
 * Filling up after an evaluation, when taking a bash did not already start the next one
 * (see startEvaluation). Starting a process holds the daemon's event loop while Node forks
 * (a few milliseconds; far more on a machine that is very busy), so not on the answer's
 * path: a little after it, and later again while an evaluation runs (one waits meanwhile).
 */
const PREPARE_DELAY_MS = 10;
const MAX_POSTPONE = 5;

function prepareSoon(bashPath: string, postponed = 0): void {
  if (!keepSpare) return;
  setTimeout(() => {
    if (started > 0 && postponed < MAX_POSTPONE && spares.length > 0) prepareSoon(bashPath, postponed + 1);
    else prepareWarm(bashPath);
  }, PREPARE_DELAY_MS).unref();
}

function usable(l: Launched): boolean {
  return l.exit === null && l.error === null;
}

/** The oldest waiting bash that fits (same bash, same stdlib, alive), else null. */
function takeSpare(bashPath: string): Launched | null {
  const key = warmKey(bashPath);
  while (spares.length > 0) {
    const s = spares.shift();
    if (s === undefined) break;
    if (s.key === key && usable(s.launched)) return s.launched;
    dropLaunched(s.launched);
  }
  return null;
}

/** One bash started for an evaluation, with what it printed and how it ended so far. */
interface Launched {
  child: ChildProcess;
  lifeline: Socket | null;
  output: string;
  dropped: number;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  error: Error | null;
  onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null;
  onError: ((err: Error) => void) | null;
}

/**
 * Start bash in its own process group with envd's pipes: stdout and stderr (captured),
 * fd 3 (RPC socket), fd 4 (lifeline); stdin a pipe for a warm bash's request, else none.
 * Output and the end are recorded from the start, so nothing is lost while a warm bash
 * waits for its request.
 */
function launch(bashPath: string, script: string, env: Env, cwd: string, stdin: 'ignore' | 'pipe'): Launched | Error {
  let child: ChildProcess;
  try {
    child = spawn(bashPath, ['--noprofile', '--norc', '-c', script], {
      cwd,
      env,
      stdio: [stdin, 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const l: Launched = { child, lifeline: child.stdio[4] as Socket | null, output: '', dropped: 0, exit: null, error: null, onExit: null, onError: null };
  if (child.pid !== undefined) running.add(child.pid);
  l.lifeline?.on('error', () => { /* the watcher is gone: the group was killed */ });
  child.stdin?.on('error', () => { /* bash went away before reading its request */ });
  const collect = (chunk: Buffer): void => {
    const room = MAX_OUTPUT - l.output.length;
    if (room > 0) l.output += chunk.subarray(0, room).toString('utf8');
    l.dropped += Math.max(0, chunk.length - Math.max(room, 0));
  };
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
 * exited, is killed whole and leaves no orphans. In the daemon a warm bash (warm.ts's
 * rules, below) that has already read the stdlib takes the request when it can.
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
  // The warm way whenever the request allows it (warm.ts); in the daemon the bash has
  // usually read the stdlib already.
  const request = warmOff() ? null : warmRequest(input.dir, all);
  if (request !== null) {
    const spare = takeSpare(input.bashPath);
    const launched = spare ?? launchWarm(input.bashPath);
    if (launched instanceof Error) {
      return Promise.resolve({ status: 'spawn-error', exitCode: null, dump: null, output: '', detail: String(launched) });
    }
    const done = drive(launched, input, input.handlers, request);
    // A waiting bash has the request: while it evaluates, this event loop has nothing to
    // do, so the next one starts now (Node forks on this core while bash runs on another)
    // rather than after the answer, where it would hold the shell's next request. Not
    // when this bash is starting itself: two starting at once would slow this one down.
    if (spare !== null && started <= 1) prepareWarm(input.bashPath);
    done.then(() => prepareSoon(input.bashPath), () => undefined);
    return done;
  }
  const script = `${LIFELINE_WATCHER}for __envd_lib in "$__ENVD_STDLIB_DIR"/*.sh; do . "$__envd_lib"; done; unset __envd_lib __ENVD_STDLIB_DIR\n${BOOTSTRAP}`;
  // Values that are not UTF-8 (the .envrc's bytes too) go over the private socket.
  const { env, bytes } = splitRawEnv(copyNameMap(all, { __ENVD_STDLIB_DIR: STDLIB_DIR }));
  const handlers = bytes === null ? input.handlers : copyNameMap(input.handlers, { 'env-bytes': envBytesHandler(bytes) });
  const launched = launch(input.bashPath, script, env, input.dir, 'ignore');
  if (launched instanceof Error) {
    return Promise.resolve({ status: 'spawn-error', exitCode: null, dump: null, output: '', detail: String(launched) });
  }
  const done = drive(launched, input, handlers, null);
  done.then(() => prepareSoon(input.bashPath), () => undefined);
  return done;
}

/** Serve one evaluation on a launched bash (a warm one gets its request written first). */
function drive(l: Launched, input: EvalInput, handlers: Record<string, RpcHandler>, request: Buffer | null): Promise<EvalOutput> {
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
        let output = l.output;
        if (l.dropped > 0) output += `\n[${l.dropped} more bytes of output not shown]\n`;
        let status: EvalStatus;
        let detail: string;
        if (killedFor === 'timeout') {
          status = 'timeout';
          detail = `timed out after ${Math.round(input.timeoutMs / 1000)}s`;
        } else if (killedFor === 'protocol') {
          status = 'protocol';
          detail = protocolDetail;
        } else if (code === 0 && rpc?.dump !== null && rpc !== null) {
          status = 'ok';
          detail = '';
        } else if (code === 0) {
          status = 'protocol';
          detail = 'the evaluation ended without reporting its environment';
        } else {
          status = 'exit';
          detail = signal !== null ? `killed by ${signal}` : `exit status ${code ?? '?'}`;
        }
        let dump: Map<string, Buffer> | null = null;
        if (status === 'ok' && rpc?.dump != null) {
          try {
            dump = dumpMap(rpc.dumpKind, rpc.dump);
          } catch (err) {
            status = 'protocol';
            detail = errorMessage(err);
          }
        }
        resolve({ status, exitCode: code, dump, output, detail });
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
      resolve({ status: 'spawn-error', exitCode: null, dump: null, output: l.output, detail: `cannot run ${input.bashPath}: ${err.message}` });
    };
    if (l.error !== null) { failed(l.error); return; }
    if (l.exit !== null) { finish(l.exit.code, l.exit.signal); return; }
    l.onError = failed;
    l.onExit = finish;
    if (request !== null) child.stdin?.end(request);
  });
}

/** The exported environment the EXIT trap sent, as name -> exact bytes. */
function dumpMap(kind: 'dump' | 'dump-px', fields: Buffer[]): Map<string, Buffer> {
  const dump = new Map<string, Buffer>();
  if (kind === 'dump-px') {
    const text = fields[0];
    if (fields.length !== 1 || text === undefined) throw new Error('the evaluation sent a malformed environment dump');
    const { env } = parseDeclarePx(text, 'dump');
    for (const [name, value] of Object.entries(env)) dump.set(name, encodeBytes(value));
    return dump;
  }
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name !== undefined && value !== undefined) dump.set(name.toString('utf8'), value);
  }
  return dump;
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
