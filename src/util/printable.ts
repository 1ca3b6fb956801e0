import { rawByteOf } from '../env/bytes.js';

/**
 * Text taken from file and directory names, made safe to show in a message. A directory
 * may be named with ESC sequences, newlines or bytes that are not UTF-8;
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

// SGR sequences (colour, bold, reset): what log_error and scripts' log lines use.
const SGR = /\u001b\[[0-9;:]*m/g;

/**
 * A line an evaluation printed, as envd shows it: the stdlib prints paths it was given
 * (`envd: loading ~/x/.envrc`), so a name's control characters are escaped here too.
 * Colour (SGR) sequences and tabs are kept; every other control character is escaped.
 */
export function printableOutput(line: string): string {
  if (!NEEDS_ESCAPE.test(line)) return line;
  let out = '';
  let last = 0;
  for (const m of line.matchAll(SGR)) {
    out += printable(line.slice(last, m.index)).replace(/\\x09/g, '\t') + m[0];
    last = (m.index ?? 0) + m[0].length;
  }
  return out + printable(line.slice(last)).replace(/\\x09/g, '\t');
}
