import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';

// Random bytes, oversized frames, half frames and 1,000 idle connections
// on the socket close those connections only. One real daemon serves the whole file.

let sb: Sandbox;
let sock: string;
let pid: number;

beforeAll(() => {
  sb = new Sandbox();
  sock = join(sb.runtimeDir, 'daemon.sock');
  const r = sb.envd(['daemon', 'start'], { env: { ENVD_DAEMON_IDLE_MS: '1000', ENVD_HOOK_IDLE_MS: '1200' } });
  if (r.status !== 0) throw new Error(r.stderr);
  const m = /pid (\d+)/.exec(r.stderr);
  pid = Number(m?.[1]);
});
afterAll(() => sb.cleanup());

interface Exchange {
  data: string;
  /** The daemon closed the connection (not our timeout). */
  closed: boolean;
  ms: number;
}

/** Send bytes, optionally half-close, and collect what comes back until the daemon closes. */
function exchange(payload: Buffer | string, opts: { end?: boolean; waitMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect({ path: sock });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks).toString('utf8'), closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 5000);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('close', () => finish(true));
    s.on('error', (err: NodeJS.ErrnoException) => {
      // The daemon may reset a connection that is still sending (oversized frames).
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') finish(true); else reject(err);
    });
    s.on('connect', () => {
      s.write(payload);
      if (opts.end === true) s.end();
    });
  });
}

