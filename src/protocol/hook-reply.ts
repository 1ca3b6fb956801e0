import { decodeBytes, encodeBytes } from '../env/bytes.js';
import { isValidName } from '../env/names.js';
import { HOOK_MAGIC, HOOK_VERSION, HookProtocolError } from './hook-format.js';

/** The reply side of hook records: the records a daemon sends, encoded and decoded. */

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
  | { t: 'f'; path: string }
  /** bin/envd's front door (flag `t`, src/daemon/cli-answer.ts): text for stdout */
  | { t: 'o'; text: string }
  /** bin/envd's front door: the exit status */
  | { t: 's'; status: number }
  /** bin/envd's front door: the version the daemon speaks (another one than the front door's: the CLI decides) */
  | { t: 'V'; version: string }
  /**
   * A leave plan (request flag `l`): leaving for a directory where no env file is found, the
   * hook may apply these without asking when NAME is still `now` (null: not exported) for
   * every one of them; it then sets NAME to `then` (null: unset; undefined: as it is).
   */
  | { t: 'l'; name: string; now: string | null; then: string | null | undefined }
  /** A leave plan's message, printed on stderr when the plan is applied. */
  | { t: 'L'; text: string }
  /**
   * A leave plan follows: its `L` and `l` records, FIELDS fields in all (letters included),
   * so a hook can keep them as one slice without walking them record by record.
   */
  | { t: 'P'; fields: number };

type RecordLetter = HookRecord['t'];

/** How one record travels: the fields after its letter, from the record and back. */
interface RecordSpec<R extends HookRecord> {
  /** The fields' names, in order (their count is what a reader skips). */
  readonly fields: readonly string[];
  encode(r: R): string[];
  /** null: the fields are not a valid record of this type. */
  decode(args: readonly string[]): R | null;
}

const UINT = /^[0-9]+$/;

/**
 * Every record, declared once: a record added to HookRecord without an entry here is a
 * type error, and the encoder, the decoder and the field counts all come from this table.
 */
const RECORDS: { readonly [T in RecordLetter]: RecordSpec<Extract<HookRecord, { t: T }>> } = {
  x: { fields: ['name', 'value'], encode: (r) => [r.name, r.value], decode: ([name = '', value = '']) => (isValidName(name) ? { t: 'x', name, value } : null) },
  u: { fields: ['name'], encode: (r) => [r.name], decode: ([name = '']) => (isValidName(name) ? { t: 'u', name } : null) },
  m: { fields: ['text'], encode: (r) => [r.text], decode: ([text = '']) => ({ t: 'm', text }) },
  k: { fields: ['markers'], encode: (r) => [r.markers.join(':')], decode: ([m = '']) => ({ t: 'k', markers: m.split(':').filter((x) => x !== '') }) },
  g: { fields: ['generation'], encode: (r) => [String(r.generation)], decode: ([g = '']) => (UINT.test(g) ? { t: 'g', generation: Number(g) } : null) },
  p: { fields: [], encode: () => [], decode: () => ({ t: 'p' }) },
  v: { fields: ['version'], encode: (r) => [String(r.version)], decode: ([v = '']) => (UINT.test(v) ? { t: 'v', version: Number(v) } : null) },
  w: { fields: ['ms'], encode: (r) => [String(Math.max(0, Math.round(r.ms)))], decode: ([ms = '']) => (UINT.test(ms) ? { t: 'w', ms: Number(ms) } : null) },
  f: { fields: ['path'], encode: (r) => [r.path], decode: ([path = '']) => (path.startsWith('/') ? { t: 'f', path } : null) },
  o: { fields: ['text'], encode: (r) => [r.text], decode: ([text = '']) => ({ t: 'o', text }) },
  s: { fields: ['status'], encode: (r) => [String(r.status)], decode: ([s = '']) => (UINT.test(s) ? { t: 's', status: Number(s) } : null) },
  V: { fields: ['version'], encode: (r) => [r.version], decode: ([version = '']) => ({ t: 'V', version }) },
  // `now`: `=VALUE`, or `-` for not exported; `then`: the same, or empty for "as it is".
  l: {
    fields: ['name', 'now', 'then'],
    encode: (r) => [r.name, planValue(r.now), r.then === undefined ? '' : planValue(r.then)],
    decode: ([name = '', now = '', then = '']) => {
      if (!isValidName(name) || (now !== '-' && !now.startsWith('=')) || (then !== '' && then !== '-' && !then.startsWith('='))) return null;
      return { t: 'l', name, now: fromPlanValue(now), then: then === '' ? undefined : fromPlanValue(then) };
    },
  },
  L: { fields: ['text'], encode: (r) => [r.text], decode: ([text = '']) => ({ t: 'L', text }) },
  P: { fields: ['fields'], encode: (r) => [String(r.fields)], decode: ([n = '']) => (UINT.test(n) ? { t: 'P', fields: Number(n) } : null) },
};

function planValue(v: string | null): string {
  return v === null ? '-' : `=${v}`;
}

function fromPlanValue(v: string): string | null {
  return v === '-' ? null : v.slice(1);
}

/** `z ID` closes a reply; it is not a record a hook applies. */
const END = 'z';

// Looked up by letters that come off the wire: a Map, so `__proto__` finds nothing.
const BY_LETTER: ReadonlyMap<string, RecordSpec<HookRecord>> = new Map(Object.entries(RECORDS) as Array<[string, RecordSpec<HookRecord>]>);

function fieldsOf<R extends HookRecord>(r: R): string[] {
  const spec = RECORDS[r.t] as RecordSpec<R>;
  return [r.t, ...spec.encode(r)];
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
  return encodeFields([...records.flatMap(fieldsOf), END, id]);
}

/** Records alone (no head, no `z ID`): what a daemon keeps to send again (hook-replay.ts). */
export function encodeRecords(records: HookRecord[]): Buffer {
  return encodeFields(records.flatMap(fieldsOf));
}

/** RS (0x1e), which ends each field instead of NUL in a reply for request flag `s`. */
const RS = 0x1e;

/**
 * An encoded reply with RS ending each field instead of NUL (request flag `s`: fish reads
 * a file without a NUL into one variable with one builtin, `read -z`), or the reply as it
 * is when a field holds an RS (the hook then reads it NUL-separated).
 */
export function withRecordSeparator(reply: Buffer): Buffer {
  if (reply.includes(RS)) return reply;
  const out = Buffer.from(reply);
  for (let i = out.indexOf(0); i !== -1; i = out.indexOf(0, i + 1)) out[i] = RS;
  return out;
}

export function encodeReply(id: string, records: HookRecord[]): Buffer {
  return Buffer.concat([encodeReplyHead(id), encodeReplyTail(id, records)]);
}

export type DecodedReply =
  | { status: 'complete'; records: HookRecord[]; bytes: number }
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string };

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
    if (t === END) {
      if (i + 1 >= fields.length) return { status: 'incomplete' };
      if (fields[i + 1] !== id) return { status: 'invalid', reason: 'answer to another request' };
      return { status: 'complete', records, bytes: ends[i + 1] ?? buf.length };
    }
    const spec = BY_LETTER.get(t);
    if (spec === undefined) return { status: 'invalid', reason: `unknown record ${JSON.stringify(t)}` };
    const n = spec.fields.length;
    if (i + n >= fields.length) return { status: 'incomplete' };
    const r = spec.decode(fields.slice(i + 1, i + 1 + n));
    if (r === null) return { status: 'invalid', reason: `bad ${t} record` };
    records.push(r);
    i += n + 1;
  }
  return { status: 'incomplete' };
}
