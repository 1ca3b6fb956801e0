import { rawByteOf } from './bytes.js';
import type { NameVerdict } from './names.js';

/**
 * `envd export elvish|tcsh|nushell`: the three shells added after bash, zsh and fish,
 * kept apart from render.ts so they can move into a per-shell module as they are.
 *
 *  - elvish: elvish code, `set-env NAME "…"` / `unset-env NAME` inside one `if $true { … }`
 *    (elvish parses a whole chunk before running any of it, so a cut-off answer is a parse
 *    error and applies nothing). Double-quoted strings with `\xHH` escapes: elvish strings
 *    are bytes, so every value, UTF-8 or not, is exact. (direnv's `export elvish` prints
 *    JSON instead, which cannot carry bytes that are not UTF-8.)
 *  - tcsh: `setenv NAME '…';` / `unsetenv NAME;` lines for the hook to `source` from a
 *    file (a backquote substitution would split the text at newlines). tcsh has no byte
 *    escapes: bytes go into the file as they are (the caller writes the text with
 *    encodeBytes), which tcsh keeps whatever the locale (tested through a real tcsh).
 *    tcsh runs a sourced file line by line, so a cut-off file would apply its first
 *    lines: the hook sources it only after `envd export` exited normally.
 *  - nushell: a JSON object, name to value or null (unset), like `export json`, with
 *    nushell's own names refused. Nushell strings are UTF-8: other values are refused.
 */
export type MoreShell = 'elvish' | 'tcsh' | 'nushell';

export const MORE_SHELLS: readonly MoreShell[] = ['elvish', 'tcsh', 'nushell'];

export function isMoreShell(s: string): s is MoreShell {
  return (MORE_SHELLS as readonly string[]).includes(s);
}

/**
 * Names each shell gives a meaning of its own (found by setting each through the real
 * shell and reading it back, test/more-shells-render.test.ts):
 *   tcsh:    PWD is the shell's own; the rest store and export what they are given.
 *   nushell: FILE_PWD, CURRENT_FILE (refused by the shell: "cannot be set manually"),
 *            ENV_CONVERSIONS and config (nushell's settings: a string breaks them), the
 *            values nushell fills in itself, and the hook's own state record `_envd`.
 *            Nushell's names are case-insensitive, so these are refused in any case.
 */
const NUSHELL_SPECIAL = new Set([
  'file_pwd', 'current_file', 'env_conversions', 'config', 'last_exit_code', 'cmd_duration_ms',
  'nu_version', 'nu_lib_dirs', 'nu_plugin_dirs', 'pwd', '_envd',
]);

export function moreNameVerdict(shell: MoreShell, name: string): NameVerdict {
  switch (shell) {
    case 'elvish':
      return { ok: true };
    case 'tcsh':
      return { ok: true };
    case 'nushell':
      if (NUSHELL_SPECIAL.has(name.toLowerCase())) return { ok: false, reason: 'nushell gives this variable a meaning of its own' };
      return { ok: true };
  }
}

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

export type MoreOp = { name: string; kind: 'set'; value: string } | { name: string; kind: 'unset' };

/** The checked operations (render.ts: checkedOps) as the shell's text. */
export function renderMore(shell: MoreShell, ops: readonly MoreOp[]): string {
  switch (shell) {
    case 'elvish': {
      // The name as a quoted word too: elvish reads a bare word as a string, but quoting
      // keeps the rule "every argument is a string literal" without exceptions.
      const stmts = ops.map((op) => (op.kind === 'set' ? `set-env ${quoteElvish(op.name)} ${quoteElvish(op.value)}` : `unset-env ${quoteElvish(op.name)}`));
      return `if $true {\n${stmts.map((s) => `  ${s}\n`).join('')}}\n`;
    }
    case 'tcsh':
      // tcsh runs a sourced file line by line: the hook sources it only when
      // `envd export` exited normally (0, or 1 for a refused file), i.e. wrote it whole.
      // Each statement ends in `;` too, so direnv's own tcsh hook line (eval of a backquote,
      // which joins the lines) also works with envd; values with a newline need the file.
      return ops.map((op) => (op.kind === 'set' ? `setenv ${op.name} ${quoteTcsh(op.value)};\n` : `unsetenv ${op.name};\n`)).join('');
    case 'nushell': {
      const obj = Object.create(null) as Record<string, string | null>;
      for (const op of ops) obj[op.name] = op.kind === 'set' ? op.value : null;
      return JSON.stringify(obj);
    }
  }
}
