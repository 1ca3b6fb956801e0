import type { Duplex, Readable, Writable } from 'node:stream';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../engine/types.js';
import { STATE_VARS } from '../env/names.js';
import { checkedOps, valueAsApplied } from '../env/render.js';
import {
  encodeReply, encodeReplyHead, encodeReplyTail, HOOK_VERSION, HookProtocolError, HookRequestParser, parseDeclarePx,
  type HookHeader, type HookParseEvent, type HookRecord, type HookRequest, type HookShell,
} from '../protocol/hook-records.js';
import { errorMessage } from '../util/errors.js';
import { red, shown } from '../util/colour.js';
import { printable } from '../util/printable.js';

export { startFifoTransport } from './fifo.js';

/** What the hook transports need from the daemon. */
export interface HookBackend {
  export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome>;
  generation(): number;
  /** How long an evaluation may take before the answer is `pending` (config async_budget). */
  budgetMs(): number;
  /** File names the hooks look for when walking up (the engine's `markers()`). */
  markers?(): string[];
  /**
   * Why a request with this environment is not the daemon's to serve (another HOME, config
   * or data dir), or null. Such a request is answered `v`: the hook asks `envd export`,
   * which works in-process with that environment's own config and allowlist.
   */
  foreign?(env: Readonly<Record<string, string>>): string | null;
}

/** Sent when the backend cannot say: `.envrc` and `.env` are a superset of the defaults. */
const DEFAULT_MARKERS = ['.envrc', '.env'];
/** However the budget is configured, a prompt is never told to wait longer than this. */
export const MAX_HOOK_WAIT_MS = 10_000;
const FALLBACK_WAIT_MS = 200;

/** Where a session's answers go: a socket, or a bash FIFO pair (fifo.ts). */
export interface ReplySink {
  /** A request's header was read: the daemon is alive and answers within `waitMs`. */
  ack(id: string, waitMs: number): void;
  /** The rest of the answer to `id` (records; the sink adds the closing `z`). */
  answer(id: string, records: HookRecord[]): void;
  /** A hook version this daemon does not speak: a whole reply with `v`, then close. */
  refuse(id: string): void;
  /** The input ended and every request has been answered. */
  end(): void;
  /** Bad input (or an internal failure): close this stream only. */
  fail(err: unknown): void;
}

/** A record field cannot hold NUL (it ends fields): a message never carries one. */
function clean(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '') : text;
}

/**
 * The records a hook applies for an outcome. Names and values are checked as `envd export`
 * checks them (render.ts: checkName, the shell's own special names, checkValue), so both
 * transports refuse the same things with the same warnings. If one of envd's own state
 * variables would be refused, nothing is applied: a half-applied change without its state
 * could not be undone.
 */
export function outcomeRecords(outcome: ExportOutcome, shell: HookShell, colour = false): HookRecord[] {
  const warnings: string[] = [];
  const ops = checkedOps(shell, outcome.change, warnings);
  const notes: string[] = [...outcome.messages, ...warnings].map(clean);
  const changes: HookRecord[] = [];
  for (const op of ops) {
    if (op.kind === 'unset') { changes.push({ t: 'u', name: op.name }); continue; }
    const applied = valueAsApplied(shell, op.name, op.value);
    if (applied !== op.value) notes.push(`envd: ${op.name}: fish keeps empty entries as '.' (the current directory, which is what an empty entry means)`);
    changes.push({ t: 'x', name: op.name, value: applied });
  }
  const kept = new Set(ops.map((o) => o.name));
  const wanted = [...outcome.change.unset, ...Object.keys(outcome.change.set)];
  const stateRefused = (STATE_VARS as readonly string[]).find((n) => wanted.includes(n) && !kept.has(n));
  if (stateRefused !== undefined) {
    notes.push(`envd: nothing applied: envd's state variable ${stateRefused} could not be set`);
    changes.length = 0;
  }
  const records: HookRecord[] = notes.map((text) => ({ t: 'm', text: shown(text, colour) }));
  records.push(...changes);
  if (outcome.kind === 'pending') records.push({ t: 'p' });
  for (const path of outcome.deps ?? []) if (path.startsWith('/') && !path.includes('\0')) records.push({ t: 'f', path });
  return records;
}

/**
 * One hook stream: requests in order, each acknowledged when its header is read and
 * answered when the engine has an outcome (within the budget, else `pending`).
 */
export class HookSession {
  private readonly parser = new HookRequestParser();
  private queue: Promise<void> = Promise.resolve();
  private body: ((req: HookRequest | null) => void) | null = null;
  private closed = false;

  /**
   * `envFile`: where a request with flag `e` keeps its environment (bash's FIFO pair has a
   * `.env` file with `declare -px` output); a transport without one refuses such requests.
   */
  constructor(private readonly backend: HookBackend, private readonly sink: ReplySink, private readonly envFile?: () => Buffer) {}

