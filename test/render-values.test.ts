/**
 * values.ts: which values can be applied. Bytes that are not
 * UTF-8 are kept exactly (as byte strings, src/env/bytes.ts); NUL and oversized values
 * are refused with a reason, never altered.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_VALUE_BYTES } from '../src/env/names.js';
import { renderChange } from '../src/env/render.js';
import { checkValue, decodeStrictUtf8, entryBytes, maxValueBytes } from '../src/env/values.js';
import { encodeBytes } from '../src/env/bytes.js';

const INVALID_UTF8: Array<[string, number[]]> = [
  ['lone 0xff', [0x61, 0xff, 0x62]],
  ['lone continuation byte', [0x80]],
  ['overlong NUL', [0xc0, 0x80]],
  ['overlong slash', [0xe0, 0x80, 0xaf]],
  ['UTF-16 surrogate encoded', [0xed, 0xa0, 0x80]],
  ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['0xf5 lead', [0xf5, 0x80, 0x80, 0x80]],
  ['truncated 3-byte', [0xe2, 0x82]],
  ['truncated at end', [0x61, 0xf0, 0x9f, 0x91]],
  ['latin-1 é', [0x63, 0x61, 0x66, 0xe9]],
];

describe('decodeStrictUtf8', () => {
  it('returns null for every kind of invalid UTF-8', () => {
    for (const [what, bytes] of INVALID_UTF8) expect(decodeStrictUtf8(Buffer.from(bytes)), what).toBeNull();
  });

  it('decodes valid UTF-8 exactly, keeping a BOM and noncharacters', () => {
    expect(decodeStrictUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('\uFEFFa');
    expect(decodeStrictUtf8(Buffer.from('\uFFFF\u{10FFFF}é👍🏽', 'utf8'))).toBe('\uFFFF\u{10FFFF}é👍🏽');
    expect(decodeStrictUtf8(Buffer.alloc(0))).toBe('');
  });

  it('never mangles: any bytes either decode to a string that re-encodes to the same bytes, or give null', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const s = decodeStrictUtf8(Buffer.from(bytes));
      if (s !== null) expect(Buffer.from(s, 'utf8').equals(Buffer.from(bytes))).toBe(true);
    }), { numRuns: 5000 });
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(decodeStrictUtf8(Buffer.from(s, 'utf8'))).toBe(s);
    }), { numRuns: 2000 });
  });
});

describe('checkValue', () => {
  it('accepts ordinary values, returning the text', () => {
    expect(checkValue('A', 'x')).toEqual({ ok: true, value: 'x' });
    expect(checkValue('A', '')).toEqual({ ok: true, value: '' });
    expect(checkValue('A', Buffer.from('héllo'))).toEqual({ ok: true, value: 'héllo' });
  });

  it('keeps bytes that are not UTF-8 exactly, as a byte string (bytes.ts)', () => {
    for (const [what, bytes] of INVALID_UTF8) {
      const v = checkValue('A', Buffer.from(bytes));
      expect(v.ok, what).toBe(true);
      if (v.ok) expect(encodeBytes(v.value).equals(Buffer.from(bytes)), what).toBe(true);
    }
    expect(checkValue('A', 'caf\udce9')).toEqual({ ok: true, value: 'caf\udce9' });
  });

  it('counts an escaped byte as one byte against the limit', () => {
    const max = maxValueBytes('A');
    expect(checkValue('A', '\udce9'.repeat(max)).ok).toBe(true);
    expect(checkValue('A', '\udce9'.repeat(max + 1)).ok).toBe(false);
  });

  it('refuses NUL, in strings and in bytes', () => {
    for (const v of [checkValue('A', 'a\0b'), checkValue('A', '\0'), checkValue('A', Buffer.from([0x61, 0, 0x62]))]) {
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(/NUL/);
    }
  });

  it('refuses strings with unpaired surrogates (no UTF-8 form)', () => {
    for (const s of ['\ud800', 'a\udc00', '\udbff\ud800', '\udc7f', '\udd00']) expect(checkValue('A', s).ok).toBe(false);
    expect(checkValue('A', '\ud83d\udc4d').ok).toBe(true);
  });

  it('limits the whole NAME=value entry to MAX_VALUE_BYTES (Linux MAX_ARG_STRLEN, NUL included), counting bytes not characters', () => {
    const name = 'SOME_NAME';
    const max = maxValueBytes(name);
    expect(max).toBe(MAX_VALUE_BYTES - name.length - 2);
    expect(checkValue(name, 'x'.repeat(max)).ok).toBe(true);
    expect(entryBytes(name, 'x'.repeat(max))).toBe(MAX_VALUE_BYTES);
    expect(checkValue(name, 'x'.repeat(max + 1)).ok).toBe(false);
    expect(checkValue(name, 'x'.repeat(MAX_VALUE_BYTES + 1)).ok).toBe(false);
    expect(checkValue(name, 'é'.repeat(Math.floor(max / 2))).ok).toBe(true);
    expect(checkValue(name, 'é'.repeat(Math.floor(max / 2) + 1)).ok).toBe(false);
    expect(checkValue(name, Buffer.alloc(max + 1, 0x78)).ok).toBe(false);
  });

  it('the limit is the kernel\'s: a child starts with the largest accepted entry and fails with E2BIG one byte over', () => {
    const name = 'LIMIT_PROBE';
    const max = maxValueBytes(name);
    const ok = spawnSync('sh', ['-c', 'exit 0'], { env: { [name]: 'x'.repeat(max) } });
    expect(ok.error).toBeUndefined();
    expect(ok.status).toBe(0);
    const over = spawnSync('sh', ['-c', 'exit 0'], { env: { [name]: 'x'.repeat(max + 1) } });
    expect(over.error !== undefined && 'code' in over.error ? over.error.code : undefined).toBe('E2BIG');
  });
});

describe('renderChange uses checkValue', () => {
  it('skips refused values with one warning each, in every format', () => {
    for (const f of ['bash', 'zsh', 'fish', 'json', 'gha'] as const) {
      const r = renderChange(f, { set: { NUL: 'a\0', SUR: '\ud800', BIG: 'x'.repeat(MAX_VALUE_BYTES + 1), OK: '1' }, unset: [] });
      expect(r.warnings.map((w) => w.replace(/:.*/, ''))).toEqual(['envd', 'envd', 'envd']);
      expect(r.warnings.map((w) => w.split(' ')[3])).toEqual(['BIG:', 'NUL:', 'SUR:']);
      expect(r.text).toContain('OK');
      expect(r.text).not.toMatch(/NUL|SUR|BIG/);
    }
  });
});

describe('renderChange with bytes that are not UTF-8', () => {
  it('shell formats write them as hex escapes; json and gha refuse them by name', () => {
    const change = { set: { RAW: 'caf\udce9', OK: '1' }, unset: [] };
    expect(renderChange('bash', change).text).toBe("{ export OK='1'; export RAW='caf'$'\\xe9'; }");
    expect(renderChange('fish', change).text).toBe("begin; set -gx -- OK '1'; set -gx -- RAW 'caf'\\xe9; end");
    for (const f of ['json', 'gha'] as const) {
      const r = renderChange(f, change);
      expect(r.text).not.toContain('RAW');
      expect(r.warnings).toEqual([expect.stringMatching(/^envd: not exporting RAW: the value is not UTF-8/)]);
    }
  });
});
