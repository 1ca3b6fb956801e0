/**
 * The quoters against the real shells: thousands of hostile values, each
 * quoted as one word, read back by bash, zsh and fish with `printf '%s\0' WORD…` and
 * compared byte for byte. `printf` receives exactly the words the shell made, so a word
 * that splits, vanishes, expands or loses a byte shows up as a count or byte mismatch.
 *
 * Values are batched (300 per shell process) so thousands of values cost a handful of
 * spawns. Every shell runs in several configurations: a UTF-8 and the C locale, and
 * options that change quoting (zsh RC_QUOTES, CSH_JUNKIE_QUOTES, ...; bash POSIX mode).
 * A negative test runs naive quoters through the same harness and expects it to catch them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isWellFormed, quoteBash, quoteFish, quoteZsh } from '../src/env/quote.js';
import { encodeBytes, hasRawBytes } from '../src/env/bytes.js';
import { haveShell, type Shell } from './helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'envd-quote-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const QUOTERS: Record<Shell, (v: string) => string> = { bash: quoteBash, zsh: quoteZsh, fish: quoteFish };

// ---- hostile values ------------------------------------------------------------------

/** Fragments that break naive quoting in at least one shell. */
const NASTY = [
  '\\', '\\\\', "'", '"', "\\'", "$'", "''", '\n', '\r', '\r\n', '\t', '\x1b[31m', '\x1b]0;title\x07', '\x01', '\x7f',
  '$(echo pwned)', '`echo pwned`', '(echo pwned)', '$HOME', '${HOME}', '$((1+1))', '$fish_pid', '$status', '$', '$@',
  '%self', '%1', '{a,b}', '{1..3}', '{', '}', '~', '~root', '*', '?', '[a]', '**/', '!!', '!$', '^', '#', ' ', ';',
  '&', '|', '<', '>', '(', ')', '=', ':', '::', '-n', '-e', '--', '-', 'end', 'begin', '\\x41', '\\n', '\\e',
  '\\u00e9', '\\0', '%s', '%b', 'é', '\u0085', '\u009b', '\u2028', '\uFEFF', '\u200b', '👍🏽', '\u{10FFFF}', '\uF600',
  '\uF641', '\uF6FF', '\uFDD0', '\uFDD7', '\uFDEF', '\uFFFD', '\uFFFE', '\uFFFF', 'a\u0301',
];

const controlChar = fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c));
/** A byte that is not UTF-8, as a byte string holds it (src/env/bytes.ts). */
const rawByte = fc.integer({ min: 0x80, max: 0xff }).map((b) => String.fromCharCode(0xdc00 + b));
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  { weight: 1, arbitrary: controlChar },
  { weight: 1, arbitrary: rawByte },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
/** Any string a variable could hold: no NUL (checked elsewhere: it is refused). */
const hostileValue = fc.array(piece, { maxLength: 8 }).map((a) => a.join('').replace(/\0/g, '\u0001'));

// ---- the harness -----------------------------------------------------------------------

interface Variant { name: string; shell: Shell; locale: string; prelude: string }

const VARIANTS: Variant[] = [
  { name: 'bash', shell: 'bash', locale: 'C.UTF-8', prelude: '' },
  { name: 'bash C locale', shell: 'bash', locale: 'C', prelude: '' },
  { name: 'bash posix+extglob', shell: 'bash', locale: 'C.UTF-8', prelude: 'set -o posix; shopt -s extglob nullglob failglob globstar' },
  { name: 'zsh', shell: 'zsh', locale: 'C.UTF-8', prelude: '' },
  { name: 'zsh C locale', shell: 'zsh', locale: 'C', prelude: '' },
  { name: 'zsh odd options', shell: 'zsh', locale: 'C.UTF-8', prelude: 'setopt rc_quotes csh_junkie_quotes ignore_braces magic_equal_subst sh_word_split glob_subst extended_glob brace_ccl; unsetopt multibyte' },
  { name: 'fish', shell: 'fish', locale: 'C.UTF-8', prelude: '' },
  { name: 'fish C locale', shell: 'fish', locale: 'C', prelude: '' },
];

