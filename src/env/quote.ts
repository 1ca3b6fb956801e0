/**
 * Quoting a value as ONE shell word that the real shell reads back byte for byte.
 *
 * The values are JS strings; "byte for byte" means the UTF-8 encoding of the string.
 * Two kinds of string have no such bytes in an environment, and every quoter throws a
 * RangeError for them rather than emit something the shell would read differently:
 *  - a NUL character: environment entries are C strings, so a NUL would cut the value
 *    short or be dropped. Callers refuse such values first (values.ts: checkValue), with
 *    a warning.
 *  - an unpaired UTF-16 surrogate: it has no UTF-8 encoding (Node would write U+FFFD).
 *
 * The word is built from segments that each shell concatenates into one word:
 *  - runs of ordinary characters, single-quoted;
 *  - every control character (C0 and DEL) written as a hex escape, so the rendered text
 *    is safe to print on a terminal (no raw ESC sequences) and survives zsh's
 *    CSH_JUNKIE_QUOTES (which forbids a raw newline inside quotes).
 * Outside quotes there is only `\'` and `$'\xHH…'` (bash/zsh) or `\xHH` (fish): no `$`
 * expansion, backtick, glob, brace, tilde or history character, so no expansion can
 * apply. Non-ASCII characters are written as they are (their UTF-8 bytes), which the
 * shells pass through unchanged in a UTF-8 and in the C locale (tested both ways).
 */

/** C0 controls and DEL: the characters written as hex escapes. */
const CONTROL = /[\x00-\x1f\x7f]/;

function isControl(ch: string): boolean {
  return CONTROL.test(ch);
}

function hex2(ch: string): string {
  return ch.charCodeAt(0).toString(16).padStart(2, '0');
}

/** First unpaired surrogate's index, or -1. */
function unpairedSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

function assertQuotable(value: string): void {
  if (value.includes('\0')) throw new RangeError('a value containing NUL cannot be put in the environment');
  if (unpairedSurrogateAt(value) !== -1) throw new RangeError('a value containing an unpaired surrogate has no UTF-8 encoding');
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
  assertQuotable(value);
  if (value === '') return "''";
  let out = '';
  for (const seg of segments(value, (ch) => ch === "'")) {
    if (isControl(seg[0] ?? '')) {
      out += "$'" + [...seg].map((ch) => '\\x' + hex2(ch)).join('') + "'";
    } else if (seg[0] === "'") {
      out += "\\'".repeat(seg.length);
    } else {
      out += "'" + seg + "'";
    }
  }
  return out;
}

/** One bash word that reads back as exactly `value`. Throws RangeError for NUL or unpaired surrogates. */
export function quoteBash(value: string): string {
  return quotePosixLike(value);
}

/** One zsh word that reads back as exactly `value`. Throws RangeError for NUL or unpaired surrogates. */
export function quoteZsh(value: string): string {
  return quotePosixLike(value);
}

/**
 * One fish word that reads back as exactly `value`. Throws RangeError for NUL or
 * unpaired surrogates.
 *
 * fish single quotes differ from POSIX ones: inside them `\\` is a backslash and `\'` a
 * quote (every other character, newline included, is literal). So:
 *  - ordinary run R -> `'` + R with `\` -> `\\` and `'` -> `\'` + `'`. Escaping every
 *    backslash means a trailing backslash cannot swallow the closing quote.
 *  - each control character -> `\xHH` outside quotes (fish reads `\x` with at most two
 *    hex digits; we always write two and the next character is `\`, `'` or the end).
 * `$`, `(`, `{`, `~`, `*`, `%` are literal inside fish single quotes. (shell-quote's
 * output is NOT safe here: it relies on POSIX rules where `\` is literal in quotes.)
 * Note this is the word; for PATH and CDPATH fish itself rewrites empty list entries,
 * which render.ts deals with.
 */
export function quoteFish(value: string): string {
  assertQuotable(value);
  if (value === '') return "''";
  let out = '';
  for (const seg of segments(value, () => false)) {
    if (isControl(seg[0] ?? '')) {
      out += [...seg].map((ch) => '\\x' + hex2(ch)).join('');
    } else {
      out += "'" + seg.replace(/[\\']/g, (m) => '\\' + m) + "'";
    }
  }
  return out;
}

/** Exposed for values.ts and tests: whether a string has a UTF-8 encoding. */
export function isWellFormed(value: string): boolean {
  return unpairedSurrogateAt(value) === -1;
}
