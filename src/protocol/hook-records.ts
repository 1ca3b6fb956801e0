import { decodeBytes, encodeBytes } from '../env/bytes.js';
import { isValidName } from '../env/names.js';
import { EnvdError } from '../util/errors.js';

/**
 * Hook records: the wire format between the prompt hooks (shells/*) and the daemon.
 * Every field is NUL-terminated (no variable name or value can hold a NUL), so a shell
 * reads it with builtins alone: bash `mapfile -d ''`, zsh `${(0)…}`, fish `string split0`.
 *
 * Request:  `ENVD-HOOK` `1` ID SHELL FLAGS CWD, then NAME VALUE pairs of the exported
 *           environment, then an empty field (in a NAME position; values may be empty).
 * Reply:    `ENVD-HOOK` `1` ID, records, `z` ID. The daemon writes `ENVD-HOOK 1 ID w MS`
 *           as soon as it has read a request's header (the hook then knows the daemon is
 *           alive and how long it may take), and the rest once the answer is ready.
 *
 * A hook applies nothing until it has read `z` with its own ID at a record boundary, so an
 * answer cut off at any byte changes nothing (see decodeReply, which is the reference for
 * what the three hooks do).
 */

export const HOOK_MAGIC = 'ENVD-HOOK';
export const HOOK_VERSION = 1;

/** A whole request (header and environment). Linux's ARG_MAX for argv+envp is 2 MiB. */
export const MAX_HOOK_REQUEST_BYTES = 4 * 1024 * 1024;
const MAX_ID_BYTES = 64;
/**
 * A shell can stand in a directory deeper than PATH_MAX (4096): its $PWD is then longer.
 * The env file above it is still found (each shorter parent is looked at), so such a
 * request is served rather than refused as malformed.
 */
const MAX_CWD_BYTES = 64 * 1024;

/** Request ids: the hooks use a counter; anything printable and short is accepted. */
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const SHELL_RE = /^(bash|zsh|fish|elvish|nushell)$/;
const FLAGS_RE = /^[A-Za-z]{0,16}$/;

export class HookProtocolError extends EnvdError {
  constructor(message: string) {
    super('PROTOCOL', `hook records: ${message}`);
    this.name = 'HookProtocolError';
  }
}

export type HookShell = 'bash' | 'zsh' | 'fish' | 'elvish' | 'nushell';

export interface HookHeader {
  version: number;
  id: string;
  shell: HookShell;
  /**
   * `c`: the terminal wants colour; `e`: the environment is in the pair's `.env` file; `n`:
   * entering (the file found differs from the last check): run it afresh. Unknown letters
   * are ignored.
   */
  flags: string;
  /**
   * The directory's bytes as a string (src/env/bytes.ts). One whose name is not UTF-8 is
   * refused by the service, which names it: Node's path APIs cannot reach it.
   */
  cwd: string;
}

export interface HookRequest {
  header: HookHeader;
  /**
   * The exported environment, names checked, values as byte strings (src/env/bytes.ts):
   * a value that is not UTF-8 is kept exactly (RELIABILITY 18, 31).
   */
  env: Record<string, string>;
}

export type HookParseEvent =
  /** A request's header is complete (the daemon acknowledges it at once). */
  | { type: 'header'; header: HookHeader }
  /** A whole request. */
  | { type: 'request'; request: HookRequest }
  /** A version this daemon does not speak: answer `v` and close (the rest cannot be parsed). */
  | { type: 'unsupported'; id: string; version: string };

type Phase = 'magic' | 'version' | 'id' | 'shell' | 'flags' | 'cwd' | 'name' | 'value' | 'done';

const MAGIC_BYTES = Buffer.from(HOOK_MAGIC);

function ascii(field: Buffer): string {
  return field.toString('latin1');
}

/**
 * Incremental parser of one hook request stream: push bytes as they arrive (any split,
 * several requests back to back), get events. Anything malformed throws
 * HookProtocolError, after which the stream must be closed.
 */
export class HookRequestParser {
  private phase: Phase = 'magic';
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private requestBytes = 0;
  private version = '';
  private header: HookHeader | null = null;
  private env: Record<string, string> = Object.create(null) as Record<string, string>;
  private name: string | null = null;

  constructor(private readonly maxRequestBytes = MAX_HOOK_REQUEST_BYTES) {}

  /** Whether part of a request has been read and not yet completed. */
  get midRequest(): boolean {
    return this.phase !== 'magic' || this.partialBytes > 0;
  }

  push(chunk: Buffer): HookParseEvent[] {
    const out: HookParseEvent[] = [];
    let start = 0;
    while (start < chunk.length && this.phase !== 'done') {
      const nul = chunk.indexOf(0, start);
      const end = nul === -1 ? chunk.length : nul;
      this.count(end - start + (nul === -1 ? 0 : 1));
      if (nul === -1) {
        const piece = chunk.subarray(start);
        this.partial.push(piece);
        this.partialBytes += piece.length;
        if (this.phase === 'magic') this.checkMagicPrefix();
        break;
      }
      const piece = chunk.subarray(start, nul);
      const field = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.partialBytes = 0;
      this.field(field, out);
      start = nul + 1;
    }
    return out;
  }

