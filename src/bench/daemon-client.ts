/**
 * Just enough of the daemon's JSON-lines protocol (docs/protocol.md) for the bench's own
 * setup: who is the daemon (its pid, for /proc), and approving many `.envrc` files without
 * a Node process per file. Timed work never goes through here; shells do that.
 */
import { connect, type Socket } from 'node:net';
import { identityOf } from '../config/identity.js';
import { resolvePaths } from '../config/paths.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class DaemonClient {
  private buf = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private closed: Error | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        let frame: unknown;
        try {
          frame = JSON.parse(line);
        } catch {
          continue;
        }
        if (!isRecord(frame) || typeof frame.id !== 'number') continue;
        const w = this.waiting.get(frame.id);
        if (w === undefined) continue;
        this.waiting.delete(frame.id);
        w.resolve(frame);
      }
    });
    const fail = (err: Error): void => {
      this.closed = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('daemon connection closed')));
  }

  static open(socketPath: string, timeoutMs = 5000): Promise<DaemonClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no daemon answers on ${socketPath}`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new DaemonClient(sock));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  request(body: { type: string } & Record<string, Json>, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`daemon: no answer to ${body.type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          if (v.type === 'error') reject(new Error(`daemon: ${JSON.stringify(v.error)}`));
          else resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.sock.write(JSON.stringify({ ...body, v: PROTOCOL_VERSION, id }) + '\n');
    });
  }

  /**
   * Say who we are (the daemon serves nothing else on a connection before a hello with its
   * own identity); returns the daemon's pid.
   */
  async hello(env: Record<string, string>): Promise<number> {
    return (await this.helloInfo(env)).pid;
  }

  /**
   * The daemon's pid, how many hook requests it has answered from kept replies, and its
   * watcher's counts (dependencies watched, directories asked for but not watched yet).
   */
  async helloInfo(env: Record<string, string>): Promise<{ pid: number; replayed: number; watched: number; watchPending: number }> {
    const id = identityOf(resolvePaths(env));
    const identity = { home: id.home, configDir: id.configDir, direnvConfigDir: id.direnvConfigDir, dataDir: id.dataDir };
    const r = await this.request({ type: 'hello', client: { version: 'bench', protocol: PROTOCOL_VERSION, pid: process.pid, identity } });
    const result = r.result;
    if (!isRecord(result) || typeof result.pid !== 'number') throw new Error('daemon: hello without a pid');
    const count = (k: string): number => { const v = result[k]; return typeof v === 'number' ? v : 0; };
    return { pid: result.pid, replayed: count('replayed'), watched: count('watched'), watchPending: count('watchPending') };
  }

  async allow(file: string, cwd: string): Promise<void> {
    await this.request({ type: 'allow', path: file, cwd });
  }

  close(): void {
    this.sock.end();
  }
}

/** VmRSS and VmHWM of a process, in bytes (null when it is gone). */
export function readRss(pid: number, read: (path: string) => string): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = read(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m === null ? NaN : Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
