import { rawByteOf } from './bytes.js';

/**
 * Quoting a value as ONE shell word that the real shell reads back byte for byte.
 *
 * The values are byte strings in the form of src/env/bytes.ts: UTF-8 text as itself, and
 * each byte that is not part of valid UTF-8 as U+DC80–U+DCFF. Two kinds of string have no
 * such bytes in an environment, and every quoter throws a RangeError for them rather than
 * emit something the shell would read differently:
 *  - a NUL character: environment entries are C strings, so a NUL would cut the value
 *    short or be dropped. Callers refuse such values first (values.ts: checkValue), with
 *    a warning.
 *  - any other unpaired UTF-16 surrogate: it stands for no bytes.
 *
 * The word is built from segments that each shell concatenates into one word:
 *  - runs of ordinary characters, single-quoted;
 *  - every control character (C0 and DEL) and every byte that is not UTF-8 written as a
 *    hex escape, so the rendered text is valid UTF-8 and safe to print on a terminal (no
 *    raw ESC sequences), and survives zsh's CSH_JUNKIE_QUOTES (which forbids a raw
 *    newline inside quotes).
 * Outside quotes there is only `\'` and `$'\xHH…'` (bash/zsh) or `\xHH` (fish): no `$`
 * expansion, backtick, glob, brace, tilde or history character, so no expansion can
 * apply. `\xHH` is a byte in all three shells whatever the locale (bash and zsh `$'…'`,
 * fish outside quotes; tested under C and UTF-8). Non-ASCII characters are written as
 * they are (their UTF-8 bytes), which the shells pass through unchanged in a UTF-8 and in
 * the C locale (tested both ways).
 */

/**
 * C0 and C1 controls and DEL: the characters written as hex escapes, with escaped bytes.
 * (C1: some terminals read U+009B as CSI, so it is not printed raw either.)
 */
const CONTROL = /^[\x00-\x1f\x7f-\x9f]$/;

/**
 * Values that are one ordinary run and nothing else: no control character, no escaped
 * byte or other surrogate (U+D800–U+DFFF), no `'` (and for fish no `\\`). Quoted as
 * `'value'`, which is what the segment rules give for them.
 */
const PLAIN_POSIX = /^[^\x00-\x1f\x7f-\x9f'\ud800-\udfff]+$/;
const PLAIN_FISH = /^[^\x00-\x1f\x7f-\x9f'\\\ud800-\udfff]+$/;

function isControl(ch: string): boolean {
  return CONTROL.test(ch) || rawByteOf(ch) !== null;
}

/** `\xHH` for each byte of a control character (its UTF-8 bytes) or an escaped byte. */
function hexEscapes(ch: string): string {
  const raw = rawByteOf(ch);
  const bytes = raw !== null ? [raw] : [...Buffer.from(ch, 'utf8')];
  return bytes.map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('');
}

/** First unpaired surrogate's index (escaped bytes aside when `bytesOk`), or -1. */
function unpairedSurrogateAt(s: string, bytesOk: boolean): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff && !(bytesOk && c >= 0xdc80 && c <= 0xdcff)) return i;
  }
  return -1;
}

function assertQuotable(value: string): void {
  if (value.includes('\0')) throw new RangeError('a value containing NUL cannot be put in the environment');
  if (unpairedSurrogateAt(value, true) !== -1) throw new RangeError('a value containing an unpaired surrogate stands for no bytes');
}

/**
 * Split into maximal runs of: control characters, single quotes (bash/zsh only treat
 * `'` specially), and everything else.
 */
function segments(value: string, special: (ch: string) => boolean): string[] {
  const out: string[] = [];
  let cur = '';
  let curKind = -1;
  for (const ch of value) {
    const kind = isControl(ch) ? 0 : special(ch) ? 1 : 2;
    if (kind !== curKind && cur !== '') { out.push(cur); cur = ''; }
    curKind = kind;
    cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * bash and zsh share one rule. Segments:
 *  - ordinary run R (no `'`, no control character) -> `'R'`. Inside single quotes
 *    neither shell gives any character a meaning; the only way out is `'`, which R
 *    does not contain.
 *  - each `'` -> `\'` (a backslash-quoted quote, outside any quotes).
 *  - control run -> `$'\xHH\xHH…'`. Inside `$'…'` only backslash escapes matter and
 *    every escape is `\x` followed by exactly two hex digits, then `\` or the closing
 *    `'`, so it cannot absorb a following character. All HH are < 0x80, so the result
 *    does not depend on the locale.
 * zsh's RC_QUOTES (`''` inside single quotes means a quote) never applies: runs are
 * maximal and never empty, so two single-quoted segments are never adjacent and a
 * closing `'` is followed by `\`, `$` or the end of the word. (`$'…'` followed by `'R'`
 * is checked against a real zsh with RC_QUOTES set in test/quote.test.ts.)
 */
function quotePosixLike(value: string): string {
  // Most values are one ordinary run: the same word, without walking the characters.
  if (PLAIN_POSIX.test(value)) return "'" + value + "'";
  assertQuotable(value);
  if (value === '') return "''";
  let out = '';
  for (const seg of segments(value, (ch) => ch === "'")) {
    if (isControl(seg[0] ?? '')) {
      out += "$'" + [...seg].map(hexEscapes).join('') + "'";
    } else if (seg[0] === "'") {
      out += "\\'".repeat(seg.length);
    } else {
      out += "'" + seg + "'";
    }
  }
  return out;
}

/** One bash word that reads back as exactly `value`'s bytes. Throws RangeError for NUL or a surrogate that is no byte. */
export function quoteBash(value: string): string {
  return quotePosixLike(value);
}

/** One zsh word that reads back as exactly `value`'s bytes. Throws RangeError for NUL or a surrogate that is no byte. */
export function quoteZsh(value: string): string {
  return quotePosixLike(value);
}

/**
 * One fish word that reads back as exactly `value`'s bytes. Throws RangeError for NUL or
 * a surrogate that is no byte.
 *
 * fish single quotes differ from POSIX ones: inside them `\\` is a backslash and `\'` a
 * quote (every other character, newline included, is literal). So:
 *  - ordinary run R -> `'` + R with `\` -> `\\` and `'` -> `\'` + `'`. Escaping every
 *    backslash means a trailing backslash cannot swallow the closing quote.
 *  - each control character or escaped byte -> `\xHH` outside quotes (fish reads `\x`
 *    with at most two hex digits; we always write two and the next character is `\`, `'`
 *    or the end). fish 3 makes `\x80`–`\xff` the raw byte in any locale.
 * `$`, `(`, `{`, `~`, `*`, `%` are literal inside fish single quotes. (shell-quote's
 * output is NOT safe here: it relies on POSIX rules where `\` is literal in quotes.)
 * Note this is the word; for PATH and CDPATH fish itself rewrites empty list entries,
 * which render.ts deals with.
 */
export function quoteFish(value: string): string {
  if (PLAIN_FISH.test(value)) return "'" + value + "'";
  assertQuotable(value);
  if (value === '') return "''";
  let out = '';
  for (const seg of segments(value, () => false)) {
    if (isControl(seg[0] ?? '')) {
      out += [...seg].map(hexEscapes).join('');
    } else {
      out += "'" + seg.replace(/[\\']/g, (m) => '\\' + m) + "'";
    }
  }
  return out;
}

/** Whether a string has a UTF-8 encoding (no unpaired surrogate, escaped bytes included). */
export function isWellFormed(value: string): boolean {
  return unpairedSurrogateAt(value, false) === -1;
}
