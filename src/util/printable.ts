import { rawByteOf } from '../env/bytes.js';

/**
 * Text taken from file and directory names, made safe to show in a message (RELIABILITY
 * 39). A directory may be named with ESC sequences, newlines or bytes that are not UTF-8;
 * printed raw, such a name could clear the screen, fake a line of envd's output or move
 * the cursor. Every message that contains a path shows it through this:
 *
 *  - C0 controls, DEL and bytes that are not UTF-8 (bytes.ts) as `\xHH`;
 *  - C1 controls (U+0080–U+009F: some terminals read U+009B as CSI), line and paragraph
 *    separators and the bidirectional controls (which reorder what follows them) as
 *    `\u{HHHH}`.
 * Everything else, backslashes included, is shown as it is, so applying it twice changes
 * nothing: a message built from escaped paths can be passed through it again whole.
 */
const NEEDS_ESCAPE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;

export function printable(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const raw = rawByteOf(ch);
    if (raw !== null) out += `\\x${hex(raw, 2)}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
    else if (ch.length === 1 && NEEDS_ESCAPE.test(ch)) out += `\\u{${hex(c, 4)}}`;
    else out += ch;
  }
  return out;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
