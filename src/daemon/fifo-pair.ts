import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, writeSync, type Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { basename } from 'node:path';
import { encodeReply, encodeReplyHead, encodeReplyTail, HOOK_VERSION, withRecordSeparator } from '../protocol/hook-records.js';
import { errorMessage } from '../util/errors.js';
import type { HookBackend } from './backend.js';
import { fifoSocket, isPrivate, openFifo, readEnvFile, tryUnlink, type FileId } from './fifo-files.js';
import { HookSession } from './hook-session.js';

/** More unread notifications than this on a `.res` and the shell is not reading it. */
const MAX_RES_BACKLOG = 1024 * 1024;

/** One bash shell's `.req`/`.res` FIFOs and `.out` file, opened and checked (see fifo.ts). */
export class Pair {
  closed = false;
  private outBytes = -1;

  private constructor(
    readonly base: string,
    readonly pid: number,
    /** The `.req` FIFO this pair reads, as opened (door-env.ts checks who holds it). */
    readonly reqFile: FileId,
    private readonly req: Socket,
    private readonly res: Socket,
    /** The descriptor `res` wraps (owned by it: written to only while it is not destroyed). */
    private readonly resFd: number,
    private readonly outFd: number,
  ) {}

  /** Open the pair at BASE (`sh/<pid>-<token>`); throws with the reason it is refused. */
  static open(base: string, pid: number): Pair {
    let reqFd = -1;
    let resFd = -1;
    let outFd = -1;
    let reqSt: Stats;
    try {
      reqSt = lstatSync(`${base}.req`);
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
      throw err;
    }
    return new Pair(base, pid, { ino: reqSt.ino, dev: reqSt.dev }, fifoSocket(reqFd, 'read'), fifoSocket(resFd, 'write'), resFd, outFd);
  }

  /** `d ID` on the `.res` FIFO. */
  notify(line: string): void {
    if (this.closed) return;
    let bytes = Buffer.from(line + '\n');
    // Straight into the FIFO when nothing is queued before it: a line is far below
    // PIPE_BUF, so the write is whole or EAGAIN (a full pipe: then queued as before). The
    // stream's write machinery was 7% of the daemon's CPU for a front-door request.
    if (this.res.writableLength === 0 && !this.res.destroyed && bytes.length < 512) {
      try {
        const n = writeSync(this.resFd, bytes);
        if (n === bytes.length) return;
        bytes = bytes.subarray(n);
      } catch {
        // EAGAIN (or anything else): the stream takes it and reports what is wrong.
      }
    }
    this.res.write(bytes);
    if (this.res.writableLength > MAX_RES_BACKLOG) this.close(true);
  }

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
    if (unlink) for (const ext of ['req', 'res', 'out', 'env', 'wd']) tryUnlink(`${this.base}.${ext}`);
  }
}

/**
 * Answer the hook requests that arrive on PAIR: each reply goes whole to `.out`, then
 * `d ID` to `.res`. `drop` forgets the pair (removing its files when asked to); `answered`
 * is called after each answer (door-pairs.ts frees its slot then); `envFile` reads a request's
 * environment (the pair's `.env`; door-env.ts for a door pair).
 */
export function servePair(
  pair: Pair, backend: HookBackend, warn: (msg: string) => void, drop: (unlink: boolean) => void, answered?: () => void,
  envFile: () => Buffer = () => readEnvFile(pair.base),
): void {
  // No acknowledgement line: bash tells a stopped daemon from a busy one by whether its
  // request has been read. The budget goes in the answer (`w`) for the next request.
  let waitMs = 0;
  const send = (id: string, reply: Buffer, flags: string): void => {
    try {
      // Flag `s` (the fish hook): fields ended by RS, when none holds one (hook-reply.ts).
      pair.writeOut(flags.includes('s') ? withRecordSeparator(reply) : reply);
    } catch (err) {
      warn(`cannot write ${pair.base}.out: ${errorMessage(err)}`);
      drop(true);
      return;
    }
    pair.notify(`d ${id}`);
    answered?.();
  };
  const session = new HookSession(backend, {
    ack: (_id, ms) => { waitMs = ms; },
    answer: (id, records, flags) => { send(id, Buffer.concat([encodeReplyHead(id, [{ t: 'w', ms: waitMs }]), encodeReplyTail(id, records)]), flags); },
    // A kept reply (hook-replay.ts): the front door's requests (flag `E`) are looked up by
    // their bytes and their `.env` file.
    whole: send,
    refuse: (id) => {
      try { pair.writeOut(encodeReply(id, [{ t: 'v', version: HOOK_VERSION }])); } catch { /* dropped below */ }
      pair.notify(`d ${id}`);
      // The rest of that request cannot be parsed: the shell makes a new pair next time.
      setImmediate(() => drop(true));
    },
    end: () => drop(false),
    fail: (err) => {
      warn(`hook stream ${basename(pair.base)} closed: ${errorMessage(err)}`);
      drop(true);
    },
  }, envFile);
  pair.onData((chunk) => session.push(chunk));
}
