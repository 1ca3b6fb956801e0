import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';
import { pidAlive } from '../util/process.js';
import type { HookBackend } from './backend.js';
import type { Component } from './components.js';
import { ensurePrivateDir, fifoSocket, makeFifo, openFifo, PAIR_RE, tryUnlink } from './fifo-files.js';
import { Pair, servePair } from './fifo-pair.js';
import { DoorPairs } from './door-pairs.js';

/**
 * bash's transport. bash cannot open a Unix socket, but it can open a FIFO with `<>`
 * (O_RDWR: never blocks) and wait on it with `read -t`, all builtins. In $RUNDIR:
 *
 *   hook.fifo  registrations, one line each: the path of a shell's `.req` FIFO (or
 *              `doors`: make the front door's pairs, door-pairs.ts)
 *   hook.pid   pid of the daemon serving them, written once it is; a hook checks it with
 *              `kill -0` (a builtin) and uses `envd export` (which starts a daemon) when
 *              that process is gone, instead of waiting for an answer that cannot come
 *   sh/        0700; per shell `<pid>-<token>.req` and `.res` (FIFOs the shell makes once,
 *              0600), `.out` (a regular file this side makes, 0600) and `.env` (made 0600
 *              with the FIFOs; the shell's exported variables as `declare -px` writes
 *              them, for requests with flag `e`: one builtin instead of a loop over every
 *              variable); all removed once that pid is gone. Everything here is
 *              owner-only whatever the umask. fish's pairs (shells/fish/hook.fish) have
 *              no `.env` but a `.wd` FIFO to the shell's watchdog, which the daemon
 *              never opens (it only removes it with the rest).
 *
 * fish uses the same pairs: its watchdog (a bash per shell) registers them and holds the
 * FIFOs open, and answers in the daemon's place when the daemon cannot.
 *
 * Requests on `.req` are hook records (protocol/hook-records.ts). For each one the daemon
 * writes the whole reply to `.out` (for flag `s`, fish's, with RS ending each field
 * instead of NUL when no field holds one: hook-reply.ts withRecordSeparator), then
 * `d ID\n` to `.res`. The reply goes through a regular file because bash's `read` takes
 * a pipe one byte per read(2) (with `-t`, four system calls a byte: ~4 ms for a 1 KiB
 * answer here) while `mapfile` reads a file in blocks (~20 µs). There is no
 * acknowledgement line: a request still unread after 0.1 s
 * means the daemon is stopped or stuck (bash sees that with `read -t 0` on its own `.req`),
 * a request read means an answer within the budget (`w`, in each answer).
 *
 * Each FIFO is opened O_RDWR|O_NONBLOCK and wrapped in a net.Socket, so libuv polls it
 * with epoll: no threadpool thread is parked in a blocking read per shell.
 */

export type HookLog = ((msg: string) => void) | { warn(msg: string): void };

const MAX_PAIRS = 4096;
const MAX_LINE = 4096;

/**
 * The FIFO transport as a daemon component: start makes `hook.fifo` and reads
 * registrations from it, stop closes every pair and removes what this daemon made.
 */
export class FifoTransport implements Component {
  readonly name = 'fifo transport';
  private readonly shDir: string;
  private readonly regPath: string;
  private readonly pidPath: string;
  private reg: Socket | null = null;
  private regStat: Stats | null = null;
  private readonly pairs = new Map<string, Pair>();
  private lineBuf = '';
  private readonly warn: (msg: string) => void;
  /** The front door's pairs (door-pairs.ts). */
  private readonly doors: DoorPairs;

  constructor(runtimeDir: string, private readonly backend: HookBackend, log: HookLog) {
    this.shDir = join(runtimeDir, 'sh');
    this.regPath = join(runtimeDir, 'hook.fifo');
    this.pidPath = join(runtimeDir, 'hook.pid');
    this.warn = typeof log === 'function' ? log : (msg) => log.warn(msg);
    this.doors = new DoorPairs(this.shDir, backend, this.warn);
  }

