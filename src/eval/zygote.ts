import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { BOOTSTRAP } from './bootstrap.js';
import { LINGER_MS, OutputCap, evalOutput, type EvalInput, type EvalOutput } from './eval-io.js';
import { killHolders } from './holders.js';
import { errorMessage } from '../util/errors.js';
import { FrameReader, RpcServer } from './rpc.js';
import { DUMP_FD, DumpFile } from './dump-file.js';
import type { RpcHandler } from './rpc-types.js';
import { STDLIB_DIR } from './stdlib.js';
import { WARM_APPLY } from './warm.js';

/**
 * The fork server. Starting bash and sourcing the stdlib costs ~5 ms of CPU; forking a
 * bash that has already done so costs ~0.6 ms. So the daemon keeps a bash that has read
 * the stdlib and serves evaluations one at a time. It forks a subshell before the request
 * comes, which reads it (warm.ts's bash code, after a line `NONCE LENGTH`; the fork and
 * its first run on a core are then off the `cd`'s path), applies it (WARM_APPLY) and
 * runs the bootstrap and the .envrc, exactly as a bash started for it would. The
 * evaluation's EXIT trap writes its environment to the server's file in memory
 * (dump-file.ts) and then says it is done on both channels: a marker with the nonce on
 * the output pipe (what came before it is the file's output) and `zdone NONCE STATUS` on
 * the private socket (after any request, in order); the daemon reads the file at `zdone`
 * and has the result, without waiting for the process to be torn down and reaped. The
 * server waits for it, reads the nonce the daemon wrote after the request (`NONCE` and a
 * newline: the child read exactly the request's bytes), says the same again (marker
 * `envd-end`, `zend NONCE STATUS LEFT PID`: these end an evaluation that could not say
 * so itself, and bring LEFT), and forks the next one. Its pid, which a timeout needs, the
 * daemon reads from /proc when it needs it (the server's one child); on a kernel that does
 * not list children the evaluation sends it first (`zpid NONCE PID`), a wake-up of the
 * daemon more.
 *
 * Each evaluation runs in a process group of its own (the server has job control on and
 * the fork turns it off for itself and its children): a timeout kills that group, not the
 * server, and background processes the file started stay when it is done, as they do
 * with direnv. The server runs no user code, so nothing one evaluation does reaches the
 * next. Should the daemon die (kill -9 included), the server's lifeline watcher sees the
 * end of its socket and sends TERM to the server's group; the server's trap kills the
 * running evaluation's group and exits. An idle server, and the evaluation it forked ahead,
 * also end at the end of their stdin (drop closes it).
 */

const SERVER_LIFELINE = `( { exec 0</dev/null 1>/dev/null 2>&1 3>&- ${DUMP_FD}>&-; IFS= read -r -u 4 __envd_l || kill -s TERM 0; } & )
exec 4<&-
`;

/**
 * A request's first line, `NONCE LENGTH`, at a fixed width: the server reads it as so many
 * bytes in one read(2), where a line is read from a pipe a byte at a time (a system call
 * each). The nonce is 16 hex digits; the length has leading zeros.
 */
const HEAD_BYTES = 16 + 1 + 10 + 1;
/** After the request's bytes, its nonce again (`NONCE\n`), read by the server once the evaluation has ended. */
const TRAILER_BYTES = 16 + 1;

function requestHead(nonce: string, length: number): string {
  const head = `${nonce} ${String(length).padStart(10, '0')}\n`;
  if (head.length !== HEAD_BYTES) throw new Error(`a fork server request head must be ${HEAD_BYTES} bytes`);
  return head;
}

