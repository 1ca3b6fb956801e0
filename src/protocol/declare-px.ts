import { decodeBytes } from '../env/bytes.js';
import { HookProtocolError } from './hook-format.js';

/**
 * bash has no way to list its exported variables with their values except a loop over
 * the names, which costs ~10 µs a variable in the shell. `declare -px` writes them all in
 * one builtin call; bash's FIFO transport puts that output in the shell's own `.env` file
 * (request flag `e`, no NAME VALUE pairs) and this reads it. The format is bash's own and
 * regular — one line per variable:
 *
 *   declare -FLAGS NAME                exported but never given a value: not in a child's env
 *   declare -FLAGS NAME="..."          printable text; `\` before each of " $ ` \
 *   declare -FLAGS NAME=$'...'         anything else: \a \b \E \f \n \r \t \v \\ \' \ooo
 *   declare -aFLAGS NAME=(...)         arrays: bash does not export them
 *
 * and the file ends with `#envd ID` (the shell writes it in place, without truncating, so
 * a longer old content may follow). Values are bytes, kept exactly as byte strings
 * (src/env/bytes.ts), as for requests.
 */
const DECLARE_RE = /^(?:declare|export)(?: -([A-Za-z-]+))? ([A-Za-z_][A-Za-z0-9_]*)(=.*)?$/;

const ANSI_ESCAPES: Record<string, number> = { a: 7, b: 8, E: 27, e: 27, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

function unquoteDouble(s: string, out: number[]): boolean {
  const b = Buffer.from(s, 'latin1');
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c === 0x5c) {
      const n = b[i + 1];
      if (n !== 0x22 && n !== 0x24 && n !== 0x60 && n !== 0x5c) return false;
      out.push(n);
      i++;
    } else if (c === 0x22 || c === 0x24 || c === 0x60) {
      return false;
    } else {
      out.push(c);
    }
  }
  return true;
}

function unquoteAnsi(s: string, out: number[]): boolean {
  const b = Buffer.from(s, 'latin1');
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c === 0x27) return false;
    if (c !== 0x5c) { out.push(c); continue; }
    const n = String.fromCharCode(b[i + 1] ?? 0);
    if (/[0-7]/.test(n)) {
      let v = 0;
      let k = 0;
      while (k < 3 && /[0-7]/.test(String.fromCharCode(b[i + 1 + k] ?? 0))) {
        v = v * 8 + ((b[i + 1 + k] ?? 0) - 0x30);
        k++;
      }
      out.push(v & 0xff);
      i += k;
      continue;
    }
    const e = ANSI_ESCAPES[n];
    if (e === undefined) return false;
    out.push(e);
    i++;
  }
  return true;
}

export function parseDeclarePx(buf: Buffer, id: string): { env: Record<string, string> } {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  // latin1: one char per byte, so values are rebuilt byte for byte.
  const lines = buf.toString('latin1').split('\n');
  for (const line of lines) {
    if (line.startsWith('#envd ')) {
      if (line.slice(6) !== id) throw new HookProtocolError('the environment file is from another request');
      return { env };
    }
    if (line === '') continue;
    const m = DECLARE_RE.exec(line);
    if (m === null) throw new HookProtocolError('the environment file is not `declare -px` output');
    const flags = m[1] ?? '';
    const name = m[2] ?? '';
    const rhs = m[3];
    if (rhs === undefined || flags.includes('a') || flags.includes('A')) continue;
    const bytes: number[] = [];
    let ok: boolean;
    if (rhs.startsWith('="') && rhs.endsWith('"') && rhs.length >= 3) ok = unquoteDouble(rhs.slice(2, -1), bytes);
    else if (rhs.startsWith("=$'") && rhs.endsWith("'") && rhs.length >= 4) ok = unquoteAnsi(rhs.slice(3, -1), bytes);
    else ok = false;
    if (!ok) throw new HookProtocolError(`cannot read the value of ${name} in the environment file`);
    // `\0` (an octal escape of 0) cannot come from bash, whose values are C strings.
    if (bytes.includes(0)) throw new HookProtocolError(`the value of ${name} in the environment file holds a NUL`);
    env[name] = decodeBytes(Buffer.from(bytes));
  }
  throw new HookProtocolError('the environment file is cut off');
}

/**
 * The other form of the `.env` file (request flag `E`, bin/envd's front door): the
 * process's environment as Linux keeps it in /proc/PID/environ, `NAME=VALUE` entries each
 * ended by a NUL, then `#envd ID` and a NUL. Read as the Node CLI would see that
 * environment: entries without `=` are not variables, and of two entries for one name the
 * first counts (getenv's rule). Values are bytes, kept exactly as byte strings.
 */
export function parseEnviron(buf: Buffer, id: string): { env: Record<string, string> } {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  let start = 0;
  while (start < buf.length) {
    const end = buf.indexOf(0, start);
    if (end === -1) break;
    const entry = buf.subarray(start, end);
    start = end + 1;
    const eq = entry.indexOf(0x3d);
    if (entry.length > 6 && entry[0] === 0x23 && entry.subarray(0, 6).toString('latin1') === '#envd ') {
      if (entry.subarray(6).toString('latin1') !== id) throw new HookProtocolError('the environment file is from another request');
      return { env };
    }
    if (eq <= 0) continue;
    const name = decodeBytes(entry.subarray(0, eq));
    if (!(name in env)) env[name] = decodeBytes(entry.subarray(eq + 1));
  }
  throw new HookProtocolError('the environment file is cut off');
}