  push(chunk: Buffer): void {
    if (this.closed) return;
    let events: HookParseEvent[];
    try {
      events = this.parser.push(chunk);
    } catch (err) {
      this.abort(err);
      return;
    }
    for (const ev of events) this.onEvent(ev);
  }

  /** The input ended: answer what is complete, drop a half request, then end the output. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.body?.(null);
    this.body = null;
    this.enqueue(() => { this.sink.end(); });
  }

  abort(err: unknown): void {
    this.closed = true;
    this.body?.(null);
    this.body = null;
    this.sink.fail(err);
  }

  private onEvent(ev: HookParseEvent): void {
    switch (ev.type) {
      case 'header': {
        const body = new Promise<HookRequest | null>((resolve) => { this.body = resolve; });
        const header = ev.header;
        this.enqueue(() => this.serve(header, body));
        return;
      }
      case 'request': {
        const resolve = this.body;
        this.body = null;
        resolve?.(ev.request);
        return;
      }
      case 'unsupported':
        this.closed = true;
        this.enqueue(() => { this.sink.refuse(ev.id); });
        return;
    }
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.queue = this.queue.then(task).catch((err: unknown) => { this.abort(err); });
  }

  private waitMs(): number {
    let b: number;
    try {
      b = this.backend.budgetMs();
    } catch {
      return FALLBACK_WAIT_MS;
    }
    if (Number.isNaN(b)) return FALLBACK_WAIT_MS;
    return Math.max(0, Math.min(b, MAX_HOOK_WAIT_MS));
  }

  /** The generation now if it moved by exactly one since `before`, else `before`. */
  private generationAfter(before: number): number {
    try {
      const now = this.backend.generation();
      return now === before + 1 ? now : before;
    } catch {
      return before;
    }
  }

  private async serve(header: HookHeader, body: Promise<HookRequest | null>): Promise<void> {
    const waitMs = this.waitMs();
    this.sink.ack(header.id, waitMs);
    const req = await body;
    if (req === null) return;
    if (req.header.flags.includes('e')) {
      try {
        if (this.envFile === undefined) throw new HookProtocolError('this transport has no environment file (flag e)');
        req.env = parseDeclarePx(this.envFile(), header.id).env;
      } catch (err) {
        this.abort(err);
        return;
      }
    }
    // Read before evaluating: an evaluation that finishes later bumps past this number,
    // so a hook that got `pending` always asks again.
    let generation = 0;
    let markers = DEFAULT_MARKERS;
    try {
      generation = this.backend.generation();
      markers = this.backend.markers?.() ?? DEFAULT_MARKERS;
    } catch {
      // Not ready: answer with what we have; the hook asks again when the generation moves.
    }
    let foreign: string | null;
    try {
      foreign = this.backend.foreign?.(req.env) ?? null;
    } catch (err) {
      foreign = errorMessage(err);
    }
    if (foreign !== null) {
      this.sink.answer(header.id, [{ t: 'v', version: HOOK_VERSION }]);
      return;
    }
    let records: HookRecord[];
    // Flag `c`: the hook's stderr is a terminal and NO_COLOR is unset.
    const colour = req.header.flags.includes('c');
    try {
      // req.env is the parser's own prototype-free map, made for this request. A cwd that
      // is not UTF-8 is refused by the service with a message naming it.
      const outcome = await this.backend.export({ cwd: req.header.cwd, env: req.env }, { budgetMs: waitMs, fresh: req.header.flags.includes('n') });
      // The evaluation this answer carries moved the generation when it finished: the
      // number after it, so the shell does not ask again at once for what it already has
      // (zsh and fish ask after a cd and again at the prompt). Moved by more, something
      // else happened meanwhile: the number from before, and the shell asks again.
      if (outcome.evaluated === true) generation = this.generationAfter(generation);
      records = outcomeRecords(outcome, req.header.shell, colour);
    } catch (err) {
      // Errors may quote a path (Node's own messages do): never raw control characters.
      const text = `envd: ${printable(errorMessage(err).replace(/^envd: /, ''))}`;
      records = [{ t: 'm', text: colour ? red(text) : text }];
    }
    records.push({ t: 'k', markers: markers.filter((m) => m !== '' && !m.includes(':') && !m.includes('\0')) });
    records.push({ t: 'g', generation });
    this.sink.answer(header.id, records);
  }
}

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
    end: finish,
    fail: kill,
  });
  input.on('data', (chunk: Buffer | string) => session.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  input.on('end', () => session.end());
  input.on('error', kill);
  if (!same) output.on('error', kill);
  input.on('close', () => { if (!dead && !input.readableEnded) session.abort(new Error('stream closed')); });
}