  private count(n: number): void {
    this.requestBytes += n;
    if (this.requestBytes > this.maxRequestBytes) {
      throw new HookProtocolError(`request over ${this.maxRequestBytes} bytes`);
    }
  }

  /** Garbage is refused at its first byte, not after waiting for a NUL that may never come. */
  private checkMagicPrefix(): void {
    const seen = Buffer.concat(this.partial);
    const n = Math.min(seen.length, MAGIC_BYTES.length);
    if (seen.length > MAGIC_BYTES.length || !seen.subarray(0, n).equals(MAGIC_BYTES.subarray(0, n))) {
      throw new HookProtocolError('not a hook request');
    }
  }

  private field(f: Buffer, out: HookParseEvent[]): void {
    switch (this.phase) {
      case 'magic':
        if (!f.equals(MAGIC_BYTES)) throw new HookProtocolError('not a hook request');
        this.phase = 'version';
        return;
      case 'version':
        if (!/^[0-9]{1,4}$/.test(ascii(f))) throw new HookProtocolError('bad version field');
        this.version = ascii(f);
        this.phase = 'id';
        return;
      case 'id': {
        const id = ascii(f);
        if (f.length > MAX_ID_BYTES || !ID_RE.test(id)) throw new HookProtocolError('bad request id');
        if (Number(this.version) !== HOOK_VERSION) {
          out.push({ type: 'unsupported', id, version: this.version });
          this.phase = 'done';
          return;
        }
        this.header = { version: HOOK_VERSION, id, shell: 'bash', flags: '', cwd: '' };
        this.phase = 'shell';
        return;
      }
      case 'shell':
        if (!SHELL_RE.test(ascii(f))) throw new HookProtocolError('bad shell field');
        this.requireHeader().shell = ascii(f) as HookShell;
        this.phase = 'flags';
        return;
      case 'flags':
        if (!FLAGS_RE.test(ascii(f))) throw new HookProtocolError('bad flags field');
        this.requireHeader().flags = ascii(f);
        this.phase = 'cwd';
        return;
      case 'cwd': {
        if (f.length === 0 || f.length > MAX_CWD_BYTES || f[0] !== 0x2f) throw new HookProtocolError('the directory must be an absolute path');
        const h = this.requireHeader();
        h.cwd = decodeBytes(f);
        this.phase = 'name';
        out.push({ type: 'header', header: { ...h } });
        return;
      }
      case 'name':
        if (f.length === 0) {
          out.push({ type: 'request', request: { header: this.requireHeader(), env: this.env } });
          this.reset();
          return;
        }
        this.name = ascii(f);
        this.phase = 'value';
        return;
      case 'value': {
        const name = this.name ?? '';
        this.name = null;
        this.phase = 'name';
        // A name no shell can carry cannot come from a hook's enumeration; skip it.
        if (!isValidName(name)) return;
        // A field holds no NUL (it ends at one), so every value can be kept exactly.
        this.env[name] = decodeBytes(f);
        return;
      }
      case 'done':
        return;
    }
  }

  private requireHeader(): HookHeader {
    if (this.header === null) throw new HookProtocolError('internal: no header');
    return this.header;
  }

  private reset(): void {
    this.phase = 'magic';
    this.requestBytes = 0;
    this.version = '';
    this.header = null;
    this.env = Object.create(null) as Record<string, string>;
    this.name = null;
  }
}

// ---- replies --------------------------------------------------------------------------

export type HookRecord =
  /** export NAME=VALUE */
  | { t: 'x'; name: string; value: string }
  /** unset NAME */
  | { t: 'u'; name: string }
  /** print TEXT on stderr */
  | { t: 'm'; text: string }
  /** file names to look for when walking up */
  | { t: 'k'; markers: string[] }
  /** the generation this answer reflects */
  | { t: 'g'; generation: number }
  /** still loading: nothing applied; ask again when the generation changes */
  | { t: 'p' }
  /** the daemon does not speak the request's hook version: fall back to the CLI */
  | { t: 'v'; version: number }
  /** the rest of the answer comes within MS milliseconds (the daemon's budget) */
  | { t: 'w'; ms: number }
  /** a file the loaded state depends on: newer than the hook's stamp, ask at the next prompt */
  | { t: 'f'; path: string };

/** Fields each record type carries after its letter. */
const ARITY: Record<string, number> = { x: 2, u: 1, m: 1, k: 1, g: 1, p: 0, v: 1, w: 1, f: 1, z: 1 };

function fieldsOf(r: HookRecord): string[] {
  switch (r.t) {
    case 'x': return ['x', r.name, r.value];
    case 'u': return ['u', r.name];
    case 'm': return ['m', r.text];
    case 'k': return ['k', r.markers.join(':')];
    case 'g': return ['g', String(r.generation)];
    case 'p': return ['p'];
    case 'v': return ['v', String(r.version)];
    case 'w': return ['w', String(Math.max(0, Math.round(r.ms)))];
    case 'f': return ['f', r.path];
  }
}

