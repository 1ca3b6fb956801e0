import type { ExportOutcome } from '../engine/types.js';
import { STATE_VARS } from '../env/names.js';
import { checkedOps, valueAsApplied } from '../env/render.js';
import {
  encodeRecords, HOOK_VERSION, HookProtocolError, HookRequestParser, parseDeclarePx, parseEnviron,
  type HookHeader, type HookParseEvent, type HookRecord, type HookRequest, type HookShell,
} from '../protocol/hook-records.js';
import { errorMessage } from '../util/errors.js';
import { red, shown } from '../util/colour.js';
import { printable } from '../util/printable.js';
import type { HookBackend, KeptReply, LeaveAnswer } from './backend.js';
import { cliBudgetMs, cliErrorRecords, cliRecords, isCliRequest } from './cli-answer.js';
import { FILE_ONLY_KINDS } from './answer-memo.js';
import { leaveRecords } from './leave-plan.js';
import {
  cliReplayKey, flagsAt, frameReply, MAX_REPLAYED_BYTES, replayableCliFlags, replayableFlags, scanHead, type ScannedHead,
} from './hook-replay.js';

/** Sent when the backend cannot say: `.envrc` and `.env` are a superset of the defaults. */
const DEFAULT_MARKERS = ['.envrc', '.env'];
/** However the budget is configured, a prompt is never told to wait longer than this. */
const MAX_HOOK_WAIT_MS = 10_000;
const FALLBACK_WAIT_MS = 200;
/** A hook stream remembers its last request's bytes (replayKey) up to this size. */
const MAX_REMEMBERED_BYTES = 64 * 1024;

/** Where a session's answers go: a socket, or a bash FIFO pair (fifo.ts). */
export interface ReplySink {
  /** A request's header was read: the daemon is alive and answers within `waitMs`. */
  ack(id: string, waitMs: number): void;
  /**
   * The rest of the answer to `id` (records; the sink adds the closing `z`). `flags`: the
   * request's (a FIFO pair writes fields ended by RS for flag `s`, fifo-pair.ts).
   */
  answer(id: string, records: HookRecord[], flags: string): void;
  /** A hook version this daemon does not speak: a whole reply with `v`, then close. */
  refuse(id: string): void;
  /**
   * A whole reply to `id`, framed already (a kept one: hook-replay.ts). A sink without it
   * gets every request the whole way.
   */
  whole?(id: string, reply: Buffer, flags: string): void;
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
  for (const path of outcome.promptDeps ?? outcome.deps ?? []) if (path.startsWith('/') && !path.includes('\0')) records.push({ t: 'f', path });
  return records;
}

function markersRecord(markers: readonly string[]): HookRecord {
  return { t: 'k', markers: markers.filter((m) => m !== '' && !m.includes(':') && !m.includes('\0')) };
}

/**
 * Records by outcome: the daemon hands out the same outcome object for a memoized answer
 * (answer-memo.ts), and its records are the same for the same shell and colour.
 */
const recordsByOutcome = new WeakMap<ExportOutcome, Map<string, readonly HookRecord[]>>();

function recordsFor(outcome: ExportOutcome, shell: HookShell, colour: boolean, plan: ((o: ExportOutcome) => HookRecord[]) | null = null): HookRecord[] {
  let byShell = recordsByOutcome.get(outcome);
  if (byShell === undefined) {
    byShell = new Map();
    recordsByOutcome.set(outcome, byShell);
  }
  // An outcome answers one environment (the memo keys it by the request's), so its plan too.
  const key = `${shell}${colour ? '+c' : ''}${plan !== null ? '+l' : ''}`;
  let records = byShell.get(key);
  if (records === undefined) {
    records = plan !== null ? [...outcomeRecords(outcome, shell, colour), ...plan(outcome)] : outcomeRecords(outcome, shell, colour);
    byShell.set(key, records);
  }
  return [...records];
}