  start(): void {
    ensurePrivateDir(this.shDir);
    makeFifo(this.regPath);
    const regStat = lstatSync(this.regPath);
    this.regStat = regStat;
    const reg = fifoSocket(openFifo(this.regPath, regStat), 'read');
    this.reg = reg;
    reg.setEncoding('utf8');
    reg.on('data', (chunk: string) => this.onRegistrations(chunk));
    reg.on('error', (err) => this.warn(`hook.fifo: ${errorMessage(err)}`));
    this.sweep();
    this.doors.serveExisting();
    // Last: hooks use the FIFOs only once this names a live process.
    writeFileAtomic(this.pidPath, `${process.pid}\n`, 0o600);
  }

  stop(): void {
    this.reg?.destroy();
    this.doors.close();
    for (const p of this.pairs.values()) p.close(false);
    this.pairs.clear();
    try {
      if (Number.parseInt(readFileSync(this.pidPath, 'utf8'), 10) === process.pid) tryUnlink(this.pidPath);
    } catch { /* gone */ }
    try {
      if (this.regStat !== null && lstatSync(this.regPath).ino === this.regStat.ino) tryUnlink(this.regPath);
    } catch { /* gone */ }
  }

  /** `hook.fifo` delivers lines, each the path of a shell's `.req` FIFO. */
  private onRegistrations(chunk: string): void {
    this.lineBuf += chunk;
    let nl: number;
    while ((nl = this.lineBuf.indexOf('\n')) !== -1) {
      const line = this.lineBuf.slice(0, nl);
      this.lineBuf = this.lineBuf.slice(nl + 1);
      if (line === 'doors') {
        // A front door found no pair of door-pairs.ts to use: make them.
        this.doors.ensure();
      } else if (line !== '') {
        // A new shell is the moment to drop the pairs of shells that are gone (no timer:
        // an idle daemon wakes for nothing).
        this.sweep();
        this.register(line);
      }
    }
    if (this.lineBuf.length > MAX_LINE) this.lineBuf = '';
  }

  private register(line: string): void {
    const path = resolve(line);
    const m = PAIR_RE.exec(basename(path));
    if (!line.startsWith('/') || dirname(path) !== this.shDir || m === null || m[3] !== 'req') {
      this.warn(`hook registration refused: ${JSON.stringify(line.slice(0, 200))} is not a request FIFO in ${this.shDir}`);
      return;
    }
    const base = path.slice(0, -'.req'.length);
    if (this.pairs.get(base)?.closed === false) return;
    if (this.pairs.size >= MAX_PAIRS) {
      this.warn(`hook registration refused: already serving ${MAX_PAIRS} shells`);
      return;
    }
    const pid = Number(m[1]);
    let pair: Pair;
    try {
      pair = Pair.open(base, pid);
    } catch (err) {
      this.warn(`hook registration of ${base} refused: ${errorMessage(err)}`);
      return;
    }
    // A shell that made a new pair has given up its old one.
    for (const p of this.pairs.values()) {
      if (p.pid === pid && p.base !== base) {
        p.close(true);
        this.pairs.delete(p.base);
      }
    }
    this.pairs.set(base, pair);
    servePair(pair, this.backend, this.warn, (unlink) => {
      pair.close(unlink);
      if (this.pairs.get(base) === pair) this.pairs.delete(base);
    });
  }

  /** Pairs of shells that are gone: closed and removed. */
  private sweep(): void {
    let names: string[];
    try {
      names = readdirSync(this.shDir);
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
      const base = join(this.shDir, `${m[1]}-${m[2]}`);
      const p = this.pairs.get(base);
      if (p !== undefined) {
        p.close(false);
        this.pairs.delete(base);
      }
      tryUnlink(join(this.shDir, name));
    }
  }
}

/** Start the FIFO transport now (tests, and anything outside the daemon's component list). */
export function startFifoTransport(runtimeDir: string, backend: HookBackend, log: HookLog): { close(): Promise<void> } {
  const t = new FifoTransport(runtimeDir, backend, log);
  t.start();
  return { close: () => { t.stop(); return Promise.resolve(); } };
}
