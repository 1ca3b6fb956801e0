import { HOOK_MAGIC, HOOK_VERSION } from '../protocol/hook-format.js';
import type { AnswerMemo, MemoEntry } from './answer-memo.js';
import type { StatBatch } from './stat-batch.js';
import { keepLatest } from '../util/recent.js';

/**
 * Replies ready to send, by the request's own bytes. A shell at its prompt sends the same
 * bytes again and again but for its request id (the same cwd, the same environment); once
 * an answer to those bytes was worked out, parsed and encoded (and kept by the answer memo,
 * which re-validates it by its stamps), the same bytes get the same encoded records, with
 * only the id and the budget framed around them. No parsing, no key built from the
 * environment, no records encoded: the cached path is a table look-up and the memo's stats.
 */

const HEAD = Buffer.from(`${HOOK_MAGIC}\0${HOOK_VERSION}\0`, 'latin1');
const MAX_ID_BYTES = 64;
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
/** Requests larger than this are not looked up (a huge environment: the parser's path). */
export const MAX_REPLAYED_BYTES = 256 * 1024;
/** Replies kept: the memo keeps 256 answers; a few shells and colours share them. */
const MAX_READY = 256;

export interface ScannedHead {
  id: string;
  /** Where the request's bytes after its id begin (shell, flags, cwd, environment). */
  rest: number;
}

/**
 * The id of a request at the start of `buf`, and where the rest of it begins; null when
 * it is anything else (another version, a bad id: the parser's to answer). The rest of
 * the chunk, as a latin1 string, is the key: it finds a reply only when it is byte for
 * byte a request that the real parser read whole before (so exactly one whole request).
 */
export function scanHead(buf: Buffer): ScannedHead | null {
  if (buf.length < HEAD.length || buf.compare(HEAD, 0, HEAD.length, 0, HEAD.length) !== 0) return null;
  const idEnd = buf.indexOf(0, HEAD.length);
  if (idEnd === -1 || idEnd === HEAD.length || idEnd - HEAD.length > MAX_ID_BYTES) return null;
  const id = buf.toString('latin1', HEAD.length, idEnd);
  if (!ID_RE.test(id)) return null;
  return { id, rest: idEnd + 1 };
}

/**
 * Flags a kept reply may carry: `c` (colour), `l` (leave plans: part of the records, and of
 * the key as every flag is), `n` (entering: kept only for an answer the flag cannot
 * change, answer-memo.ts FILE_ONLY_KINDS) and `s` (how a FIFO pair writes the reply, not
 * what it holds), each once. `e`, `t` and unknown letters never.
 */
export function replayableFlags(flags: string): boolean {
  return /^[clns]{0,4}$/.test(flags) && new Set(flags).size === flags.length;
}

/**
 * Flags of a front-door request (bin/envd, cli-answer.ts) whose reply may be kept: `E` and
 * `t`, with `j`, `r`, `b`, `c` (each a part of the key, as the bytes of the request are).
 * Never `n` or `e`, nor an unknown letter.
 */
export function replayableCliFlags(flags: string): boolean {
  return flags.includes('E') && flags.includes('t') && /^[Etjrbc]+$/.test(flags);
}

/** The flags field of the request whose bytes after its id begin at `rest`; null if cut off. */
export function flagsAt(buf: Buffer, rest: number): string | null {
  const shellEnd = buf.indexOf(0, rest);
  if (shellEnd === -1) return null;
  const flagsEnd = buf.indexOf(0, shellEnd + 1);
  return flagsEnd === -1 ? null : buf.toString('latin1', shellEnd + 1, flagsEnd);
}

/**
 * A front-door request's key: its bytes after its id, and its environment (the pair's
 * `.env` file, flag `E`) up to the entry `#envd ID` that ends it for this request (the
 * file is rewritten in place: what follows is an earlier request's). Null when that entry
 * is not there (the parser then says what is wrong).
 */
export function cliReplayKey(rest: string, id: string, env: Buffer): string | null {
  const end = Buffer.from(`#envd ${id}\0`, 'latin1');
  for (let at = env.indexOf(end); at !== -1; at = env.indexOf(end, at + 1)) {
    if (at === 0 || env[at - 1] === 0) return `${rest}\0${env.toString('latin1', 0, at)}`;
  }
  return null;
}

/** `ENVD-HOOK 1 ID w MS`, the kept records, `g GENERATION`, `z ID`: one buffer, one write. */
export function frameReply(id: string, waitMs: number, body: Buffer, generation: number): Buffer {
  const ack = `${id}\0w\0${Math.max(0, Math.round(waitMs))}\0`;
  const end = `g\0${generation}\0z\0${id}\0`;
  const out = Buffer.allocUnsafe(HEAD.length + ack.length + body.length + end.length);
  let at = HEAD.copy(out, 0);
  at += out.write(ack, at, 'latin1');
  at += body.copy(out, at);
  out.write(end, at, 'latin1');
  return out;
}

export interface ReadyReply {
  readonly entry: MemoEntry;
  /** The records after the acknowledgement, up to the generation (`g`, added when sent). */
  readonly body: Buffer;
  readonly cwd: string;
  /** What the watcher is told the shell still uses (watchedPaths of the request). */
  readonly watched: readonly string[];
  /** When the watcher was last told (it counts idleness in minutes: once a second will do). */
  touchedAt: number;
}

/** Encoded replies by request bytes, each valid exactly as long as its memo entry. */
export class ReplyCache {
  private readonly ready = new Map<string, ReadyReply>();

  constructor(private readonly memo: AnswerMemo, private readonly max = MAX_READY) {}

  get(key: string, generation: number, stats?: StatBatch): ReadyReply | null {
    const r = this.ready.get(key);
    if (r === undefined) return null;
    if (!this.memo.holds(r.entry, generation, stats)) {
      this.ready.delete(key);
      return null;
    }
    return r;
  }

  put(key: string, reply: ReadyReply): void {
    // Oldest first out (insertion order; a hit does not reorder: the memo's own LRU and
    // `live` decide what stays valid).
    keepLatest(this.ready, key, reply, this.max);
  }

  clear(): void {
    this.ready.clear();
  }

  get size(): number {
    return this.ready.size;
  }
}