function encodeFields(fields: string[]): Buffer {
  for (const f of fields) {
    // Every caller checks first (outcome → records); a NUL here would shift every field after it.
    if (f.includes('\0')) throw new HookProtocolError('a reply field contains NUL');
  }
  // Values are byte strings: their exact bytes go out (a hook applies them as they come).
  return encodeBytes(fields.map((f) => f + '\0').join(''));
}

/** `ENVD-HOOK 1 ID` and the given records (no `z`): the part sent as soon as a header is read. */
export function encodeReplyHead(id: string, records: HookRecord[] = []): Buffer {
  return encodeFields([HOOK_MAGIC, String(HOOK_VERSION), id, ...records.flatMap(fieldsOf)]);
}

/** Records and the closing `z ID`. */
export function encodeReplyTail(id: string, records: HookRecord[]): Buffer {
  return encodeFields([...records.flatMap(fieldsOf), 'z', id]);
}

export function encodeReply(id: string, records: HookRecord[]): Buffer {
  return Buffer.concat([encodeReplyHead(id), encodeReplyTail(id, records)]);
}

export type DecodedReply =
  | { status: 'complete'; records: HookRecord[]; bytes: number }
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string };

function recordOf(t: string, a: string[]): HookRecord | null {
  const [a0 = '', a1 = ''] = a;
  switch (t) {
    case 'x': return isValidName(a0) ? { t, name: a0, value: a1 } : null;
    case 'u': return isValidName(a0) ? { t, name: a0 } : null;
    case 'm': return { t, text: a0 };
    case 'k': return { t, markers: a0.split(':').filter((m) => m !== '') };
    case 'g': return /^[0-9]+$/.test(a0) ? { t, generation: Number(a0) } : null;
    case 'p': return { t };
    case 'v': return /^[0-9]+$/.test(a0) ? { t, version: Number(a0) } : null;
    case 'w': return /^[0-9]+$/.test(a0) ? { t, ms: Number(a0) } : null;
    case 'f': return a0.startsWith('/') ? { t, path: a0 } : null;
    default: return null;
  }
}

/**
 * Read one reply to request `id` from the start of `buf`, as a hook does: nothing counts
 * until `z ID` closes it at a record boundary. Records are returned only when complete.
 */
export function decodeReply(buf: Buffer, id: string): DecodedReply {
  const fields: string[] = [];
  const ends: number[] = [];
  let start = 0;
  for (;;) {
    const nul = buf.indexOf(0, start);
    if (nul === -1) break;
    fields.push(decodeBytes(buf.subarray(start, nul)));
    ends.push(nul + 1);
    start = nul + 1;
  }
  const head = [HOOK_MAGIC, String(HOOK_VERSION), id];
  for (let i = 0; i < head.length; i++) {
    if (i >= fields.length) return { status: 'incomplete' };
    if (fields[i] !== head[i]) return { status: 'invalid', reason: `field ${i} is not ${JSON.stringify(head[i])}` };
  }
  const records: HookRecord[] = [];
  let i = head.length;
  while (i < fields.length) {
    const t = fields[i] ?? '';
    const n = ARITY[t];
    if (n === undefined) return { status: 'invalid', reason: `unknown record ${JSON.stringify(t)}` };
    if (i + n >= fields.length) return { status: 'incomplete' };
    const args = fields.slice(i + 1, i + 1 + n);
    if (t === 'z') {
      if (args[0] !== id) return { status: 'invalid', reason: 'answer to another request' };
      return { status: 'complete', records, bytes: ends[i + n] ?? buf.length };
    }
    const r = recordOf(t, args);
    if (r === null) return { status: 'invalid', reason: `bad ${t} record` };
    records.push(r);
    i += n + 1;
  }
  return { status: 'incomplete' };
}

/**
 * A request as the hooks write it (`printf '%s\0'`): used by tests and by anything in Node
 * that speaks to the daemon as a hook would. Values are bytes (a Buffer passes through
 * unchanged, so tests can send what no JS string can hold).
 */
export function encodeRequest(h: { version?: number | string; id: string; shell: string; flags?: string; cwd: string | Buffer }, env: Array<[string, string | Buffer]>): Buffer {
  const parts: Buffer[] = [];
  const put = (f: string | Buffer): void => {
    parts.push(typeof f === 'string' ? encodeBytes(f) : f, Buffer.alloc(1));
  };
  put(HOOK_MAGIC);
  put(String(h.version ?? HOOK_VERSION));
  put(h.id);
  put(h.shell);
  put(h.flags ?? '');
  put(h.cwd);
  for (const [name, value] of env) {
    put(name);
    put(value);
  }
  put('');
  return Buffer.concat(parts);
}

// ---- bash's environment as a file ------------------------------------------------------

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