const SERVER_LOOP = String.raw`
# The dump file (dump-file.ts) to a high fd, once: evaluations inherit it there, and the
# .envrc may use fd ${DUMP_FD}.
__envd_w_dumpfd=
[[ -z $__ENVD_DUMP_FD ]] || exec {__envd_w_dumpfd}>&${DUMP_FD} ${DUMP_FD}>&-
__envd_w_zpid=$__ENVD_ZPID
unset __ENVD_DUMP_FD __ENVD_ZPID
__envd_z_child=
trap '[[ -z $__envd_z_child ]] || kill -s KILL -- "-$__envd_z_child" 2>/dev/null; exit 1' TERM
set -m
for __envd_z_l in $__ENVD_LOCALES; do LC_ALL=$__envd_z_l; done 2>/dev/null
unset __envd_z_l __ENVD_LOCALES
LC_ALL=C
__envd_z_self=$BASHPID
while :; do
  # Forked before its request comes (forking costs ~0.3 ms, and the child ~0.15 ms more to
  # be scheduled): the child reads the request itself. A child that finds the stream cut
  # or malformed ends the server (TERM: the trap below).
  (
    set +m
    trap - TERM
    BASH_SUBSHELL=0
    IFS= read -r -N ${HEAD_BYTES} __envd_z_head || exit 0
    __envd_z_head=${'$'}{__envd_z_head%$'\n'}
    __envd_z_nonce=${'$'}{__envd_z_head%% *} __envd_w_len=${'$'}{__envd_z_head#* }
    if [[ -z $__envd_z_nonce || $__envd_z_nonce == *[!0-9a-f]* || -z $__envd_w_len || $__envd_w_len == *[!0-9]* ]] ||
      ! IFS= read -r -N "$__envd_w_len" __envd_w_req; then
      kill -s TERM "$__envd_z_self"
      exit 1
    fi
    exec 0</dev/null
    [[ -z $__envd_w_zpid ]] || printf '%s\0' 3 zpid "$__envd_z_nonce" "$BASHPID" >&3 || exit 1
    __envd_w_id=$__envd_z_nonce
    unset __envd_z_head __envd_z_nonce __envd_z_child __envd_z_st __envd_z_left __envd_z_self __envd_z_tail __envd_z_pid
    ${WARM_APPLY}
    # Named __envd_w_* until now: a request's variables cannot have such a name (warm.ts).
    __envd_dumpfd=$__envd_w_dumpfd __envd_dumpid=$__envd_w_id
    unset __envd_w_dumpfd __envd_w_id __envd_w_zpid
    ${BOOTSTRAP}
  ) 1>&2 &
  __envd_z_child=$!
  wait "$__envd_z_child" 2>/dev/null
  __envd_z_st=$?
  # Its group still there: something it started runs on (and may hold our pipes).
  __envd_z_left=0
  kill -0 -- "-$__envd_z_child" 2>/dev/null && __envd_z_left=1
  __envd_z_pid=$__envd_z_child __envd_z_child=
  # The request's nonce again, after its bytes (the child read those): the end of the
  # stream (the daemon is gone) ends the server here.
  IFS= read -r -N ${TRAILER_BYTES} __envd_z_tail || exit 0
  __envd_z_nonce=${'$'}{__envd_z_tail%$'\n'}
  [[ ${'$'}{#__envd_z_nonce} -eq 16 && $__envd_z_nonce != *[!0-9a-f]* ]] || exit 1
  printf '\0envd-end:%s\0' "$__envd_z_nonce" >&2
  printf '%s\0' 5 zend "$__envd_z_nonce" "$__envd_z_st" "$__envd_z_left" "$__envd_z_pid" >&3
done
`;

/**
 * The locales evaluations will most likely set (the daemon's own: it was started from the
 * user's session), for the server to load once before it serves (SERVER_LOOP). glibc keeps
 * every locale it has read: an evaluation whose LANG names one of them switches to it in
 * memory, where a server that never read it had each evaluation open and map some thirty
 * locale files (~0.3 ms of every `cd` into a project). The server itself stays in the C
 * locale, and what an evaluation starts with is still exactly its own environment.
 */
export function localesToWarm(env: NodeJS.ProcessEnv = process.env): string {
  const names = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if ((name === 'LANG' || name.startsWith('LC_')) && value !== undefined && /^[A-Za-z0-9_.@+-]{1,64}$/.test(value) && value !== 'C' && value !== 'POSIX') names.add(value);
  }
  return [...names].slice(0, 4).join(' ');
}

function serverScript(): string {
  return `${SERVER_LIFELINE}for __envd_lib in "$__ENVD_STDLIB_DIR"/*.sh; do . "$__envd_lib"; done; unset __envd_lib __ENVD_STDLIB_DIR\n${SERVER_LOOP}`;
}