/** Where the line `#envd ID` starts in `.env` text (at the start of a line), or -1. */
function endOfDeclared(buf: Buffer, id: string): number {
  const line = Buffer.from(`#envd ${id}\n`, 'latin1');
  for (let at = buf.indexOf(line); at !== -1; at = buf.indexOf(line, at + 1)) {
    if (at === 0 || buf[at - 1] === 0x0a) return at;
  }
  return -1;
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
  /** Requests read and not yet answered: a kept reply must not overtake one. */
  private busy = 0;
  /** The bytes of the request the next header starts, when it came whole (hook-replay.ts). */
  private nextRaw: string | null = null;
  /** The `.env` file as read for that key (flag `E`): the same bytes serve the request. */
  private nextEnv: Buffer | null = null;
  private keyEnv: Buffer | null = null;
  /** The last key made from a request's bytes alone (no flag `e` or `E`), and those bytes. */
  private lastPlain: { bytes: Buffer; key: string; flags: string } | null = null;
  /** The last `.env` text read with flag `e` (up to its `#envd ID` line) and its variables. */
  private lastDeclared: { text: Buffer; env: Record<string, string> } | null = null;

  /**
   * `envFile`: where a request with flag `e` keeps its environment (bash's FIFO pair has a
   * `.env` file with `declare -px` output); a transport without one refuses such requests.
   */
  constructor(private readonly backend: HookBackend, private readonly sink: ReplySink, private readonly envFile?: () => Buffer) {}

  push(chunk: Buffer): void {
    if (this.closed) return;
    // A chunk that is exactly a request the parser read whole before: its kept reply.
    let candidate: string | null = null;
    this.keyEnv = null;
    if (this.sink.whole !== undefined && this.backend.replay !== undefined && this.busy === 0 &&
      !this.parser.midRequest && chunk.length <= MAX_REPLAYED_BYTES) {
      const head = scanHead(chunk);
      if (head !== null) {
        const found = this.replayKey(chunk, head);
        candidate = found?.key ?? null;
        if (found !== null && this.replayed(head.id, found.key, found.flags)) return;
      }
    }
    let events: HookParseEvent[];
    try {
      events = this.parser.push(chunk);
    } catch (err) {
      this.abort(err);
      return;
    }
    // The chunk held one whole request and nothing else: its bytes are its key.
    const whole = candidate !== null && !this.parser.midRequest && events.length === 2 &&
      events[0]?.type === 'header' && events[1]?.type === 'request';
    this.nextRaw = whole ? candidate : null;
    this.nextEnv = whole ? this.keyEnv : null;
    try {
      for (const ev of events) this.onEvent(ev);
    } finally {
      this.nextRaw = null;
      this.nextEnv = null;
    }
  }

  /**
   * The key a kept reply would be found by, with the request's flags: the request's bytes
   * after its id; for a front-door request (flag `E`), with its environment from the `.env`
   * file. Null for a
   * request whose reply is never kept with its bytes alone (flag `e`: the environment is in
   * the file) or whose file cannot be read (the whole path then says why).
   */
  private replayKey(chunk: Buffer, head: ScannedHead): { key: string; flags: string } | null {
    // A shell at its prompt sends the same bytes as last time but for the id: the same key
    // (the same string, whose hash V8 keeps), without decoding and hashing them again.
    const last = this.lastPlain;
    const restBytes = chunk.length - head.rest;
    if (last !== null && last.bytes.length === restBytes && chunk.compare(last.bytes, 0, restBytes, head.rest) === 0) return last;
    const rest = chunk.toString('latin1', head.rest);
    const flags = flagsAt(chunk, head.rest);
    if (flags === null || (!flags.includes('e') && !flags.includes('E'))) {
      const found = { key: rest, flags: flags ?? '' };
      // A copy per connection: only of a request of ordinary size.
      this.lastPlain = restBytes <= MAX_REMEMBERED_BYTES ? { bytes: Buffer.from(chunk.subarray(head.rest)), ...found } : null;
      return found;
    }
    if (!replayableCliFlags(flags) || this.envFile === undefined) return null;
    try {
      this.keyEnv = this.envFile();
      const key = cliReplayKey(rest, head.id, this.keyEnv);
      return key === null ? null : { key, flags };
    } catch {
      return null;
    }
  }

  /** Answered from a kept reply (core.ts replay), or false. */
  private replayed(id: string, key: string, flags: string): boolean {
    let kept: KeptReply | null = null;
    try {
      kept = this.backend.replay?.(key) ?? null;
    } catch {
      kept = null;
    }
    if (kept === null) return false;
    this.sink.whole?.(id, frameReply(id, this.waitMs(), kept.body, kept.generation), flags);
    return true;
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
        const raw = this.nextRaw;
        const env = this.nextEnv;
        this.nextRaw = null;
        this.nextEnv = null;
        this.busy++;
        this.enqueue(async () => {
          try {
            await this.serve(header, body, raw, env);
          } finally {
            this.busy--;
          }
        });
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

  /**
   * `declare -px` output read from the pair's `.env` file (flag `e`), as parseDeclarePx
   * reads it. A shell asks from the same environment again and again (every entry into a
   * project starts from the one it left to), and only the `#envd ID` line after it
   * differs: the same bytes before that line are the same variables, so the last ones are
   * kept and handed out as a copy (the request's map is its own).
   */
  private declared(buf: Buffer, id: string): Record<string, string> {
    const end = endOfDeclared(buf, id);
    const last = this.lastDeclared;
    if (end >= 0 && last !== null && last.text.length === end && buf.compare(last.text, 0, end, 0, end) === 0) {
      return Object.assign(Object.create(null) as Record<string, string>, last.env);
    }
    const env = parseDeclarePx(buf, id).env;
    if (end >= 0) this.lastDeclared = { text: Buffer.from(buf.subarray(0, end)), env: Object.assign(Object.create(null) as Record<string, string>, env) };
    return env;
  }

  /**
   * Flag `l`: the hook takes leave plans (leaveRecords), for the outcome it is answered.
   * Null without the flag, or when the backend cannot make them.
   */
  private planFor(req: HookRequest): ((o: ExportOutcome) => HookRecord[]) | null {
    const backend = this.backend;
    if (backend.leaveFrom === undefined || !req.header.flags.includes('l') || isCliRequest(req.header)) return null;
    const leaveFrom = (after: Record<string, string>): LeaveAnswer | null => backend.leaveFrom?.(after) ?? null;
    return (o: ExportOutcome) => {
      try {
        return leaveRecords(req.env, o, req.header.shell, req.header.flags.includes('c'), leaveFrom, outcomeRecords);
      } catch {
        // No plan: the hook asks on leaving, as it always could.
        return [];
      }
    };
  }

  /**
   * `raw`: the request's bytes after its id, when it came whole (its answer may be kept);
   * `envRead`: its `.env` file as read for that key (flag `E`), or null.
   */
  private async serve(header: HookHeader, body: Promise<HookRequest | null>, raw: string | null, envRead: Buffer | null): Promise<void> {
    const waitMs = this.waitMs();
    this.sink.ack(header.id, waitMs);
    const req = await body;
    if (req === null) return;
    // The environment in the pair's `.env` file: `declare -px` output (flag `e`, the bash
    // hook), or /proc/PID/environ as it is (flag `E`, bin/envd's front door).
    const environ = req.header.flags.includes('E');
    if (environ || req.header.flags.includes('e')) {
      try {
        if (this.envFile === undefined) throw new HookProtocolError('this transport has no environment file (flag e)');
        req.env = environ ? parseEnviron(envRead ?? this.envFile(), header.id).env : this.declared(this.envFile(), header.id);
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
      this.sink.answer(header.id, [{ t: 'v', version: HOOK_VERSION }], header.flags);
      return;
    }
    let records: HookRecord[];
    let kept: ExportOutcome | null = null;
    // Flag `c`: the hook's stderr is a terminal and NO_COLOR is unset.
    const colour = req.header.flags.includes('c');
    // bin/envd's front door: the CLI's answer, waited for (cli-answer.ts).
    const cli = isCliRequest(req.header);
    try {
      // req.env is the parser's own prototype-free map, made for this request. A cwd that
      // is not UTF-8 is refused by the service with a message naming it.
      const outcome = await this.backend.export({ cwd: req.header.cwd, env: req.env },
        cli ? { budgetMs: cliBudgetMs(req.header, waitMs), coarseWatcher: req.header.shell === 'tcsh' } : { budgetMs: waitMs, fresh: req.header.flags.includes('n') });
      // The evaluation this answer carries moved the generation when it finished: the
      // number after it, so the shell does not ask again at once for what it already has
      // (zsh and fish ask after a cd and again at the prompt). Moved by more, something
      // else happened meanwhile: the number from before, and the shell asks again.
      if (outcome.evaluated === true) generation = this.generationAfter(generation);
      records = cli ? cliRecords(outcome, req.header, colour) : recordsFor(outcome, req.header.shell, colour, this.planFor(req));
      // Flag `n` (entering) only for an answer the flag cannot change (answer-memo.ts).
      if (raw !== null && (cli ? replayableCliFlags(req.header.flags)
        : replayableFlags(req.header.flags) && (!req.header.flags.includes('n') || FILE_ONLY_KINDS.has(outcome.kind)))) kept = outcome;
    } catch (err) {
      // Errors may quote a path (Node's own messages do): never raw control characters.
      const text = `envd: ${printable(errorMessage(err).replace(/^envd: /, ''))}`;
      records = cli ? cliErrorRecords(text) : [{ t: 'm', text: colour ? red(text) : text }];
    }
    records.push(markersRecord(markers), { t: 'g', generation });
    this.sink.answer(header.id, records, header.flags);
    if (kept !== null && raw !== null) {
      const shell = req.header.shell;
      const backend = this.backend;
      // The records a hook gets for this outcome, as above (the daemon may work it out again
      // later: core.ts promote).
      const encode = (o: ExportOutcome): Buffer => {
        let m = DEFAULT_MARKERS;
        try {
          m = backend.markers?.() ?? DEFAULT_MARKERS;
        } catch {
          // As above: the defaults.
        }
        const body = cli ? cliRecords(o, req.header, colour) : recordsFor(o, shell, colour, this.planFor(req));
        return encodeRecords([...body, markersRecord(m)]);
      };
      try {
        backend.keepReply?.(raw, { cwd: req.header.cwd, env: req.env }, kept, generation, encode);
      } catch {
        // Not kept: the next request takes the whole path again.
      }
    }
  }
}

