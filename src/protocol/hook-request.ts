import { isShellName } from '../shells/names.js';
import { decodeBytes, encodeBytes } from '../env/bytes.js';
import { isValidName } from '../env/names.js';
import { HOOK_MAGIC, HOOK_VERSION, HookProtocolError, MAX_HOOK_REQUEST_BYTES, type HookShell } from './hook-format.js';

/** The request side of hook records: what a hook sends, and its incremental parser. */

const MAX_ID_BYTES = 64;
/**
 * A shell can stand in a directory deeper than PATH_MAX (4096): its $PWD is then longer.
 * The env file above it is still found (each shorter parent is looked at), so such a
 * request is served rather than refused as malformed.
 */
const MAX_CWD_BYTES = 64 * 1024;

/** Request ids: the hooks use a counter; anything printable and short is accepted. */
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const FLAGS_RE = /^[A-Za-z]{0,16}$/;

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
   * a value that is not UTF-8 is kept exactly, never mangled (test/hooks-bytes.test.ts:
   * "random byte strings (not UTF-8 too) round-trip exactly").
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
      case 'shell': {
        const shell = ascii(f);
        if (!isShellName(shell)) throw new HookProtocolError('bad shell field');
        this.requireHeader().shell = shell;
        this.phase = 'flags';
        return;
      }
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


/**
 * A request as the hooks write it (`printf '%s\0'`): used by tests and by anything in Node
 * that speaks to the daemon as a hook would. Values are bytes (a Buffer passes through
 * unchanged, so tests can send what no JS string can hold).
 */
export function encodeRequest(h: { version?: number | string; id: string; shell: string; flags?: string; cwd: string | Buffer }, env: Array<[string, string | Buffer]>): Buffer {
  // Strings joined and encoded at once (a client sending many requests pays one encode);
  // a Buffer field goes in as it is.
  const parts: Buffer[] = [];
  let text = '';
  const put = (f: string | Buffer): void => {
    if (typeof f === 'string') {
      text += f + '\0';
      return;
    }
    if (text !== '') parts.push(encodeBytes(text));
    text = '';
    parts.push(f, Buffer.alloc(1));
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
  if (parts.length === 0) return encodeBytes(text);
  if (text !== '') parts.push(encodeBytes(text));
  return Buffer.concat(parts);
}