/** One evaluation on a server, from its request to both of its end markers. */
interface Job {
  nonce: string;
  /** The server's marker after the evaluation was reaped (the end of its output stream). */
  marker: Buffer;
  /** The evaluation's own, written as it ends (BOOTSTRAP's EXIT trap): its output ends there. */
  doneMarker: Buffer;
  rpc: RpcServer;
  out: OutputCap;
  outEnded: boolean;
  status: number | null;
  /** From zpid, where the evaluation sends it (see evaluationPid). */
  pid: number | null;
  /** zend came: the evaluation has exited. */
  ended: boolean;
  killedFor: 'timeout' | 'protocol' | null;
  protocolDetail: string;
  done: (how: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

const EMPTY = Buffer.alloc(0);

let childrenListed: boolean | null = null;

/** Whether this kernel lists a process's children in /proc (CONFIG_PROC_CHILDREN, most do). */
function listsChildren(): boolean {
  childrenListed ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  return childrenListed;
}

export class ForkServer {
  readonly child: ChildProcess;
  private readonly sock: Socket | null;
  private readonly lifeline: Socket | null;
  private readonly reader: FrameReader;
  private job: Job | null = null;
  /**
   * The evaluation whose output stream is being read: the running one, or one that has
   * ended on its own marker (its `zdone`) and whose server marker has not come yet. What
   * comes between the two is neither's (what it started and left running).
   */
  private outJob: Job | null = null;
  /** Bytes of the output held back: they may be the start of a marker. */
  private outTail: Buffer = EMPTY;
  /** An evaluation that ended on its own (`zdone`) before the server reaped it: its `zend` is still to come. */
  private reaping: Job | null = null;
  /** The file evaluations write their environment to (dump-file.ts); null: over the socket. */
  private dump: DumpFile | null;
  /** Nonces: a random prefix per server and a count (randomBytes at every evaluation cost ~20 µs). */
  private readonly noncePrefix = randomBytes(4).toString('hex');
  private nonces = 0;
  dead = false;

  constructor(readonly bashPath: string, readonly key: string) {
    this.dump = DumpFile.open();
    try {
      this.child = spawn(bashPath, ['--noprofile', '--norc', '-c', serverScript()], {
        cwd: '/',
        env: {
          __ENVD_STDLIB_DIR: STDLIB_DIR,
          __ENVD_LOCALES: localesToWarm(),
          __ENVD_DUMP_FD: this.dump === null ? '' : String(DUMP_FD),
          __ENVD_ZPID: listsChildren() ? '' : '1',
        },
        stdio: ['pipe', 'ignore', 'pipe', 'pipe', 'pipe', this.dump?.fd ?? 'ignore'],
        detached: true,
      });
    } catch (err) {
      this.closeDump();
      throw err;
    }
    this.sock = this.child.stdio[3] as Socket | null;
    this.lifeline = this.child.stdio[4] as Socket | null;
    this.reader = new FrameReader((f) => this.onFrame(f), (why) => this.fatal(why));
    this.lifeline?.on('error', () => { /* the watcher is gone: the server was killed */ });
    this.child.stdin?.on('error', () => { /* the server went away before reading */ });
    this.sock?.on('error', () => { /* the server went away; its exit tells the story */ });
    this.sock?.on('data', (chunk: Buffer) => this.reader.push(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.onOutput(chunk));
    this.child.on('exit', (code, signal) => this.ended(code, signal));
    this.child.on('error', () => this.ended(null, null));
  }

  get busy(): boolean {
    return this.job !== null;
  }

  /** Process groups to kill when the daemon stops: the server's and its evaluation's. */
  groups(): number[] {
    const g: number[] = [];
    if (this.child.pid !== undefined) g.push(this.child.pid);
    const pid = this.job === null ? null : this.evaluationPid(this.job);
    if (pid !== null) g.push(pid);
    return g;
  }

  /**
   * The running evaluation's pid (its process group's id): sent by it (zpid), or the
   * server's one child, which /proc lists (the lifeline watcher left it at once; every
   * evaluation before was waited for). Null once the evaluation ended.
   */
  private evaluationPid(job: Job): number | null {
    if (job.pid !== null || job.status !== null || job.ended || this.child.pid === undefined || !listsChildren()) return job.pid;
    const server = this.child.pid;
    try {
      const pid = Number(readFileSync(`/proc/${server}/task/${server}/children`, 'latin1').trim().split(' ')[0]);
      return Number.isSafeInteger(pid) && pid > 1 ? pid : null;
    } catch {
      return null;
    }
  }

  /** Kill the server, its watcher and its evaluation. */
  drop(): void {
    this.dead = true;
    for (const pgid of this.groups()) {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
    }
    // The next evaluation, forked ahead and waiting for its request, ends at the end of it.
    this.child.stdin?.destroy();
    this.lifeline?.destroy();
    this.closeDump();
  }

  private closeDump(): void {
    this.dump?.close();
    this.dump = null;
  }

  /** Serve one evaluation (`request`: warm.ts's bytes). One at a time. */
  run(input: EvalInput, handlers: Record<string, RpcHandler>, request: Buffer): Promise<EvalOutput> {
    return new Promise((resolve) => {
      this.nonces = (this.nonces + 1) >>> 0;
      const nonce = `${this.noncePrefix}${this.nonces.toString(16).padStart(8, '0')}`;
      const sock = this.sock;
      if (this.dead || sock === null || this.child.stdin === null) {
        resolve({ status: 'spawn-error', exitCode: null, dump: null, output: '', detail: `cannot run ${input.bashPath}: the evaluator is gone` });
        return;
      }
      const timer = setTimeout(() => this.kill('timeout', ''), input.timeoutMs);
      const warnTimer = input.warnAfterMs !== undefined && input.onSlow !== undefined
        ? setTimeout(input.onSlow, input.warnAfterMs) : undefined;
      const job: Job = {
        nonce,
        marker: Buffer.from(`\0envd-end:${nonce}\0`, 'latin1'),
        doneMarker: Buffer.from(`\0envd-done:${nonce}\0`, 'latin1'),
        rpc: new RpcServer(sock, handlers, input.ctx, (why) => this.kill('protocol', why), false),
        out: new OutputCap(),
        outEnded: false,
        status: null,
        pid: null,
        ended: false,
        killedFor: null,
        protocolDetail: '',
        done: ({ code, signal }) => {
          clearTimeout(timer);
          if (warnTimer !== undefined) clearTimeout(warnTimer);
          if (this.job === job) this.job = null;
          resolve(evalOutput({
            killedFor: job.killedFor,
            protocolDetail: job.protocolDetail,
            code,
            signal,
            rpc: job.rpc,
            timeoutMs: input.timeoutMs,
            output: job.out.shown(),
          }));
        },
      };
      this.job = job;
      // The output stream is the last evaluation's until the server's marker for it came.
      if (this.outJob === null) this.outJob = job;
      this.reader.restart();
      this.child.stdin.write(Buffer.concat([Buffer.from(requestHead(nonce, request.length), 'latin1'), request, Buffer.from(`${nonce}\n`, 'latin1')]));
    });
  }

  /** End the running evaluation: its group when it has said who it is, else the server. */
  private kill(why: 'timeout' | 'protocol', detail: string): void {
    const job = this.job;
    if (job === null || job.killedFor !== null) return;
    job.killedFor = why;
    job.protocolDetail = detail;
    // After a protocol error the socket's stream cannot be trusted to end the job: the
    // server goes, and its exit ends the job.
    const pid = why === 'timeout' ? this.evaluationPid(job) : null;
    if (pid !== null) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
      return;
    }
    this.drop();
  }

  private fatal(why: string): void {
    if (this.job !== null) this.kill('protocol', why);
    else this.drop();
  }

  private onFrame(fields: Buffer[]): void {
    const job = this.job;
    const name = fields[0]?.toString('latin1');
    if (name === 'zpid' || name === 'zend' || name === 'zdone') {
      const nonce = fields[1]?.toString('latin1');
      const n = Number(fields[2]?.toString('latin1'));
      // The server reaped one that had said it was done: what it left running is looked after.
      if (name === 'zend' && this.reaping !== null && nonce === this.reaping.nonce) {
        this.lingered(this.reaping, fields);
        this.reaping = null;
        return;
      }
      if (job === null || nonce !== job.nonce || job.ended || (name === 'zdone' && job.status !== null)) {
        this.fatal('the evaluator sent an end for no evaluation');
        return;
      }
      if (name === 'zpid') {
        if (Number.isSafeInteger(n) && n > 1) job.pid = n;
        return;
      }
      if (name === 'zend') {
        job.ended = true;
        this.lingered(job, fields);
      }
      // zdone: the evaluation wrote its environment and is exiting; its status is its own.
      // The server's zend for it comes once it is reaped (see reaping).
      // After the requests before it: the socket keeps their order.
      void job.rpc.settled().then(() => {
        if (job.status !== null) return;
        this.takeDump(job);
        job.status = Number.isSafeInteger(n) ? n : 1;
        this.finishIfEnded(job);
      });
      return;
    }
    if (job === null) {
      // Something an earlier evaluation left running speaks: not for anyone now.
      return;
    }
    job.rpc.accept(fields);
  }

  /** zend's LEFT and PID: what the evaluation started and left running is killed if it holds our pipes. */
  private lingered(job: Job, fields: Buffer[]): void {
    const sent = Number(fields[4]?.toString('latin1'));
    const pgid = job.pid ?? (Number.isSafeInteger(sent) && sent > 1 ? sent : null);
    job.pid = null;
    if (pgid !== null && fields[3]?.toString('latin1') === '1' && this.child.pid !== undefined) {
      const server = this.child.pid;
      setTimeout(() => { void killHolders(pgid, server, [2, 3]); }, LINGER_MS).unref();
    }
  }

  /** The environment the evaluation wrote to the file as it ended (BOOTSTRAP's EXIT trap), if it did. */
  private takeDump(job: Job): void {
    if (this.dump === null) return;
    try {
      const text = this.dump.take(job.nonce);
      if (text === null) return;
      job.rpc.dump = [text];
      job.rpc.dumpKind = 'dump-px';
    } catch (err) {
      if (job.killedFor === null) {
        job.killedFor = 'protocol';
        job.protocolDetail = errorMessage(err);
      }
    }
  }

  private onOutput(chunk: Buffer): void {
    let data = this.outTail.length > 0 ? Buffer.concat([this.outTail, chunk]) : chunk;
    this.outTail = EMPTY;
    while (data.length > 0) {
      const job = this.outJob;
      // Nobody's: output of something an earlier evaluation left running.
      if (job === null) return;
      const atEnd = data.indexOf(job.marker);
      const atDone = job.outEnded ? -1 : data.indexOf(job.doneMarker);
      if (atDone >= 0 && (atEnd < 0 || atDone < atEnd)) {
        job.out.add(data.subarray(0, atDone));
        job.outEnded = true;
        this.finishIfEnded(job);
        data = data.subarray(atDone + job.doneMarker.length);
        continue;
      }
      if (atEnd >= 0) {
        if (!job.outEnded) job.out.add(data.subarray(0, atEnd));
        job.outEnded = true;
        this.outJob = this.job !== null && this.job !== job ? this.job : null;
        this.finishIfEnded(job);
        data = data.subarray(atEnd + job.marker.length);
        continue;
      }
      const keep = Math.min(data.length, job.doneMarker.length - 1);
      if (!job.outEnded) job.out.add(data.subarray(0, data.length - keep));
      this.outTail = Buffer.from(data.subarray(data.length - keep));
      return;
    }
  }

  private finishIfEnded(job: Job): void {
    if (job.status === null || !job.outEnded || this.job !== job) return;
    // Ended on its own markers: the server's zend (and marker) for it are still to come.
    if (!job.ended) this.reaping = job;
    job.done({ code: job.status, signal: null });
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    this.dead = true;
    this.lifeline?.destroy();
    this.closeDump();
    this.child.stdin?.destroy();
    const job = this.job;
    if (job === null) return;
    if (this.outJob === job && !job.outEnded && this.outTail.length > 0) job.out.add(this.outTail);
    job.done(job.status !== null ? { code: job.status, signal: null } : { code: code === 0 ? 1 : code, signal });
  }
}
