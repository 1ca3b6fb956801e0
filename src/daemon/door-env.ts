import { closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { MAX_HOOK_REQUEST_BYTES } from '../protocol/hook-format.js';
import { readEnvFile, type FileId } from './fifo-files.js';

/**
 * The environment of a front-door request on a door pair (flag `E`: /proc/PID/environ as
 * it is). bin/envd's front door writes `#envd /proc PID FD` and its `#envd ID` entry in the
 * pair's `.env`: the environment is its own, /proc/PID/environ, read here in one read
 * rather than copied there by bash entry by entry (about 0.1 ms of the front door's time,
 * before its request goes out). The same bytes either way. A daemon that does not know the
 * entry takes it for another request's end and refuses the request (the front door then
 * hands over to Node), never answers it as an empty environment. A `.env` that holds the
 * environment itself is taken as it is.
 *
 * The pid is the front door's only if that process holds on descriptor FD the very `.req`
 * FIFO this daemon reads the pair from (`req`, as the pair opened it; one stat): a pid of
 * another pid namespace sharing the runtime dir (a container), or a process that wrote
 * someone else's pid, names some other process here. Anything that does not hold is an
 * error (the pair is dropped; the front door, if it is still there, hands over to Node).
 */
const TAG = Buffer.from('#envd /proc ', 'latin1');
const TAG_RE = /^([1-9][0-9]{0,9}) ([0-9]{1,9})$/;

export function doorEnv(base: string, req: FileId): Buffer {
  const file = readEnvFile(base);
  if (file.length < TAG.length || file.compare(TAG, 0, TAG.length, 0, TAG.length) !== 0) return file;
  const end = file.indexOf(0, TAG.length);
  const m = end === -1 ? null : TAG_RE.exec(file.toString('latin1', TAG.length, end));
  if (m === null) throw new Error(`${base}.env: a malformed #envd /proc entry`);
  const [, pid = '', fd = ''] = m;
  let held;
  try {
    held = statSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    held = null;
  }
  if (held === null || held.ino !== req.ino || held.dev !== req.dev) throw new Error(`process ${pid} is not the front door on ${base}`);
  return readEnviron(pid, file.subarray(end + 1));
}

/**
 * Reused for every read of an environ: no 16 KiB buffer per request (GC in a daemon with a
 * 1 MiB young generation). One grown past KEPT_SCRATCH for a huge environment is let go.
 */
let scratch = Buffer.alloc(0);
const KEPT_SCRATCH = 256 * 1024;

/** /proc/PID/environ followed by `tail`, in one buffer of their exact size. */
function readEnviron(pid: string, tail: Buffer): Buffer {
  const fd = openSync(`/proc/${pid}/environ`, constants.O_RDONLY);
  try {
    let total = 0;
    for (;;) {
      if (scratch.length - total < 4096) {
        const grown = Buffer.allocUnsafe(Math.max(16 * 1024, scratch.length * 2));
        scratch.copy(grown, 0, 0, total);
        scratch = grown;
      }
      const n = readSync(fd, scratch, total, scratch.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_HOOK_REQUEST_BYTES) throw new Error(`the environment of process ${pid} is over ${MAX_HOOK_REQUEST_BYTES} bytes`);
    }
    return Buffer.concat([scratch.subarray(0, total), tail], total + tail.length);
  } finally {
    closeSync(fd);
    if (scratch.length > KEPT_SCRATCH) scratch = Buffer.alloc(0);
  }
}
