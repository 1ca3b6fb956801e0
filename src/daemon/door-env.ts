import { closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { MAX_HOOK_REQUEST_BYTES } from '../protocol/hook-format.js';
import { readEnvFile } from './fifo-files.js';

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
 * The pid is the front door's only if that process holds this pair's `.req` open on
 * descriptor FD (one stat): a pid of another pid namespace sharing the runtime dir (a
 * container), or a process that wrote someone else's pid, names some other process here.
 * Anything that does not hold is an error (the pair is dropped; the front door, if it is
 * still there, hands over to Node).
 */
const TAG = Buffer.from('#envd /proc ', 'latin1');
const TAG_RE = /^([1-9][0-9]{0,9}) ([0-9]{1,9})$/;

export function doorEnv(base: string): Buffer {
  const file = readEnvFile(base);
  if (file.length < TAG.length || file.compare(TAG, 0, TAG.length, 0, TAG.length) !== 0) return file;
  const end = file.indexOf(0, TAG.length);
  const m = end === -1 ? null : TAG_RE.exec(file.toString('latin1', TAG.length, end));
  if (m === null) throw new Error(`${base}.env: a malformed #envd /proc entry`);
  const [, pid = '', fd = ''] = m;
  const want = statSync(`${base}.req`);
  let held;
  try {
    held = statSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    held = null;
  }
  if (held === null || held.ino !== want.ino || held.dev !== want.dev) throw new Error(`process ${pid} is not the front door on ${base}`);
  return Buffer.concat([readEnviron(pid), file.subarray(end + 1)]);
}

function readEnviron(pid: string): Buffer {
  const fd = openSync(`/proc/${pid}/environ`, constants.O_RDONLY);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(16 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > MAX_HOOK_REQUEST_BYTES) throw new Error(`the environment of process ${pid} is over ${MAX_HOOK_REQUEST_BYTES} bytes`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
