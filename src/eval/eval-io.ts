import type { Env } from '../env/diff.js';
import { encodeBytes } from '../env/bytes.js';
import { parseDeclarePx } from '../protocol/hook-records.js';
import type { RpcContext, RpcHandler } from './rpc-types.js';
import { errorMessage } from '../util/errors.js';
import { keepRecent } from '../util/recent.js';

/** What an evaluation is given and what it gives back, whichever bash runs it. */

export interface EvalInput {
  /** Directory to run in (the .envrc's). */
  dir: string;
  /** The exact bytes to run (already hashed and trusted). */
  script: Buffer;
  /** Environment the evaluation starts from (envd's previous changes reverted). */
  env: Env;
  /** Variables only for the evaluation (DIRENV_*, __ENVD_*). */
  extraEnv: Env;
  bashPath: string;
  timeoutMs: number;
  handlers: Record<string, RpcHandler>;
  ctx: RpcContext;
  /** Called once if still running after this long (direnv's warn_timeout). */
  warnAfterMs?: number;
  onSlow?: () => void;
}

export type EvalStatus = 'ok' | 'exit' | 'timeout' | 'spawn-error' | 'protocol';

export interface EvalOutput {
  status: EvalStatus;
  exitCode: number | null;
  /** The exported environment at the end (status 'ok' only); raw bytes per value. */
  dump: Map<string, Buffer> | null;
  /** What the file printed (stdout and stderr), capped. */
  output: string;
  detail: string;
}

/**
 * After an evaluation's bash exits, how long what it started may hold envd's descriptors
 * (its output, the private socket) before its process group is killed.
 */
export const LINGER_MS = 100;

/** Output of the user's file kept for display; the rest is counted and dropped. */
export const MAX_OUTPUT = 64 * 1024;

/** What an evaluation printed, capped at MAX_OUTPUT; the rest is counted. */
export class OutputCap {
  text = '';
  dropped = 0;

  add(chunk: Buffer): void {
    const room = MAX_OUTPUT - this.text.length;
    if (room > 0) this.text += chunk.subarray(0, room).toString('utf8');
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
  }

  /** The text, with a line saying how much was left out. */
  shown(): string {
    return this.dropped > 0 ? `${this.text}\n[${this.dropped} more bytes of output not shown]\n` : this.text;
  }
}

/**
 * The last `declare -px` dumps read, by their bytes. Entering a project runs its file
 * again, and most files leave the same environment every time: the same text is the same
 * variables, without reading bash's quoting again (a fifth of the daemon's work on an entry).
 */
const recentDumps = new Map<string, Map<string, Buffer>>();
const RECENT_DUMPS = 16;

/** The exported environment the EXIT trap sent, as name -> exact bytes. */
export function dumpMap(kind: 'dump' | 'dump-px', fields: Buffer[]): Map<string, Buffer> {
  if (kind === 'dump-px') {
    const text = fields[0];
    if (fields.length !== 1 || text === undefined) throw new Error('the evaluation sent a malformed environment dump');
    const key = text.toString('latin1');
    const known = recentDumps.get(key);
    // A copy: the caller's map is its own (the values are not written to).
    if (known !== undefined) return new Map(known);
    const dump = new Map<string, Buffer>();
    const { env } = parseDeclarePx(text, 'dump');
    for (const [name, value] of Object.entries(env)) dump.set(name, encodeBytes(value));
    // Small ones only: a huge environment is read each time rather than kept.
    if (text.length > 64 * 1024) return dump;
    keepRecent(recentDumps, key, dump, RECENT_DUMPS);
    return new Map(dump);
  }
  const dump = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name !== undefined && value !== undefined) dump.set(name.toString('utf8'), value);
  }
  return dump;
}

/** How an evaluation's bash ended, as its driver saw it. */
export interface Ending {
  killedFor: 'timeout' | 'protocol' | null;
  protocolDetail: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the private socket delivered: the final dump, if any. */
  rpc: { dump: Buffer[] | null; dumpKind: 'dump' | 'dump-px' } | null;
  timeoutMs: number;
  output: string;
}

/** The evaluation's result from how it ended: ok only with status 0 and a readable dump. */
export function evalOutput(e: Ending): EvalOutput {
  let status: EvalStatus;
  let detail: string;
  if (e.killedFor === 'timeout') {
    status = 'timeout';
    detail = `timed out after ${Math.round(e.timeoutMs / 1000)}s`;
  } else if (e.killedFor === 'protocol') {
    status = 'protocol';
    detail = e.protocolDetail;
  } else if (e.code === 0 && e.rpc?.dump != null) {
    status = 'ok';
    detail = '';
  } else if (e.code === 0) {
    status = 'protocol';
    detail = 'the evaluation ended without reporting its environment';
  } else {
    status = 'exit';
    detail = e.signal !== null ? `killed by ${e.signal}` : `exit status ${e.code ?? '?'}`;
  }
  let dump: Map<string, Buffer> | null = null;
  if (status === 'ok' && e.rpc?.dump != null) {
    try {
      dump = dumpMap(e.rpc.dumpKind, e.rpc.dump);
    } catch (err) {
      status = 'protocol';
      detail = errorMessage(err);
    }
  }
  return { status, exitCode: e.code, dump, output: e.output, detail };
}
