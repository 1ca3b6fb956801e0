import type { Duplex, Readable, Writable } from 'node:stream';
import { encodeReply, encodeReplyHead, encodeReplyTail, HOOK_VERSION } from '../protocol/hook-records.js';
import type { HookBackend } from './backend.js';
import { HookSession } from './hook-session.js';

/** More unread reply bytes than this and the peer is not reading: drop it. */
const MAX_OUTPUT_BACKLOG = 8 * 1024 * 1024;

function isDuplex(s: Readable | Writable): s is Duplex {
  return 'allowHalfOpen' in s;
}

/**
 * Serve hook records on a stream (a socket whose first byte was `E`; `input` must deliver
 * the stream from that byte on). One or more requests per stream; bad input closes this
 * stream only.
 */
export function serveHookStream(input: Readable, output: Writable, backend: HookBackend): void {
  // fish sends its request through `nc -N`, which half-closes the socket once the request
  // is written: the answer must still go out, so the socket may stay half open.
  if (isDuplex(output)) output.allowHalfOpen = true;
  const same = (input as unknown) === (output as unknown);
  let dead = false;
  const kill = (): void => {
    if (dead) return;
    dead = true;
    input.destroy();
    if (!same) output.destroy();
  };
  const write = (buf: Buffer): void => {
    if (dead || output.destroyed || output.writableEnded) return;
    output.write(buf);
    if (output.writableLength > MAX_OUTPUT_BACKLOG) kill();
  };
  const finish = (): void => {
    if (dead || output.writableEnded) return;
    output.end(() => { if (same) input.destroy(); });
  };
  // The acknowledgement waits (corked) until the answer or the end of this turn of the
  // event loop, whichever comes first: a cached answer is ready within the turn, so both
  // leave in one write (one syscall, one wake-up of the shell) instead of two.
  let corked = false;
  const uncork = (): void => {
    if (!corked) return;
    corked = false;
    output.uncork();
  };
  const session = new HookSession(backend, {
    ack: (id, ms) => {
      if (!corked && !dead && !output.destroyed) {
        corked = true;
        output.cork();
        setImmediate(uncork);
      }
      write(encodeReplyHead(id, [{ t: 'w', ms }]));
    },
    answer: (id, records) => {
      write(encodeReplyTail(id, records));
      uncork();
    },
    refuse: (id) => {
      write(encodeReply(id, [{ t: 'v', version: HOOK_VERSION }]));
      input.pause();
      finish();
    },
    whole: (_id, reply) => { write(reply); },
    end: finish,
    fail: kill,
  });
  input.on('data', (chunk: Buffer | string) => session.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  input.on('end', () => session.end());
  input.on('error', kill);
  if (!same) output.on('error', kill);
  input.on('close', () => { if (!dead && !input.readableEnded) session.abort(new Error('stream closed')); });
}
