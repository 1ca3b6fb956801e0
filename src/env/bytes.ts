import { isUtf8 } from 'node:buffer';

/**
 * Byte strings as JS strings, reversibly ("surrogateescape").
 *
 * Environment values and file names are bytes, not always UTF-8: such a value round-trips
 * exactly (test/hooks-bytes.test.ts) and such a path is acted on exactly or refused
 * (test/trust-paths.test.ts).
 * envd keeps them in JS strings so that every map, diff, JSON state and cache key works
 * unchanged; a byte that is not part of a valid UTF-8 sequence (always 0x80–0xFF) becomes
 * the lone low surrogate U+DC80–U+DCFF. Valid UTF-8 never decodes to a lone surrogate, so
 * `encodeBytes(decodeBytes(b))` is `b` for every byte string, and text that is UTF-8 is
 * the same string as before.
 *
 * Where the bytes leave Node (hook replies, the CLI's environment for `exec`, the
 * evaluation's bash) they go through encodeBytes or are written as `\xHH` escapes by the
 * quoters; where envd must act on a PATH, a string with raw bytes is refused
 * (`hasRawBytes`), since Node's path APIs would turn it into a different name.
 */

/** A lone low surrogate in the escape range: not preceded by a high surrogate. */
const RAW_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/** Length of the valid UTF-8 sequence starting at `i`, or 0 (Unicode Table 3-7). */
function validSequenceAt(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return 1;
  const at = (k: number): number => (i + k < b.length ? b[i + k] ?? -1 : -1);
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => { const x = at(k); return x >= lo && x <= hi; };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The bytes as a string: UTF-8 text as itself, every other byte as U+DC80–U+DCFF. */
export function decodeBytes(buf: Uint8Array): string {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (isUtf8(b)) return b.toString('utf8');
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < b.length) {
    const n = validSequenceAt(b, i);
    if (n > 0) { i += n; continue; }
    if (i > runStart) out += b.toString('utf8', runStart, i);
    out += String.fromCharCode(0xdc00 + (b[i] ?? 0));
    i++;
    runStart = i;
  }
  if (runStart < b.length) out += b.toString('utf8', runStart);
  return out;
}

/**
 * The bytes a string stands for (the inverse of decodeBytes). Throws RangeError for a lone
 * surrogate outside U+DC80–U+DCFF: decodeBytes never makes one, and it has no bytes.
 */
export function encodeBytes(s: string): Buffer {
  if (!ANY_SURROGATE.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
      throw new RangeError('a string with an unpaired surrogate has no bytes');
    }
    if (c < 0xdc80 || c > 0xdcff) throw new RangeError('a string with an unpaired surrogate has no bytes');
    if (i > runStart) parts.push(Buffer.from(s.slice(runStart, i), 'utf8'));
    parts.push(Buffer.of(c - 0xdc00));
    runStart = i + 1;
  }
  if (runStart < s.length) parts.push(Buffer.from(s.slice(runStart), 'utf8'));
  return Buffer.concat(parts);
}

/** Whether the string stands for bytes that are not UTF-8 (it holds an escaped byte). */
export function hasRawBytes(s: string): boolean {
  return ANY_SURROGATE.test(s) && RAW_BYTE.test(s);
}

/** Whether encodeBytes accepts the string (every surrogate paired or an escaped byte). */
export function isByteString(s: string): boolean {
  if (!ANY_SURROGATE.test(s)) return true;
  try {
    encodeBytes(s);
    return true;
  } catch {
    return false;
  }
}

/** Number of bytes the string stands for. */
export function byteLength(s: string): number {
  return ANY_SURROGATE.test(s) ? encodeBytes(s).length : Buffer.byteLength(s, 'utf8');
}

/** The byte an escaped character stands for, or null for any other character. */
export function rawByteOf(ch: string): number | null {
  if (ch.length !== 1) return null;
  const c = ch.charCodeAt(0);
  return c >= 0xdc80 && c <= 0xdcff ? c - 0xdc00 : null;
}

/**
 * The one spelling of a string's bytes that decodeBytes gives. Two strings that stand for
 * the same bytes (`'\udcc3\udca9'` and `'é'`) compare equal after this; envd's own
 * decoders already produce it, so only input that did not come from them needs it.
 */
export function canonicalBytes(s: string): string {
  return hasRawBytes(s) ? decodeBytes(encodeBytes(s)) : s;
}
