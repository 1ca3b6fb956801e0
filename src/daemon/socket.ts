import { unlinkSync, watch, type FSWatcher } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { basename } from 'node:path';
import { errorMessage } from '../util/errors.js';
import type { Backend } from './backend.js';
import type { Component } from './components.js';
import { serveConnection } from './connection.js';
import { serveHookStream } from './hook-connection.js';
import { socketIdentity } from './listen.js';
import type { DaemonLogger } from './log.js';

export interface SocketOptions {
  /** Listening already (listen.ts): the daemon claims its socket before loading anything. */
  server: Server;
  socketPath: string;
  /** The socket's identity when we bound it (listen.ts socketIdentity). */
  identity: string;
  backend: Backend;
  /** Whether hook streams are served yet (before: closed at once, and the hook asks the CLI). */
  hooksReady: () => boolean;
  log: DaemonLogger;
  /** A JSON connection idle this long is closed; a hook stream after hookIdleMs. */
  idleMs: number;
  hookIdleMs: number;
}

/**
 * The Unix socket: every accepted connection goes to connection.ts (JSON lines, or a hook
 * stream by its first byte), all of them answered by the one backend.
 */
export class SocketTransport {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly o: SocketOptions) {}

  /** The socket path is still the one we bound (not replaced by another daemon, not removed). */
  owns(): boolean {
    return socketIdentity(this.o.socketPath) === this.o.identity;
  }

  /** Take connections; requests wait for the backend (see BackendGate). */
  accept(): void {
    const o = this.o;
    o.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      serveConnection(socket, {
        log: o.log,
        idleMs: o.idleMs,
        backend: o.backend,
        hook: (s) => {
          s.setTimeout(o.hookIdleMs);
          if (!o.hooksReady()) { s.destroy(); return; }
          serveHookStream(s, s, o.backend);
        },
      });
    });
    o.server.on('error', (err) => o.log.error({ err: errorMessage(err) }, 'server error'));
  }

  /** Stop listening and drop every connection. */
  close(): void {
    // Closing a listening Unix socket server unlinks its path (libuv does), so close it only
    // while the path is still ours: a replaced socket belongs to the daemon that replaced us.
    if (this.owns()) {
      this.o.server.close();
      try { unlinkSync(this.o.socketPath); } catch { /* gone */ }
    }
    for (const s of this.sockets) s.destroy();
  }
}

/**
 * A daemon whose socket was replaced (another daemon took over) or removed stops: no
 * polling, the runtime dir's inotify events say when to look.
 */
export class SocketGuard implements Component {
  readonly name = 'socket guard';
  private dirWatch: FSWatcher | null = null;
  private stopped = false;

  constructor(
    private readonly runtimeDir: string,
    private readonly socketPath: string,
    private readonly owns: () => boolean,
    private readonly lost: (reason: string) => void,
    private readonly log: DaemonLogger,
  ) {}

  start(): void {
    const sockName = basename(this.socketPath);
    try {
      this.dirWatch = watch(this.runtimeDir, { persistent: false }, (_event, name) => {
        if (this.stopped || (name !== null && name !== sockName)) return;
        if (!this.owns()) this.lost('the socket was removed or replaced');
      });
      this.dirWatch.on('error', () => { if (!this.owns()) this.lost('the runtime dir went away'); });
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'cannot watch the runtime dir; a replaced socket will not be noticed');
    }
  }

  stop(): void {
    this.stopped = true;
    this.dirWatch?.close();
  }
}
