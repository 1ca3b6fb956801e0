import { spawnSync } from 'node:child_process';
import {
  chmodSync, closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync,
  readdirSync, readFileSync, readSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { encodeReply, encodeReplyHead, encodeReplyTail, HOOK_VERSION, MAX_HOOK_REQUEST_BYTES } from '../protocol/hook-records.js';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { HookSession, type HookBackend } from './hook-connection.js';
import { pidAlive } from '../util/process.js';
import { userId } from '../config/paths.js';

/**
 * bash's transport. bash cannot open a Unix socket, but it can open a FIFO with `<>`
 * (O_RDWR: never blocks) and wait on it with `read -t`, all builtins. In $RUNDIR:
 *
 *   hook.fifo  registrations, one line each: the path of a shell's `.req` FIFO
 *   hook.pid   pid of the daemon serving them, written once it is; a hook checks it with
 *              `kill -0` (a builtin) and uses `envd export` (which starts a daemon) when
 *              that process is gone, instead of waiting for an answer that cannot come
 *   sh/        0700; per shell `<pid>-<token>.req` and `.res` (FIFOs the shell makes once,
 *              0600), `.out` (a regular file this side makes, 0600) and `.env` (made 0600
 *              with the FIFOs; the shell's exported variables as `declare -px` writes
 *              them, for requests with flag `e`: one builtin instead of a loop over every
 *              variable); all removed once that pid is gone. Everything here is
 *              owner-only whatever the umask.
 *
 * Requests on `.req` are hook records (protocol/hook-records.ts). For each one the daemon
 * writes the whole reply to `.out`, then `d ID\n` to `.res`. The reply goes through a
 * regular file because bash's `read` takes a pipe one byte per read(2) (with `-t`, four
 * system calls a byte: ~4 ms for a 1 KiB answer here) while `mapfile` reads a file in
 * blocks (~20 µs). There is no acknowledgement line: a request still unread after 0.1 s
 * means the daemon is stopped or stuck (bash sees that with `read -t 0` on its own `.req`),
 * a request read means an answer within the budget (`w`, in each answer).
 *
 * Each FIFO is opened O_RDWR|O_NONBLOCK and wrapped in a net.Socket, so libuv polls it
 * with epoll: no threadpool thread is parked in a blocking read per shell.
 */

export type HookLog = ((msg: string) => void) | { warn(msg: string): void };

const PAIR_RE = /^([0-9]{1,10})-([A-Za-z0-9]{1,40})\.(req|res|out|env|stamp)$/;
/** More unread notifications than this on a `.res` and the shell is not reading it. */
const MAX_RES_BACKLOG = 1024 * 1024;
const MAX_PAIRS = 4096;
const MAX_LINE = 4096;


function isPrivate(st: Stats): boolean {
  return st.uid === userId() && (st.mode & 0o077) === 0;
}


function tryUnlink(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}

function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== userId()) throw new Error(`${dir} is not a directory owned by this user`);
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/** Node has no mkfifo(3); the daemon runs mkfifo(1) once at start. */
function makeFifo(path: string): void {
  for (let attempt = 0; ; attempt++) {
    tryUnlink(path);
    const r = spawnSync('mkfifo', ['-m', '600', path], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status === 0) break;
    // A shell's `<>` may have created a plain file in between: take it away and retry.
    if (attempt >= 2) throw new Error(`mkfifo ${path} failed: ${r.error !== undefined ? errorMessage(r.error) : r.stderr.trim()}`);
  }
  const st = lstatSync(path);
  if (!st.isFIFO() || !isPrivate(st)) throw new Error(`${path} is not a private FIFO`);
}

/** Open a FIFO for polling; the inode must be the one checked (no swap in between). */
function openFifo(path: string, checked: Stats): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  const st = fstatSync(fd);
  if (!st.isFIFO() || st.ino !== checked.ino || st.dev !== checked.dev) {
    closeSync(fd);
    throw new Error(`${path} changed while opening it`);
  }
  return fd;
}

