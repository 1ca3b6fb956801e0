import { byteLength, decodeBytes, isByteString } from './bytes.js';
import { MAX_VALUE_BYTES } from './names.js';

/**
 * Whether a value can be put in a shell's environment exactly as it is. Anything that
 * cannot is refused (the caller warns and skips it), never altered:
 *
 *  - NUL: environment entries are C strings; a NUL would silently cut the value.
 *  - a JS string with an unpaired surrogate that is not an escaped byte (bytes.ts): it
 *    stands for no bytes at all. Bytes that are not UTF-8 are fine: they travel as
 *    escaped bytes and are written out exactly (test/render-values.test.ts,
 *    test/hooks-bytes.test.ts).
 *  - too long: Linux refuses to start any program whose environment holds an entry
 *    `NAME=value` longer than MAX_ARG_STRLEN (32 pages, 128 KiB with 4 KiB pages,
 *    counting the terminating NUL). After such an export every command in the shell
 *    would fail with "Argument list too long", so the limit is on the whole entry:
 *    bytes(NAME) + 1 + bytes(value) + 1 <= MAX_VALUE_BYTES.
 * The value returned is the string form (bytes.ts: decodeBytes) of the bytes.
 */
export type ValueVerdict = { ok: true; value: string } | { ok: false; reason: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `buf` if it is valid UTF-8 (a BOM is kept as U+FEFF), else null. */
export function decodeStrictUtf8(buf: Buffer | Uint8Array): string | null {
  try {
    return strictUtf8.decode(buf);
  } catch {
    return null;
  }
}

/** Bytes of `NAME=value\0`, the size Linux checks against MAX_ARG_STRLEN. */
export function entryBytes(name: string, value: string): number {
  return Buffer.byteLength(name, 'utf8') + 1 + byteLength(value) + 1;
}

/** Longest value (in UTF-8 bytes) that can be exported under `name`. */
export function maxValueBytes(name: string): number {
  return MAX_VALUE_BYTES - Buffer.byteLength(name, 'utf8') - 2;
}

/**
 * Buffers already read as text: an evaluation that leaves the same environment hands over
 * the same Buffers (src/eval/eval-io.ts keeps its dumps), and the same string each time
 * keeps what is memoized by value (quoting, encoding) from being done again.
 */
const decodedBuffers = new WeakMap<Buffer, string>();

export function checkValue(name: string, value: string | Buffer): ValueVerdict {
  let text: string;
  if (typeof value === 'string') {
    if (!isByteString(value)) return { ok: false, reason: 'the value is not valid Unicode text (an unpaired surrogate) and would be altered' };
    text = value;
  } else {
    if (value.includes(0)) return { ok: false, reason: 'the value contains a NUL byte, which no environment variable can hold' };
    const known = decodedBuffers.get(value);
    text = known ?? decodeBytes(value);
    if (known === undefined) decodedBuffers.set(value, text);
  }
  if (text.includes('\0')) return { ok: false, reason: 'the value contains a NUL byte, which no environment variable can hold' };
  const size = entryBytes(name, text);
  if (size > MAX_VALUE_BYTES) {
    return { ok: false, reason: `the value is ${size - Buffer.byteLength(name, 'utf8') - 2} bytes; at most ${maxValueBytes(name)} fit (Linux refuses to run commands with a longer NAME=value)` };
  }
  return { ok: true, value: text };
}