function replies(data: string): Record<string, unknown>[] {
  return data.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function hello(): Promise<Record<string, unknown>> {
  const r = await exchange('{"v":1,"id":1,"type":"hello","client":{"version":"t","protocol":1,"pid":1}}\n', { waitMs: 300 });
  const [first] = replies(r.data);
  if (first === undefined) throw new Error(`no hello reply: ${JSON.stringify(r)}`);
  return first;
}

function rssKiB(p: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

describe('bad input on the socket', () => {
  it('answers a ping, and keeps a connection for several requests', async () => {
    const r = await exchange('{"v":1,"id":1,"type":"ping"}\n{"v":1,"id":2,"type":"ping"}\n', { waitMs: 300 });
    expect(replies(r.data)).toEqual([{ v: 1, id: 1, type: 'pong' }, { v: 1, id: 2, type: 'pong' }]);
    expect(r.closed).toBe(false);
  });

  it('closes a connection that starts with an unknown byte, after an error reply', async () => {
    for (let i = 0; i < 30; i++) {
      let junk = randomBytes(1 + (i * 137) % 4096);
      if (junk[0] === 0x7b || junk[0] === 0x45) junk = Buffer.concat([Buffer.from([0x00]), junk]);
      const r = await exchange(junk);
      expect(r.closed).toBe(true);
      expect(replies(r.data)).toEqual([expect.objectContaining({ type: 'error', id: null, error: expect.objectContaining({ code: 'BAD_FRAME' }) })]);
    }
  });

  it('closes a connection whose line is not JSON or not a request, echoing the id it could read', async () => {
    const cases: [string, string, number | null][] = [
      ['{nope}\n', 'BAD_FRAME', null],
      ['{"v":1,"id":7,"type":"export"}\n', 'BAD_REQUEST', 7],
      ['{"v":1,"id":8,"type":"rm -rf"}\n', 'UNKNOWN_TYPE', 8],
      ['{"v":1,"id":9,"type":"ping"}\n{"v":1,"id":10}\n{"v":1,"id":11,"type":"ping"}\n', 'BAD_REQUEST', 10],
    ];
    for (const [payload, code, id] of cases) {
      const r = await exchange(payload);
      expect(r.closed).toBe(true);
      const got = replies(r.data);
      const last = got[got.length - 1];
      expect(last).toMatchObject({ type: 'error', id, error: { code } });
      // Nothing after the bad request is served.
      expect(got.some((g) => g.id === 11)).toBe(false);
    }
  });

  it('random bytes after a {, with or without newlines, close only that connection', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await exchange(Buffer.concat([Buffer.from('{'), randomBytes(2000)]));
      expect(r.closed).toBe(true);
    }
  });

  it('refuses a request of another protocol version, but answers hello and shutdown shapes from any version', async () => {
    const r = await exchange('{"v":99,"id":1,"type":"ping"}\n');
    expect(r.closed).toBe(true);
    expect(replies(r.data)).toEqual([expect.objectContaining({ id: 1, type: 'error', error: expect.objectContaining({ code: 'VERSION_MISMATCH' }) })]);
    const h = await exchange('{"v":99,"id":2,"type":"hello","client":{"version":"99.0.0","protocol":99,"pid":1}}\n', { waitMs: 300 });
    expect(replies(h.data)).toEqual([expect.objectContaining({ v: 1, id: 2, type: 'hello', result: expect.objectContaining({ pid, protocol: 1 }) })]);
  });

  it('rejects an oversized frame without buffering it all, and stays small', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 0x61);
    big[0] = 0x7b;
    const r = await exchange(big, { waitMs: 10_000 });
    expect(r.closed).toBe(true);
    expect(replies(r.data)).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'FRAME_TOO_LARGE' }) })]);
    expect(rssKiB(pid)).toBeLessThan(200 * 1024);
  });

  it('drops a half frame at end of stream and closes', async () => {
    const r = await exchange('{"v":1,"id":1,"ty', { end: true });
    expect(r.closed).toBe(true);
    expect(r.data).toBe('');
  });

  it('closes connections that say nothing, after the idle timeout', async () => {
    const r = await exchange('', { waitMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(r.ms).toBeLessThan(4000);
  });

  it('survives 1,000 idle connections, answering others meanwhile, and closes them all', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve, reject) => {
      const s = connect({ path: sock });
      sockets.push(s);
      s.on('connect', () => resolve());
      s.on('error', reject);
      s.on('close', () => { closed++; });
    })));
    try {
      const t = Date.now();
      expect(await hello()).toMatchObject({ type: 'hello', result: expect.objectContaining({ pid }) });
      expect(Date.now() - t).toBeLessThan(1000);
      const deadline = Date.now() + 8000;
      while (closed < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(1000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it("routes a connection that starts with 'E' to the hook records side", async () => {
    const dir = sb.mkdir('hookdir');
    const req = ['ENVD-HOOK', '1', '42', 'bash', '', dir, 'HOME', sb.home, ''].map((f) => `${f}\0`).join('');
    const r = await exchange(req, { waitMs: 3000 });
    const fields = r.data.split('\0');
    expect(fields.slice(0, 3)).toEqual(['ENVD-HOOK', '1', '42']);
    // The answer ends with `z` and the request's id.
    const z = fields.lastIndexOf('z');
    expect(z).toBeGreaterThan(2);
    expect(fields[z + 1]).toBe('42');
  });

  it('closes a hook stream idle for its own timeout, and keeps one that keeps asking', async () => {
    const dir = sb.mkdir('hookidle');
    const req = (id: number): string => ['ENVD-HOOK', '1', String(id), 'bash', '', dir, 'HOME', sb.home, ''].map((f) => `${f}\0`).join('');
    const open = (): Promise<{ s: Socket; closedAt: () => number | null; answers: () => number }> => new Promise((resolve, reject) => {
      const s = connect({ path: sock });
      let closedAt: number | null = null;
      let answers = 0;
      s.on('data', (d: Buffer) => { answers += d.toString('latin1').split('\0z\0').length - 1; });
      s.on('close', () => { closedAt = Date.now(); });
      s.on('error', reject);
      s.on('connect', () => resolve({ s, closedAt: () => closedAt, answers: () => answers }));
    });
    const t0 = Date.now();
    const idle = await open();
    const busy = await open();
    idle.s.write(req(1));
    let n = 1;
    try {
      // The busy one asks every 300 ms for 2.4 s: twice the idle time, never idle that long.
      while (Date.now() - t0 < 2400) {
        busy.s.write(req(++n));
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(busy.closedAt()).toBeNull();
      expect(busy.answers()).toBeGreaterThan(3);
      const closed = idle.closedAt();
      expect(closed).not.toBeNull();
      expect((closed ?? 0) - t0).toBeGreaterThanOrEqual(1100);
      expect(idle.answers()).toBe(1);
    } finally {
      idle.s.destroy();
      busy.s.destroy();
    }
  });

  it('is the same daemon after all of it', async () => {
    expect(await hello()).toMatchObject({ type: 'hello', result: expect.objectContaining({ pid }) });
    const s = sb.envd(['daemon', 'status', '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ running: true, pid });
  });
});