function fifoSocket(fd: number, dir: 'read' | 'write'): Socket {
  return new Socket({ fd, readable: dir === 'read', writable: dir === 'write' });
}

class Pair {
  closed = false;

  constructor(
    readonly base: string,
    readonly pid: number,
    private readonly req: Socket,
    private readonly res: Socket,
    private readonly outFd: number,
  ) {}

  /** `a ID MS` / `d ID` on the `.res` FIFO. */
  notify(line: string): void {
    if (this.closed) return;
    this.res.write(line + '\n');
    if (this.res.writableLength > MAX_RES_BACKLOG) this.close(true);
  }

  private outBytes = -1;

  /** The whole reply in `.out`: written in place, then cut to length (no O_TRUNC: ext4 flushes on it). */
  writeOut(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.outFd, buf, off, buf.length - off, off);
    // Only a shorter answer (or the first, over whatever an earlier daemon left) leaves a tail.
    if (this.outBytes < 0 || buf.length < this.outBytes) ftruncateSync(this.outFd, buf.length);
    this.outBytes = buf.length;
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.req.on('data', cb);
  }

  close(unlink: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.req.destroy();
    this.res.destroy();
    try { closeSync(this.outFd); } catch { /* closed */ }
    if (unlink) for (const ext of ['req', 'res', 'out', 'env']) tryUnlink(`${this.base}.${ext}`);
  }
}

