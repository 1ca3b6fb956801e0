import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { decodeBytes, hasRawBytes } from '../env/bytes.js';
import type { Env } from '../env/diff.js';
import { newNameMap } from '../env/map.js';
import { notUtf8Error } from '../util/byte-paths.js';
import { EnvdError, errnoCode } from '../util/errors.js';

/**
 * What the CLI knows of its caller: environment, working directory, arguments. Node
 * decodes all three lossily (a byte that is not UTF-8 becomes U+FFFD, so `caf\xe9` would
 * read as the different directory `caf\xef\xbf\xbd`); on Linux the exact bytes are in
 * /proc/self, and they are kept as byte strings (src/env/bytes.ts).
 */

/** NUL-separated fields of a /proc/self file, or null when there is no such file. */
function procFields(name: string): Buffer[] | null {
  let buf: Buffer;
  try {
    buf = readFileSync(`/proc/self/${name}`);
  } catch {
    return null;
  }
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nul = buf.indexOf(0, start);
    if (nul === -1) break;
    out.push(buf.subarray(start, nul));
    start = nul + 1;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

let cachedEnv: Env | null = null;

/** This process's environment, values as byte strings (exact; Node's process.env is not). */
export function processEnv(): Env {
  if (cachedEnv === null) {
    const fields = procFields('environ');
    const env: Env = newNameMap();
    if (fields === null) {
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    } else {
      for (const f of fields) {
        const eq = f.indexOf(0x3d);
        if (eq <= 0) continue;
        const name = decodeBytes(f.subarray(0, eq));
        // getenv() finds the first of two entries with one name; so does this.
        if (env[name] === undefined) env[name] = decodeBytes(f.subarray(eq + 1));
      }
    }
    cachedEnv = env;
  }
  // A copy: callers change theirs (exec applies the answer to it).
  return { ...cachedEnv };
}

/**
 * This process's arguments after the script (process.argv.slice(2)) as byte strings, or
 * null when /proc cannot tell.
 */
export function processArgs(): string[] | null {
  const fields = procFields('cmdline');
  const n = process.argv.length - 2;
  if (fields === null || fields.length < n) return null;
  return fields.slice(fields.length - n).map(decodeBytes);
}

/** The physical working directory's bytes. */
function physicalCwd(): string {
  let target: Buffer | null = null;
  try {
    target = readlinkSync('/proc/self/cwd', { encoding: 'buffer' });
  } catch (err) {
    if (errnoCode(err) === 'ENAMETOOLONG') throw tooDeep();
  }
  if (target !== null && target[0] === 0x2f) return decodeBytes(target);
  // No /proc: process.cwd() is exact when it is UTF-8; the caller cannot tell otherwise.
  try {
    return process.cwd();
  } catch (err) {
    if (errnoCode(err) === 'ERANGE' || errnoCode(err) === 'ENAMETOOLONG') throw tooDeep();
    throw err;
  }
}

function tooDeep(): EnvdError {
  return new EnvdError('PATH_TOO_LONG', 'the current directory\'s path is longer than the system allows a program to use (PATH_MAX, 4096 bytes); run envd from a shallower directory');
}

/**
 * The working directory as the shell sees it: $PWD when it is the same directory as the
 * physical cwd (so symlinked project paths keep their names, as in direnv), else the cwd.
 * Refused (EnvdError) when the name is not UTF-8 or too long to use, never a look-alike.
 */
export function logicalCwd(): string {
  const phys = physicalCwd();
  const pwd = processEnv().PWD;
  let cwd = phys;
  if (pwd !== undefined && pwd.startsWith('/') && !hasRawBytes(pwd)) {
    try {
      const a = statSync(pwd);
      const b = statSync('.');
      if (a.ino === b.ino && a.dev === b.dev) cwd = pwd;
    } catch { /* fall through */ }
  }
  if (hasRawBytes(cwd)) throw notUtf8Error('the current directory', cwd);
  return cwd;
}
