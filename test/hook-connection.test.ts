import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HookBackend } from '../src/daemon/backend.js';
import { startFifoTransport } from '../src/daemon/fifo.js';
import { serveHookStream } from '../src/daemon/hook-connection.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../src/engine/types.js';
import { decodeReply, encodeRequest, type HookRecord } from '../src/protocol/hook-records.js';

interface FakeBackend extends HookBackend {
  calls: Array<{ req: ExportRequest; opts: ExportOptions }>;
  gen: number;
}

function fakeBackend(answer?: (req: ExportRequest) => Promise<ExportOutcome> | ExportOutcome): FakeBackend {
  const b: FakeBackend = {
    calls: [],
    gen: 42,
    export: async (req, opts) => {
      b.calls.push({ req, opts });
      if (answer !== undefined) return answer(req);
      return { kind: 'loaded', change: { set: { A: req.env.IN ?? 'none' }, unset: ['B'] }, messages: ['envd: hi'], file: null };
    },
    generation: () => b.gen,
    budgetMs: () => 150,
    markers: () => ['.envrc', '.env'],
  };
  return b;
}

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ev-hc-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

function listen(backend: HookBackend): Promise<{ server: Server; path: string }> {
  const path = join(dir, 's.sock');
  const server = createServer({ allowHalfOpen: false }, (s) => serveHookStream(s, s, backend));
  return new Promise((resolve) => server.listen(path, () => resolve({ server, path })));
}

/** Connect, send, and collect everything until the daemon closes or `until` says stop. */
function exchange(path: string, data: Buffer, opts: { halfClose?: boolean; until?: (b: Buffer) => boolean } = {}): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { c.destroy(); resolve({ bytes: Buffer.concat(chunks), closed: false }); }, 3000);
    c.on('connect', () => { c.write(data); if (opts.halfClose === true) c.end(); });
    c.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.until?.(Buffer.concat(chunks)) === true) { clearTimeout(timer); c.destroy(); resolve({ bytes: Buffer.concat(chunks), closed: false }); }
    });
    c.on('close', () => { clearTimeout(timer); resolve({ bytes: Buffer.concat(chunks), closed: true }); });
    c.on('error', reject);
  });
}

const req = (id: string, env: Array<[string, string]> = [['IN', 'x']]): Buffer => encodeRequest({ id, shell: 'bash', cwd: '/tmp' }, env);

function completeRecords(bytes: Buffer, id: string): HookRecord[] {
  const d = decodeReply(bytes, id);
  if (d.status !== 'complete') throw new Error(`reply ${id} is ${d.status}: ${JSON.stringify(bytes.toString())}`);
  return d.records;
}

