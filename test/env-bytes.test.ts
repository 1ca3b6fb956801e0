import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byteLength, canonicalBytes, decodeBytes, encodeBytes, hasRawBytes, isByteString } from '../src/env/bytes.js';
import { printable } from '../src/util/printable.js';

/** src/env/bytes.ts: byte strings, and src/util/printable.ts: how names are shown. */

describe('byte strings', () => {
  it('decode then encode gives back any bytes exactly', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
      const b = Buffer.from(a);
      const s = decodeBytes(b);
      expect(encodeBytes(s).equals(b)).toBe(true);
      expect(byteLength(s)).toBe(b.length);
      expect(isByteString(s)).toBe(true);
      // The one spelling: decoding is canonical.
      expect(canonicalBytes(s)).toBe(s);
    }), { numRuns: 5000 });
  });

  it('UTF-8 text is itself, and has no raw bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(decodeBytes(Buffer.from(s, 'utf8'))).toBe(s);
      expect(hasRawBytes(s)).toBe(false);
    }), { numRuns: 2000 });
  });

  it('each byte that is not part of valid UTF-8 is U+DC80–U+DCFF', () => {
    expect(decodeBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe('caf\udce9');
    expect(decodeBytes(Buffer.from([0xe2, 0x82, 0x41]))).toBe('\udce2\udc82A'); // cut-off character
    expect(decodeBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80'); // an encoded surrogate
    expect(decodeBytes(Buffer.from([0xc0, 0xaf]))).toBe('\udcc0\udcaf'); // overlong
    expect(decodeBytes(Buffer.from('é€😀', 'utf8'))).toBe('é€😀');
    expect(hasRawBytes('caf\udce9')).toBe(true);
    expect(hasRawBytes('\ud83d\udc80')).toBe(false); // a pair whose low half is in the range
  });

  it('refuses strings that stand for no bytes', () => {
    for (const s of ['\ud800', 'a\udc00', '\udc7f', '\udd00', '\udbff']) {
      expect(isByteString(s)).toBe(false);
      expect(() => encodeBytes(s)).toThrow(RangeError);
    }
    // Two spellings of é's bytes: the canonical one is the character.
    expect(canonicalBytes('\udcc3\udca9')).toBe('é');
  });
});

describe('printable', () => {
  it('escapes controls, C1, bidi controls and raw bytes; keeps the rest; applying it twice changes nothing', () => {
    expect(printable('/a/evil\u001b[2J\nx\u0007')).toBe('/a/evil\\x1b[2J\\x0ax\\x07');
    expect(printable('caf\udce9')).toBe('caf\\xe9');
    expect(printable('a\u009bb\u202ec')).toBe('a\\u{009b}b\\u{202e}c');
    expect(printable('~/proj é 😀 a\\b')).toBe('~/proj é 😀 a\\b');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 16 }), (s, a) => {
      const t = s + decodeBytes(Buffer.from(a));
      const p = printable(t);
      expect(p).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(hasRawBytes(p)).toBe(false);
      expect(printable(p)).toBe(p);
    }), { numRuns: 2000 });
  });
});
