/**
 * Hook clients for the bursts, each a zsh process on its own kept connection to the
 * daemon's socket, sending and reading exactly as the zsh hook does (zsocket, syswrite,
 * sysread until the closing `z` record; shells/zsh/hook.zsh). Each client's state (its
 * environment, the env file it last found, its request ids) is a HookClient in the bench:
 * the bench encodes each request before the round (a shell has its request ready when its
 * prompt comes) and decodes and applies each reply after it.
 *
 * Why processes: the time of a burst is the daemon's and the clients' CPU on the
 * machine's cores. A client in a Node worker thread (the bench until 2026-12-07) spent
 * 200-450 µs of CPU on each request of a burst (a cold V8 isolate waking from Atomics.wait,
 * Node's streams, promises and timers): fifty of them took three to four times the
 * daemon's CPU and made most of the p99. A zsh waking at its barrier, writing and reading
 * spends what a shell's hook spends on the transport. Each client's CPU in the timed window
 * (schedstat) is returned with its time, so the bench can report what the clients cost.
 *
 * A round: the bench writes each client's request to its files and sends `l` (load) down
 * its barrier FIFO; the client reads them and says `ready`. Then `r` to each (the
 * release): the client writes the request, reads the reply whole, and says `done NS`.
 * Then `w`: it writes the reply to its file and says `wrote`. Every client says its
 * lines into one FIFO, which the bench reads without its event loop (burst). Importing
 * this module starts nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { HookRecord } from '../protocol/hook-records.js';
import { HookClient, type HookClientOptions } from './hook-client.js';
import { cpuNsOrNull } from './proc-cpu.js';

export interface PoolAnswer {
  /** Microseconds from the client's write to the last byte of its reply. */
  us: number;
  /** The client's exported environment after applying the answer. */
  env: Record<string, string>;
  /** The client process's CPU time from its release to its reply (schedstat), or null. */
  cpuNs: number | null;
}

/** A phase of a round that takes longer than this has lost a client: fail rather than hang. */
const PHASE_TIMEOUT_MS = 60_000;

/**
 * The client: $1 the socket, $2 its directory (go: the barrier FIFO, req: the request,
 * id: its id, rep: the reply), $3 its number, $4 the FIFO it says its lines into. Times are taken from $epochtime (seconds, nanoseconds) around the
 * write and the read; a connection the daemon closed meanwhile is opened again and the
 * request sent once more, as the hook does.
 */
const CLIENT = String.raw`
emulate -R zsh
zmodload zsh/net/socket zsh/system zsh/datetime || exit 1
trap '' PIPE
sock=$1 dir=$2 me=$3 fd= req= id= rep= c= cmd= rs=
integer rc t0 t1 tries
# Read-only: when the bench (its one writer) is gone, the read ends and so does the client.
exec {go}<$dir/go {out}>>$4
# No function calls on the timed path (each pushes a heap in zsh): the loop inline.
say() { syswrite -o $out -- "$me $1"$'\n' }
while sysread -i $go -s 1 cmd; do
  case $cmd in
    (l) exec {f}<$dir/req
        req=
        while sysread -i $f -s 1048576 c; do req+=$c; done
        exec {f}<&-
        exec {f}<$dir/id
        sysread -i $f id
        exec {f}<&-
        say ready ;;
    (r) rc=2 tries=0
        while (( rc == 2 && tries++ < 2 )); do
          t0=$(( epochtime[1] * 1000000000 + epochtime[2] ))
          rc=0 rep= rs=8192
          if [[ -z $fd ]]; then zsocket $sock 2>/dev/null && fd=$REPLY || rc=2; fi
          (( rc == 0 )) && { syswrite -o $fd -- $req || rc=2 }
          while (( rc == 0 )) && [[ $rep != *$'\0'z$'\0'$id$'\0' ]]; do
            sysread -i $fd -s $rs c && rep+=$c rs=65536 || rc=2
          done
          t1=$(( epochtime[1] * 1000000000 + epochtime[2] ))
          # Closed by the daemon (idle, restarted): once more on a new connection.
          if (( rc == 2 )) && [[ -n $fd ]]; then exec {fd}>&-; fd=; fi
        done
        if (( rc == 0 )); then syswrite -o $out -- "$me done $(( t1 - t0 ))"$'\n'
        else say "error: no answer to $id"; fi ;;
    (w) print -rn -- $rep > $dir/rep
        say wrote ;;
    (q) exit 0 ;;
  esac
done
`;

interface Client {
  state: HookClient;
  proc: ChildProcess;
  dir: string;
  go: number;
  exited: string | null;
}

/** How often the bench looks for the clients' lines while it waits (it wakes for nothing else). */
const POLL_MS = 1;