export function startFifoTransport(runtimeDir: string, backend: HookBackend, log: HookLog): { close(): Promise<void> } {
  const warn = (msg: string): void => {
    if (typeof log === 'function') log(msg); else log.warn(msg);
  };
  const shDir = join(runtimeDir, 'sh');
  const regPath = join(runtimeDir, 'hook.fifo');
  const pidPath = join(runtimeDir, 'hook.pid');
  ensurePrivateDir(shDir);
  makeFifo(regPath);
  const regStat = lstatSync(regPath);
  const reg = fifoSocket(openFifo(regPath, regStat), 'read');
  const pairs = new Map<string, Pair>();

  const register = (line: string): void => {
    const path = resolve(line);
    const m = PAIR_RE.exec(basename(path));
    if (!line.startsWith('/') || dirname(path) !== shDir || m === null || m[3] !== 'req') {
      warn(`hook registration refused: ${JSON.stringify(line.slice(0, 200))} is not a request FIFO in ${shDir}`);
      return;
    }
    const base = path.slice(0, -'.req'.length);
    if (pairs.get(base)?.closed === false) return;
    if (pairs.size >= MAX_PAIRS) {
      warn(`hook registration refused: already serving ${MAX_PAIRS} shells`);
      return;
    }
    const pid = Number(m[1]);
    let reqFd = -1;
    let resFd = -1;
    let outFd = -1;
    try {
      const reqSt = lstatSync(`${base}.req`);
      const resSt = lstatSync(`${base}.res`);
      for (const st of [reqSt, resSt]) {
        if (!st.isFIFO() || !isPrivate(st)) throw new Error('not a private FIFO');
      }
      reqFd = openFifo(`${base}.req`, reqSt);
      resFd = openFifo(`${base}.res`, resSt);
      outFd = openSync(`${base}.out`, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      const outSt = fstatSync(outFd);
      if (!outSt.isFile() || !isPrivate(outSt) || outSt.nlink !== 1) throw new Error('the .out file is not a private regular file');
    } catch (err) {
      for (const fd of [reqFd, resFd, outFd]) if (fd >= 0) closeSync(fd);
      warn(`hook registration of ${base} refused: ${errorMessage(err)}`);
      return;
    }
    // A shell that made a new pair has given up its old one.
    for (const p of pairs.values()) {
      if (p.pid === pid && p.base !== base) {
        p.close(true);
        pairs.delete(p.base);
      }
    }
    const pair = new Pair(base, pid, fifoSocket(reqFd, 'read'), fifoSocket(resFd, 'write'), outFd);
    pairs.set(base, pair);
    const drop = (unlink: boolean): void => {
      pair.close(unlink);
      if (pairs.get(base) === pair) pairs.delete(base);
    };
    // No acknowledgement line: bash tells a stopped daemon from a busy one by whether its
    // request has been read. The budget goes in the answer (`w`) for the next request.
    let waitMs = 0;
    const session = new HookSession(backend, {
      ack: (_id, ms) => { waitMs = ms; },
      answer: (id, records) => {
        try {
          pair.writeOut(Buffer.concat([encodeReplyHead(id, [{ t: 'w', ms: waitMs }]), encodeReplyTail(id, records)]));
        } catch (err) {
          warn(`cannot write ${base}.out: ${errorMessage(err)}`);
          drop(true);
          return;
        }
        pair.notify(`d ${id}`);
      },
      refuse: (id) => {
        try { pair.writeOut(encodeReply(id, [{ t: 'v', version: HOOK_VERSION }])); } catch { /* dropped below */ }
        pair.notify(`d ${id}`);
        // The rest of that request cannot be parsed: the shell makes a new pair next time.
        setImmediate(() => drop(true));
      },
      end: () => drop(false),
      fail: (err) => {
        warn(`hook stream ${basename(base)} closed: ${errorMessage(err)}`);
        drop(true);
      },
    }, () => readEnvFile(base));
    pair.onData((chunk) => session.push(chunk));
  };

  /** The shell's `.env`: a regular file in sh/ (never followed through a link). */
  const readEnvFile = (base: string): Buffer => {
    const fd = openSync(`${base}.env`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.uid !== userId()) throw new Error(`${base}.env is not a regular file of this user`);
      // The hook makes it 0600; one from an older hook has the shell's umask (0664 under
      // umask 002). sh/ (0700) keeps others out either way; this makes the file private too.
      if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      if (st.size > MAX_HOOK_REQUEST_BYTES) throw new Error(`${base}.env is over ${MAX_HOOK_REQUEST_BYTES} bytes`);
      const buf = Buffer.alloc(st.size);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, off);
        if (n === 0) break;
        off += n;
      }
      return buf.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  };

  let lineBuf = '';
  reg.setEncoding('utf8');
  reg.on('data', (chunk: string) => {
    lineBuf += chunk;
    let nl: number;
    while ((nl = lineBuf.indexOf('\n')) !== -1) {
      const line = lineBuf.slice(0, nl);
      lineBuf = lineBuf.slice(nl + 1);
      if (line !== '') {
        // A new shell is the moment to drop the pairs of shells that are gone (no timer:
        // an idle daemon wakes for nothing).
        cleanup();
        register(line);
      }
    }
    if (lineBuf.length > MAX_LINE) lineBuf = '';
  });
  reg.on('error', (err) => warn(`hook.fifo: ${errorMessage(err)}`));

  /** Pairs of shells that are gone: closed and removed. */
  const cleanup = (): void => {
    let names: string[];
    try {
      names = readdirSync(shDir);
    } catch {
      return;
    }
    const alive = new Map<number, boolean>();
    for (const name of names) {
      const m = PAIR_RE.exec(name);
      if (m === null) continue;
      const pid = Number(m[1]);
      let ok = alive.get(pid);
      if (ok === undefined) {
        ok = pidAlive(pid);
        alive.set(pid, ok);
      }
      if (ok) continue;
      const base = join(shDir, `${m[1]}-${m[2]}`);
      const p = pairs.get(base);
      if (p !== undefined) {
        p.close(false);
        pairs.delete(base);
      }
      tryUnlink(join(shDir, name));
    }
  };
  cleanup();

  // Last: hooks use the FIFOs only once this names a live process.
  writeFileAtomic(pidPath, `${process.pid}\n`, 0o600);

  return {
    close: async () => {
      reg.destroy();
      for (const p of pairs.values()) p.close(false);
      pairs.clear();
      try {
        if (Number.parseInt(readFileSync(pidPath, 'utf8'), 10) === process.pid) tryUnlink(pidPath);
      } catch { /* gone */ }
      try {
        if (lstatSync(regPath).ino === regStat.ino) tryUnlink(regPath);
      } catch { /* gone */ }
    },
  };
}