function shellArgs(shell: Shell, file: string): string[] {
  return shell === 'bash' ? ['--noprofile', '--norc', file] : shell === 'zsh' ? ['-f', file] : ['--no-config', file];
}

function baseEnv(locale: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), LANG: locale, LC_ALL: locale };
}

let fileNo = 0;
/** Run `script` as a file in the shell; stdout as bytes. */
function runScript(shell: Shell, script: string, locale: string): { status: number | null; stdout: Buffer; stderr: string } {
  const file = join(dir, `s${fileNo++}.${shell}`);
  writeFileSync(file, script);
  const r = spawnSync(shell, shellArgs(shell, file), { env: baseEnv(locale), cwd: dir, timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

function splitNul(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0) { out.push(buf.subarray(start, i)); start = i + 1; }
  if (start !== buf.length) out.push(buf.subarray(start)); // unterminated tail: a mismatch
  return out;
}

/**
 * Quote every value, let the real shell print the words NUL-terminated, and return the
 * indexes whose bytes came back different (plus an error text when the count is off).
 * The printf line is alone on its line after the prelude, so options set there apply.
 */
function roundTrip(v: Variant, values: string[], quote: (s: string) => string): { bad: number[]; error: string } {
  const words = values.map(quote).join(' ');
  const script = `${v.prelude}\nprintf '%s\\0' ${words}\necho -n DONE\n`;
  const r = runScript(v.shell, script, v.locale);
  const out = r.stdout;
  const tail = Buffer.from('DONE');
  const ended = out.length >= 4 && out.subarray(out.length - 4).equals(tail);
  const got = splitNul(ended ? out.subarray(0, out.length - 4) : out);
  const bad: number[] = [];
  values.forEach((val, i) => { const g = got[i]; if (g === undefined || !g.equals(encodeBytes(val))) bad.push(i); });
  let error = '';
  if (!ended) error += `script did not finish (status ${r.status}). `;
  if (got.length !== values.length) error += `${got.length} words for ${values.length} values. `;
  if (r.stderr !== '') error += `stderr: ${r.stderr.slice(0, 300)}`;
  return { bad, error };
}

function describeFailure(values: string[], quote: (s: string) => string, res: { bad: number[]; error: string }): string {
  const i = res.bad[0];
  const first = i === undefined ? '' : `first bad value ${JSON.stringify(values[i])} quoted as ${JSON.stringify(quote(values[i] ?? ''))}`;
  return `${res.error} ${res.bad.length} bad; ${first}`;
}

const BATCH = 300;
const RUNS = 25;

// ---- tests -----------------------------------------------------------------------------

describe('quoters: pure checks', () => {
  it('throws for NUL and unpaired surrogates, in every shell', () => {
    for (const q of Object.values(QUOTERS)) {
      expect(() => q('a\0b')).toThrow(RangeError);
      expect(() => q('\0')).toThrow(RangeError);
      expect(() => q('x\ud800')).toThrow(RangeError);
      expect(() => q('\udc00x')).toThrow(RangeError);
      expect(() => q('\ud83d\udc4d')).not.toThrow();
    }
    expect(isWellFormed('\ud83d\udc4d')).toBe(true);
    expect(isWellFormed('\ud83d')).toBe(false);
  });

  it('never leaves a control character in the output (terminal-safe), and the output is one line', () => {
    fc.assert(fc.property(hostileValue, (v) => {
      for (const q of Object.values(QUOTERS)) {
        const w = q(v);
        // C0, DEL, C1 and raw bytes are all written as escapes.
        expect(w).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
        expect(hasRawBytes(w)).toBe(false);
      }
    }), { numRuns: 2000 });
  });

  it('quotes the empty string as an explicit empty word', () => {
    expect(quoteBash('')).toBe("''");
    expect(quoteZsh('')).toBe("''");
    expect(quoteFish('')).toBe("''");
  });

  it('has the documented shapes', () => {
    expect(quoteBash("it's")).toBe("'it'\\''s'");
    expect(quoteBash('a\nb')).toBe("'a'$'\\x0a''b'");
    expect(quoteFish("it's \\")).toBe("'it\\'s \\\\'");
    expect(quoteFish('a\x1bb')).toBe("'a'\\x1b'b'");
    expect(quoteBash('caf\udce9\u0085')).toBe("'caf'$'\\xe9\\xc2\\x85'");
    expect(quoteFish('caf\udce9')).toBe("'caf'\\xe9");
  });
});

for (const v of VARIANTS) {
  describe.skipIf(!haveShell(v.shell))(`quote for ${v.name}: real shell reads back every value byte for byte`, () => {
    it('the nasty dictionary alone, each fragment, pairs, and trailing backslashes', () => {
      const values = [...NASTY, ...NASTY.map((a) => `x${a}`), ...NASTY.map((a) => `${a}\\`), ...NASTY.flatMap((a) => NASTY.slice(0, 12).map((b) => a + b)), ''];
      const all = [...values, ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).filter((c) => c !== '\0')];
      const q = QUOTERS[v.shell];
      const res = roundTrip(v, all, q);
      expect(res.error, describeFailure(all, q, res)).toBe('');
      expect(res.bad, describeFailure(all, q, res)).toEqual([]);
    });

    it(`${RUNS} batches of ${BATCH} random hostile values`, () => {
      const q = QUOTERS[v.shell];
      let checked = 0;
      fc.assert(fc.property(fc.array(hostileValue, { minLength: BATCH, maxLength: BATCH }), (values) => {
        const res = roundTrip(v, values, q);
        if (res.error !== '' || res.bad.length > 0) throw new Error(describeFailure(values, q, res));
        checked += values.length;
      }), { numRuns: RUNS, endOnFailure: true });
      expect(checked).toBe(RUNS * BATCH);
    });
  });
}

/**
 * The harness must be able to fail: quoters that are wrong in the usual ways are caught.
 *  - POSIX single quotes in fish (a trailing backslash escapes the closing quote; `\'`
 *    ends up as a quote) — this is also what shell-quote's output amounts to for fish;
 *  - wrapping in double quotes for bash/zsh (`$(…)`, `` ` ``, `$HOME` expand);
 *  - single quotes without escaping `'` anywhere.
 */
describe('the harness catches naive quoters', () => {
  const posixSingle = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const doubleQuoted = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;
  const plainSingle = (s: string): string => `'${s}'`;
  const sample = ['a\\', "it's", '$(echo pwned)', '`echo pwned`', '$HOME', "\\'", 'plain'];

  it.skipIf(!haveShell('fish'))('POSIX-style single quoting is wrong for fish', () => {
    const v = VARIANTS.find((x) => x.shell === 'fish');
    if (v === undefined) throw new Error('no fish variant');
    const res = roundTrip(v, sample, posixSingle);
    expect(res.error !== '' || res.bad.length > 0).toBe(true);
    // ...while the real quoter passes the same sample.
    const ok = roundTrip(v, sample, quoteFish);
    expect([ok.error, ok.bad]).toEqual(['', []]);
  });

  for (const shell of ['bash', 'zsh'] as const) {
    it.skipIf(!haveShell(shell))(`double quoting and unescaped single quoting are wrong for ${shell}`, () => {
      const v = VARIANTS.find((x) => x.shell === shell);
      if (v === undefined) throw new Error(`no ${shell} variant`);
      const d = roundTrip(v, sample, doubleQuoted);
      expect(d.bad.length).toBeGreaterThan(0);
      const p = roundTrip(v, sample, plainSingle);
      expect(p.error !== '' || p.bad.length > 0).toBe(true);
    });
  }

  it.skipIf(!haveShell('zsh'))('a raw newline in single quotes breaks zsh with CSH_JUNKIE_QUOTES (why newlines are escaped)', () => {
    const v = VARIANTS.find((x) => x.name === 'zsh odd options');
    if (v === undefined) throw new Error('no variant');
    const res = roundTrip(v, ['a\nb'], posixSingle);
    expect(res.error !== '' || res.bad.length > 0).toBe(true);
    expect(roundTrip(v, ['a\nb'], quoteZsh)).toEqual({ bad: [], error: '' });
  });
});