describe('serveHookStream (socket)', () => {
  it('acknowledges with the budget, then answers with records, markers and the generation read before evaluating', async () => {
    const b = fakeBackend(async (r) => {
      b.gen = 43; // an evaluation that bumps the generation while it runs
      return { kind: 'loaded', change: { set: { A: r.env.IN ?? '' }, unset: [] }, messages: [], file: null };
    });
    const { server, path } = await listen(b);
    try {
      const { bytes, closed } = await exchange(path, req('1'), { halfClose: true });
      expect(closed).toBe(true);
      expect(completeRecords(bytes, '1')).toEqual([
        { t: 'w', ms: 150 },
        { t: 'x', name: 'A', value: 'x' },
        { t: 'k', markers: ['.envrc', '.env'] },
        { t: 'g', generation: 42 },
      ]);
      expect(b.calls[0]?.opts.budgetMs).toBe(150);
      expect(b.calls[0]?.req.cwd).toBe('/tmp');
    } finally {
      server.close();
    }
  });

  it('sends the acknowledgement before the evaluation finishes', async () => {
    let release: () => void = () => {};
    const b = fakeBackend(() => new Promise((resolve) => { release = () => resolve({ kind: 'noop', change: { set: {}, unset: [] }, messages: [], file: null }); }));
    const { server, path } = await listen(b);
    try {
      const started = Date.now();
      const first = await exchange(path, req('9'), { until: (buf) => buf.includes(Buffer.from('w\u0000150\u0000')) });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(first.bytes.toString()).toBe('ENVD-HOOK\u00001\u00009\u0000w\u0000150\u0000');
      release();
    } finally {
      server.close();
    }
  });

  it('answers several requests on one connection, in order', async () => {
    const { server, path } = await listen(fakeBackend());
    try {
      const { bytes } = await exchange(path, Buffer.concat([req('1', [['IN', 'a']]), req('2', [['IN', 'b']])]), { halfClose: true });
      const one = decodeReply(bytes, '1');
      expect(one.status).toBe('complete');
      if (one.status !== 'complete') return;
      expect(one.records).toContainEqual({ t: 'x', name: 'A', value: 'a' });
      expect(completeRecords(bytes.subarray(one.bytes), '2')).toContainEqual({ t: 'x', name: 'A', value: 'b' });
    } finally {
      server.close();
    }
  });

  it('answers `v` to a version it does not speak, and closes', async () => {
    const { server, path } = await listen(fakeBackend());
    try {
      const { bytes, closed } = await exchange(path, encodeRequest({ version: 2, id: '5', shell: 'zsh', cwd: '/' }, [['A', 'b']]));
      expect(closed).toBe(true);
      expect(completeRecords(bytes, '5')).toEqual([{ t: 'v', version: 1 }]);
    } finally {
      server.close();
    }
  });

  it('answers `v` (use the CLI) to a request from another identity, without evaluating', async () => {
    const b = fakeBackend();
    b.foreign = (env) => (env.HOME === '/home/other' ? 'HOME /home/other' : null);
    const { server, path } = await listen(b);
    try {
      const { bytes } = await exchange(path, req('3', [['HOME', '/home/other']]), { halfClose: true });
      expect(completeRecords(bytes, '3')).toEqual([{ t: 'w', ms: 150 }, { t: 'v', version: 1 }]);
      expect(b.calls).toHaveLength(0);
      const own = await exchange(path, req('4', [['HOME', '/home/me'], ['IN', 'y']]), { halfClose: true });
      expect(completeRecords(own.bytes, '4')).toContainEqual({ t: 'x', name: 'A', value: 'y' });
    } finally {
      server.close();
    }
  });

  it('closes a connection that sends garbage, and only that one', async () => {
    const { server, path } = await listen(fakeBackend());
    try {
      const bad = await exchange(path, Buffer.from('ENVD-HOOK\u0000one\u0000'));
      expect(bad.closed).toBe(true);
      expect(bad.bytes.length).toBe(0);
      const good = await exchange(path, req('3'), { halfClose: true });
      expect(completeRecords(good.bytes, '3').length).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });

  it('refuses flag e (environment in a file) on a socket: there is no file', async () => {
    const { server, path } = await listen(fakeBackend());
    try {
      const r = await exchange(path, encodeRequest({ id: '2', shell: 'bash', flags: 'e', cwd: '/' }, []));
      expect(r.closed).toBe(true);
      expect(decodeReply(r.bytes, '2').status).not.toBe('complete');
    } finally {
      server.close();
    }
  });

  it('a failing backend becomes a message, not a dropped connection', async () => {
    const b = fakeBackend(() => { throw new Error('envd: the engine broke'); });
    const { server, path } = await listen(b);
    try {
      const { bytes } = await exchange(path, req('4'), { halfClose: true });
      expect(completeRecords(bytes, '4')).toContainEqual({ t: 'm', text: 'envd: the engine broke' });
    } finally {
      server.close();
    }
  });

  it('works with `nc -U -N` (fish\'s transport): the half-closed socket still gets its answer', async () => {
    const nc = spawnSync('sh', ['-c', 'command -v nc']);
    if (nc.status !== 0) return;
    const { server, path } = await listen(fakeBackend());
    try {
      const out = await new Promise<Buffer>((resolve) => {
        const p = spawn('timeout', ['5', 'nc', '-U', '-N', path], { stdio: ['pipe', 'pipe', 'ignore'] });
        const chunks: Buffer[] = [];
        p.stdout.on('data', (d: Buffer) => chunks.push(d));
        p.on('close', () => resolve(Buffer.concat(chunks)));
        p.stdin.end(req('6'));
      });
      expect(completeRecords(out, '6')).toContainEqual({ t: 'x', name: 'A', value: 'x' });
    } finally {
      server.close();
    }
  });
});

// ---- the bash FIFO transport -------------------------------------------------------------

function mkfifo(...paths: string[]): void {
  const r = spawnSync('mkfifo', ['-m', '600', ...paths]);
  if (r.status !== 0) throw new Error('mkfifo failed');
}

/** A shell's side of a pair, in Node: write requests, read `a`/`d` lines, read `.out`. */
class FifoClient {
  private readonly res: Socket;
  private lines: string[] = [];
  private buf = '';
  private waiters: Array<() => void> = [];
  private readonly reqFd: number;

  constructor(readonly base: string) {
    this.reqFd = openSync(`${base}.req`, constants.O_RDWR | constants.O_NONBLOCK);
    this.res = new Socket({ fd: openSync(`${base}.res`, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    this.res.setEncoding('utf8');
    this.res.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(data: Buffer): void {
    writeSync(this.reqFd, data);
  }

  async line(timeoutMs = 3000): Promise<string | null> {
    const end = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > end) return null;
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 50); });
    }
    return this.lines.shift() ?? null;
  }

  out(): Buffer {
    return readFileSync(`${this.base}.out`);
  }

  close(): void {
    this.res.destroy();
  }
}