export class ZshClientPool {
  private readonly clients: Client[] = [];
  /** The FIFO every client writes its lines to (one write each: they never interleave). */
  private readonly lines: number;
  private buffered = '';
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));

  /** `count` clients on `socket`, client i tagged `${tag}${i}`, each with its own copy of `env`; `root`: a directory for their files. */
  constructor(socket: string, env: Record<string, string>, tag: string, count: number, private readonly root: string, opts: HookClientOptions = {}) {
    mkdirSync(root, { recursive: true });
    const linesFifo = join(root, 'lines');
    ZshClientPool.mkfifo(linesFifo);
    // Read-write and non-blocking: opening waits for no client, reading for no line.
    this.lines = openSync(linesFifo, constants.O_RDWR | constants.O_NONBLOCK);
    for (let i = 0; i < count; i++) {
      const dir = join(root, `${tag}${i}`);
      mkdirSync(dir, { recursive: true });
      const fifo = join(dir, 'go');
      ZshClientPool.mkfifo(fifo);
      const go = openSync(fifo, constants.O_RDWR);
      const proc = spawn('zsh', ['-f', '-c', CLIENT, 'zsh', socket, dir, String(i), linesFifo], { stdio: 'ignore' });
      const c: Client = { state: new HookClient(socket, env, `${tag}${i}`, opts), proc, dir, go, exited: null };
      proc.on('exit', (code, signal) => { c.exited = `client ${tag}${i} exited (${signal ?? code ?? '?'})`; });
      proc.on('error', (err) => { c.exited = `client ${tag}${i}: ${err.message}`; });
      this.clients.push(c);
    }
  }

  private static mkfifo(path: string): void {
    const made = spawnSync('mkfifo', ['-m', '600', path]);
    if (made.status !== 0) throw new Error(`mkfifo ${path} failed`);
  }

  /** Client i asks from `cwd` on its own (on the bench's connection for it, not timed). */
  async ask(i: number, cwd: string): Promise<PoolAnswer & { records: HookRecord[] }> {
    const c = this.client(i);
    const a = await c.state.ask(cwd);
    return { us: a.us, env: c.state.env, cpuNs: null, records: a.records };
  }

  /**
   * Every client asks from its cwd at once: released at its barrier one after another
   * with nothing in between. The bench's thread then sleeps, looking for the clients'
   * lines every millisecond (no event loop: fifty replies do not wake it fifty times).
   */
  burst(cwds: readonly string[]): Promise<PoolAnswer[]> {
    if (cwds.length !== this.clients.length) return Promise.reject(new Error(`${cwds.length} directories for ${this.clients.length} clients`));
    try {
      const pending = this.clients.map((c, i) => {
        const req = c.state.prepare(cwds[i] ?? '/');
        writeFileSync(join(c.dir, 'req'), req.bytes);
        writeFileSync(join(c.dir, 'id'), req.id);
        return req;
      });
      this.phase('l', 'ready');
      const cpu0 = this.clients.map((c) => cpuNsOrNull(c.proc.pid));
      const done = this.phase('r', 'done ');
      const cpu1 = this.clients.map((c) => cpuNsOrNull(c.proc.pid));
      this.phase('w', 'wrote');
      return Promise.resolve(this.clients.map((c, i) => {
        const req = pending[i];
        if (req === undefined) throw new Error(`client ${i}: no request`);
        const us = Number((done[i] ?? '').slice('done '.length)) / 1000;
        const a = c.state.settle(req, { reply: readFileSync(join(c.dir, 'rep')), us });
        const before = cpu0[i] ?? null;
        const after = cpu1[i] ?? null;
        return { us: a.us, env: c.state.env, cpuNs: before !== null && after !== null ? after - before : null };
      }));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map(async (c) => {
      c.state.close();
      if (c.exited === null) {
        const gone = new Promise<void>((resolve) => { c.proc.once('exit', () => resolve()); });
        try { writeSync(c.go, 'q'); } catch { c.proc.kill(); }
        const timer = setTimeout(() => c.proc.kill(), 2000);
        await gone;
        clearTimeout(timer);
      }
      closeSync(c.go);
    }));
    closeSync(this.lines);
    rmSync(this.root, { recursive: true, force: true });
  }

  private client(i: number): Client {
    const c = this.clients[i];
    if (c === undefined) throw new Error(`no client ${i}`);
    return c;
  }

  /** Send `cmd` to every client, one after another; each one's line, which must start with `want`. */
  private phase(cmd: string, want: string): string[] {
    for (const c of this.clients) writeSync(c.go, cmd);
    const got: Array<string | undefined> = new Array<string | undefined>(this.clients.length);
    let left = this.clients.length;
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    const chunk = Buffer.alloc(65536);
    while (left > 0) {
      let n = 0;
      try {
        n = readSync(this.lines, chunk, 0, chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n === 0) {
        const lost = this.clients.find((c) => c.exited !== null);
        if (lost !== undefined) throw new Error(lost.exited ?? 'a client exited');
        if (Date.now() > deadline) throw new Error(`${left} clients said nothing within ${PHASE_TIMEOUT_MS} ms of '${cmd}'`);
        Atomics.wait(this.nap, 0, 0, POLL_MS);
        continue;
      }
      this.buffered += chunk.toString('latin1', 0, n);
      for (let nl = this.buffered.indexOf('\n'); nl !== -1; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const sp = line.indexOf(' ');
        const i = Number(line.slice(0, sp));
        const text = line.slice(sp + 1);
        if (!Number.isInteger(i) || i < 0 || i >= got.length || got[i] !== undefined) throw new Error(`a client said '${line}'`);
        if (!text.startsWith(want)) throw new Error(`client ${i}: ${text}`);
        got[i] = text;
        left--;
      }
    }
    return got.map((l) => l ?? '');
  }
}
