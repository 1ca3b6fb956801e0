import { rawByteOf } from './bytes.js';

/**
 * Quoting for elvish, tcsh and nushell (src/shells/elvish.ts, tcsh.ts, nushell.ts): each
 * value as one word or string literal the shell reads back exactly (values as byte
 * strings, src/env/bytes.ts). Tested through the real shells in
 * test/more-shells-render.test.ts.
 */

function assertQuotable(value: string): void {
  if (value.includes('\0')) throw new RangeError('a value containing NUL cannot be put in the environment');
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
      throw new RangeError('a value containing an unpaired surrogate stands for no bytes');
    }
    if (c >= 0xdc00 && c <= 0xdfff && !(c >= 0xdc80 && c <= 0xdcff)) {
      throw new RangeError('a value containing an unpaired surrogate stands for no bytes');
    }
  }
}

/**
 * One elvish double-quoted string holding exactly `value`'s bytes. Inside `"…"` only `\`
 * has a meaning (no interpolation in elvish). `\` and `"` are escaped; every C0/C1
 * control, DEL and byte that is not UTF-8 is written `\xHH` (exactly two digits: a byte,
 * whatever the locale), so the text is printable UTF-8.
 */
export function quoteElvish(value: string): string {
  assertQuotable(value);
  let out = '"';
  for (const ch of value) {
    const raw = rawByteOf(ch);
    if (raw !== null) out += `\\x${raw.toString(16).padStart(2, '0')}`;
    else if (/^[\x00-\x1f\x7f-\x9f]$/.test(ch)) out += [...Buffer.from(ch, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    else if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * One tcsh word holding exactly `value`'s characters (bytes as U+DC80–U+DCFF, written raw
 * by the caller). Inside tcsh single quotes every character is literal except `!`
 * (history: written `\!`) and a newline (written `\` + newline). So runs of other
 * characters go in single quotes, `\!` and `\` + newline inside them, and every `\` and
 * `'` outside quotes as `\\` and `\'`: no backslash of the value is next to one of ours.
 */
export function quoteTcsh(value: string): string {
  assertQuotable(value);
  if (value === '') return "''";
  let out = '';
  let open = false;
  for (const ch of value) {
    if (ch === '\\' || ch === "'") {
      if (open) { out += "'"; open = false; }
      out += `\\${ch}`;
      continue;
    }
    if (!open) { out += "'"; open = true; }
    if (ch === '!') out += '\\!';
    else if (ch === '\n') out += '\\\n';
    else out += ch;
  }
  return open ? `${out}'` : out;
}

/**
 * A nushell double-quoted string: `\\` and `\"` escaped, controls as `\u{…}`. Nushell
 * strings are UTF-8: a value holding other bytes (U+DC80–U+DCFF here) cannot be written.
 */
export function quoteNu(s: string): string {
  if (/[\udc80-\udcff]/.test(s) || s.includes('\0')) throw new RangeError('nushell strings cannot hold this value');
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`)}"`;
}
