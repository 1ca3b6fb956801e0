import { closeSync, constants, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { MAX_HOOK_REQUEST_BYTES } from '../protocol/hook-format.js';
import { readRegularText } from '../util/safe-read.js';
import { readEnvFile } from './fifo-files.js';

/**
 * The environment of a front-door request on a door pair (flag `E`: /proc/PID/environ as
 * it is). bin/envd's front door writes `#envd /proc` and its `#envd ID` entry in the pair's
 * `.env`: the environment is its own, /proc/PID/environ of the pid its lock names, read
 * here in one read rather than copied there by bash entry by entry (about 0.1 ms of the
 * front door's time, before its request goes out). The same bytes either way. A daemon
 * that does not know the entry takes it for another request's end and refuses the request
 * (the front door then hands over to Node), never answers it as an empty environment. A
 * `.env` that holds the environment itself is taken as it is.
 *
 * The pid is that front door's only if that process holds this pair's `.req` open: a pid
 * of another pid namespace sharing the runtime dir (a container) names some other process
 * here. Anything that does not hold is an error (the pair is dropped; the front door, if
 * it is still there, hands over to Node).
 */
const TAG = Buffer.from('#envd /proc\0', 'latin1');

export function doorEnv(base: string): Buffer {
  const file = readEnvFile(base);
  if (file.length < TAG.length || file.compare(TAG, 0, TAG.length, 0, TAG.length) !== 0) return file;
  const claim = (readRegularText(`${base}.lock`, 64) ?? '').trim();
  if (!/^[1-9][0-9]{0,9}$/.test(claim)) throw new Error(`${base}.lock names no front door`);
  if (!holdsOpen(claim, `${base}.req`)) throw new Error(`process ${claim} is not the front door on ${base}`);
  return Buffer.concat([readEnviron(claim), file.subarray(TAG.length)]);
}

/** Whether process PID has PATH (a FIFO) open: one of its descriptors is that file. */
function holdsOpen(pid: string, path: string): boolean {
  const want = statSync(path);
  const dir = `/proc/${pid}/fd`;
  // bash gives `{var}` descriptors from 10 up: those first.
  const fds = readdirSync(dir);
  for (const fd of [...fds.filter((f) => f.length > 1), ...fds.filter((f) => f.length === 1)]) {
    try {
      const st = statSync(`${dir}/${fd}`);
      if (st.ino === want.ino && st.dev === want.dev) return true;
    } catch {
      // Closed meanwhile.
    }
  }
  return false;
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