describe('startFifoTransport (bash)', () => {
  let run: string;
  let sh: string;
  const closers: Array<() => Promise<void>> = [];
  const warnings: string[] = [];
  const start = (b: HookBackend): void => {
    const t = startFifoTransport(run, b, (m) => warnings.push(m));
    closers.push(() => t.close());
  };
  const register = (line: string): void => {
    const fd = openSync(join(run, 'hook.fifo'), constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(fd, line + '\n');
  };
  /** Live processes whose pids name pairs (one pair per shell pid is served at a time). */
  const sleepers: Array<{ pid: number; kill: () => void }> = [];
  const livePid = (): number => {
    const p = spawn('sleep', ['60'], { stdio: 'ignore' });
    sleepers.push({ pid: p.pid ?? 0, kill: () => p.kill() });
    return p.pid ?? 0;
  };
  const newPair = (name = `${process.pid}-a1`): string => {
    const base = join(sh, name);
    mkfifo(`${base}.req`, `${base}.res`);
    return base;
  };

  beforeEach(() => {
    run = join(dir, 'run');
    mkdirSync(run, { mode: 0o700 });
    sh = join(run, 'sh');
    warnings.length = 0;
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    for (const s of sleepers.splice(0)) s.kill();
  });

  it('makes hook.fifo (a private FIFO), sh/ (0700) and hook.pid (this process)', () => {
    start(fakeBackend());
    const st = spawnSync('stat', ['-c', '%F %a', join(run, 'hook.fifo'), sh], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(st).toEqual(['fifo 600', 'directory 700']);
    expect(readFileSync(join(run, 'hook.pid'), 'utf8').trim()).toBe(String(process.pid));
  });

  it('serves a registered pair: the reply (with the budget, `w`) in .out, then `d ID`', async () => {
    start(fakeBackend());
    const base = newPair();
    register(`${base}.req`);
    const c = new FifoClient(base);
    try {
      c.send(req('17', [['IN', 'from-fifo']]));
      expect(await c.line()).toBe('d 17');
      const first = completeRecords(c.out(), '17');
      expect(first[0]).toEqual({ t: 'w', ms: 150 });
      expect(first).toContainEqual({ t: 'x', name: 'A', value: 'from-fifo' });
      // A shorter second answer leaves no tail of the first in .out.
      c.send(req('18', [['IN', 'y']]));
      expect(await c.line()).toBe('d 18');
      const out = c.out();
      expect(completeRecords(out, '18')).toContainEqual({ t: 'x', name: 'A', value: 'y' });
      expect(decodeReply(out, '18').status === 'complete' && out.length).toBe((decodeReply(out, '18') as { bytes: number }).bytes);
    } finally {
      c.close();
    }
  });

  it('a shell that does not read its .res: the `d` lines wait in order behind a full FIFO', async () => {
    start(fakeBackend());
    const base = newPair();
    // The FIFO full (64 KiB of filler): the daemon's next write cannot go in at once.
    const fill = openSync(`${base}.res`, constants.O_RDWR | constants.O_NONBLOCK);
    let filler = 0;
    for (;;) {
      try { writeSync(fill, 'f\n'); filler++; } catch { break; }
    }
    register(`${base}.req`);
    const reqFd = openSync(`${base}.req`, constants.O_RDWR | constants.O_NONBLOCK);
    for (const id of ['31', '32', '33']) {
      writeSync(reqFd, req(id, [['IN', id]]));
      // Each answered (its reply in .out) before the next is sent.
      const answered = (): boolean => existsSync(`${base}.out`) && decodeReply(readFileSync(`${base}.out`), id).status === 'complete';
      for (let i = 0; i < 150 && !answered(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(answered()).toBe(true);
    }
    closeSync(reqFd);
    const c = new FifoClient(base);
    try {
      const got: string[] = [];
      for (let line = await c.line(); line !== null && got.length < filler + 3; line = await c.line()) got.push(line);
      expect(got.length).toBe(filler + 3);
      expect(got.slice(0, filler).every((l) => l === 'f')).toBe(true);
      expect(got.slice(filler)).toEqual(['d 31', 'd 32', 'd 33']);
    } finally {
      c.close();
      closeSync(fill);
    }
  });

  it("reads bash's environment from the pair's .env file (flag e: `declare -px` output)", async () => {
    start(fakeBackend());
    const base = newPair();
    register(`${base}.req`);
    const c = new FifoClient(base);
    try {
      // Written in place: an older, longer content may follow the end line.
      // With an older hook's mode (its shell's umask): the daemon makes it private.
      writeFileSync(`${base}.env`, 'declare -x IN="from \\"env\\" file"\ndeclare -x PATH="/bin"\n#envd 21\ndeclare -x IN="stale"\n', { mode: 0o664 });
      c.send(encodeRequest({ id: '21', shell: 'bash', flags: 'e', cwd: '/tmp' }, []));
      expect(await c.line()).toBe('d 21');
      expect(completeRecords(c.out(), '21')).toContainEqual({ t: 'x', name: 'A', value: 'from "env" file' });
      expect(statSync(`${base}.env`).mode & 0o777).toBe(0o600);
    } finally {
      c.close();
    }
  });

  it('refuses registrations outside sh/, of things that are not private FIFOs, and symlinks', async () => {
    start(fakeBackend());
    const outside = join(dir, `${process.pid}-x1`);
    mkfifo(`${outside}.req`, `${outside}.res`);
    register(`${outside}.req`);
    const plain = join(sh, `${process.pid}-p1`);
    writeFileSync(`${plain}.req`, '');
    writeFileSync(`${plain}.res`, '');
    register(`${plain}.req`);
    const link = join(sh, `${process.pid}-l1`);
    symlinkSync(`${outside}.req`, `${link}.req`);
    symlinkSync(`${outside}.res`, `${link}.res`);
    register(`${link}.req`);
    register('relative/1-a.req');
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings.filter((w) => w.includes('refused'))).toHaveLength(4);
    expect(existsSync(`${link}.out`)).toBe(false);
  });

  it('closes only the pair that sent garbage', async () => {
    start(fakeBackend());
    const bad = newPair(`${livePid()}-bad`);
    register(`${bad}.req`);
    const good = newPair(`${livePid()}-good`);
    register(`${good}.req`);
    const cb = new FifoClient(bad);
    const cg = new FifoClient(good);
    try {
      await new Promise((r) => setTimeout(r, 200));
      cb.send(Buffer.from('garbage\0'));
      await new Promise((r) => setTimeout(r, 200));
      expect(warnings.some((w) => w.includes('closed'))).toBe(true);
      // The bad pair was dropped and removed (its shell makes a new one); the good one serves on.
      expect(existsSync(`${bad}.req`)).toBe(false);
      cg.send(req('1'));
      expect(await cg.line()).toBe('d 1');
    } finally {
      cb.close();
      cg.close();
    }
  });

  it('a shell that registers a new pair gives up its old one', async () => {
    start(fakeBackend());
    const pid = livePid();
    const old = newPair(`${pid}-old`);
    register(`${old}.req`);
    await new Promise((r) => setTimeout(r, 150));
    expect(existsSync(`${old}.out`)).toBe(true);
    const fresh = newPair(`${pid}-new`);
    register(`${fresh}.req`);
    await new Promise((r) => setTimeout(r, 150));
    expect(existsSync(`${old}.req`)).toBe(false);
    expect(existsSync(`${fresh}.out`)).toBe(true);
  });

  it('removes the pairs of shells that are gone', async () => {
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout.trim());
    mkdirSync(sh, { mode: 0o700 });
    const base = join(sh, `${deadPid}-z9`);
    mkfifo(`${base}.req`, `${base}.res`);
    writeFileSync(`${base}.env`, 'declare -x PATH="/bin"\n');
    const live = newPair();
    start(fakeBackend());
    expect(existsSync(`${base}.req`)).toBe(false);
    expect(existsSync(`${base}.env`)).toBe(false);
    expect(existsSync(`${live}.req`)).toBe(true);
  });

  it('polls FIFOs with epoll: many idle pairs leave the threadpool free', async () => {
    start(fakeBackend());
    const clients: FifoClient[] = [];
    for (let i = 0; i < 8; i++) {
      const base = newPair(`${livePid()}-t${i}`);
      register(`${base}.req`);
      clients.push(new FifoClient(base));
    }
    await new Promise((r) => setTimeout(r, 200));
    try {
      const file = join(dir, 'f');
      writeFileSync(file, 'x');
      // Eight idle pairs would block all four threadpool threads if reads went through it.
      const reads = Promise.all(Array.from({ length: 8 }, () => readFile(file, 'utf8')));
      const result = await Promise.race([reads, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
      expect(result).not.toBeNull();
      clients[3]?.send(req('1'));
      expect(await clients[3]?.line()).toBe('d 1');
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('close() removes hook.fifo and hook.pid', async () => {
    const t = startFifoTransport(run, fakeBackend(), () => {});
    await t.close();
    expect(existsSync(join(run, 'hook.fifo'))).toBe(false);
    expect(existsSync(join(run, 'hook.pid'))).toBe(false);
  });
});
