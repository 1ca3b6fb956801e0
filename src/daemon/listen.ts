import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { errnoCode } from '../util/errors.js';

/** What answering at a socket path says about it. */
type SocketState = 'live' | 'refused' | 'absent' | { errno: string };

/**
 * Connect and hang up. `live`: something accepted (even a frozen daemon: the kernel
 * accepts into the backlog), so the socket is never removed. `refused`: a socket file
 * with nobody behind it, the only case in which it may be removed.
 */
function probeSocket(path: string, timeoutMs = 1000): Promise<SocketState> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const timer = setTimeout(() => { s.destroy(); resolve('live'); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve('live'); });
    s.once('error', (err) => {
      clearTimeout(timer);
      s.destroy();
      const code = errnoCode(err) ?? 'EUNKNOWN';
      resolve(code === 'ECONNREFUSED' ? 'refused' : code === 'ENOENT' ? 'absent' : { errno: code });
    });
  });
}

function listenOnce(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { server.off('listening', onListening); reject(err); };
    const onListening = (): void => { server.off('error', onError); resolve(); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path, backlog: 1024 });
  });
}

export class AlreadyRunning extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'AlreadyRunning';
  }
}

/**
 * Listen on the socket path, taking over a stale socket file. Must be called with the
 * start lock held, so two daemons never both decide a socket is stale.
 */
export interface Listening {
  /** Identity of our socket file, to notice later when it was replaced. */
  identity: string;
  /** A stale socket (connect refused) was removed first. */
  tookOver: boolean;
}

/** Inode numbers are reused at once on some filesystems; the birth time tells files apart. */
export function socketIdentity(path: string): string | null {
  try {
    const st = lstatSync(path);
    return `${st.dev}:${st.ino}:${st.birthtimeMs || st.ctimeMs}`;
  } catch {
    return null;
  }
}

export async function listenTakingOver(server: Server, path: string): Promise<Listening> {
  let tookOver = false;
  try {
    await listenOnce(server, path);
  } catch (err) {
    if (errnoCode(err) !== 'EADDRINUSE') throw err;
    const state = await probeSocket(path);
    if (state === 'live') throw new AlreadyRunning(`a daemon already answers on ${path}`);
    if (typeof state === 'object') throw new AlreadyRunning(`the socket ${path} is in use (${state.errno})`);
    if (state === 'refused') {
      try { unlinkSync(path); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
      tookOver = true;
    }
    await listenOnce(server, path);
  }
  // The directory is the real guard; this keeps the socket itself owner-only whatever
  // the umask was.
  chmodSync(path, 0o600);
  return { identity: socketIdentity(path) ?? '', tookOver };
}
