/**
 * `envd export elvish|tcsh|nushell` (src/shells/elvish.ts, tcsh.ts, nushell.ts) through the real shells:
 * whatever the value, the shell holds and exports exactly those bytes, and unset names
 * are gone. Names are checked as for every other shell.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalBytes, decodeBytes, encodeBytes } from '../src/env/bytes.js';
import { renderChange } from '../src/env/render.js';
import { quoteTcsh } from '../src/env/quote-more.js';
import { haveMoreShell, MORE_SHELLS, type MoreShell } from './helpers/more-shells.js';

const dir = mkdtempSync(join(tmpdir(), 'ev-more-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Apply `text` (the shell's export output) in a fresh shell and return its `env -0`. */
function applyIn(shell: MoreShell, text: string, env: Record<string, string>): Map<string, string> {
  const file = join(dir, `apply.${shell}`);
  writeFileSync(file, shell === 'tcsh' ? encodeBytes(text) : text);
  let argv: string[];
  switch (shell) {
    case 'elvish':
      argv = ['elvish', '-norc', '-c', `eval (slurp < '${file}'); env -0`];
      break;
    case 'tcsh':
      argv = ['tcsh', '-f', '-c', `source '${file}'; env -0`];
      break;
    case 'nushell':
      argv = ['nu', '-n', '-c', `let c = (open --raw '${file}' | from json); let gone = ($c | columns | where {|k| ($c | get $k) == null }); hide-env -i ...$gone; load-env ($c | reject ...$gone); ^env -0`];
      break;
  }
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, ...env } });
  expect(r.status, `${shell}: ${r.stderr.toString()}`).toBe(0);
  const out = new Map<string, string>();
  for (const entry of decodeBytes(r.stdout).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) out.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return out;
}

/**
 * Values with everything the quoters must get right, bytes that are not UTF-8 included.
 * Raw bytes that happen to join into valid UTF-8 (\udce9\udc80\udc80 is 退) are taken in the
 * one spelling a value read from bytes has (canonicalBytes), as the shell hands it back.
 */
const hostile = fc.array(fc.oneof(
  fc.constantFrom('\\', "'", '"', '!', '\n', '\r', '\t', '$', '`', '{', '}', '(', ')', '*', '~', '#', ';', ' ', '\x1b', '\x7f', '\u0085', 'é', '👍', '\\\n', '\\!', '\udcff', '\udc80', '\udce9'),
  fc.string({ maxLength: 4 }).filter((s) => !s.includes('\0') && !/[\ud800-\udfff]/.test(s)),
), { maxLength: 12 }).map((parts) => canonicalBytes(parts.join('')));

for (const shell of MORE_SHELLS) {
  describe.runIf(haveMoreShell(shell))(`export ${shell} through a real ${shell}`, () => {
    it('sets every value byte for byte and unsets what it says (property, batches of 8)', () => {
      fc.assert(fc.property(fc.array(hostile, { minLength: 1, maxLength: 8 }), (values) => {
        const set: Record<string, string> = {};
        values.forEach((v, i) => { set[`V${i}`] = v; });
        const { text, warnings } = renderChange(shell, { set, unset: ['GONE'] });
        const got = applyIn(shell, text, { GONE: 'x' });
        expect(got.has('GONE')).toBe(false);
        values.forEach((v, i) => {
          const refused = warnings.some((w) => w.includes(`V${i}:`));
          if (shell === 'nushell' && /[\udc80-\udcff]/.test(v)) {
            // Nushell strings are UTF-8: refused with a warning, never mangled.
            expect(refused).toBe(true);
            expect(got.has(`V${i}`)).toBe(false);
          } else {
            expect(refused, warnings.join('\n')).toBe(false);
            expect(got.get(`V${i}`), JSON.stringify(v)).toBe(v);
          }
        });
      }), { numRuns: 40 });
    }, 120_000);

    it('holds a long value and the empty string', () => {
      const long = 'x\\!\n'.repeat(20_000);
      const got = applyIn(shell, renderChange(shell, { set: { LONG: long, EMPTY: '' }, unset: [] }).text, {});
      expect(got.get('LONG')).toBe(long);
      expect(got.get('EMPTY')).toBe('');
    }, 60_000);

    it('refuses names that are not variable names, and the shell\'s own', () => {
      const { text, warnings } = renderChange(shell, { set: { 'A B': 'x', 'a;b': 'y', OK: 'z', PWD: '/' }, unset: [] });
      expect(warnings.join('\n')).toMatch(/not exporting "A B"/);
      expect(warnings.join('\n')).toMatch(/not exporting PWD/);
      expect(text).not.toContain('a;b');
      expect(applyIn(shell, text, {}).get('OK')).toBe('z');
    });
  });
}

describe('tcsh quoting', () => {
  it('keeps every backslash outside quotes, so none pairs with a newline or !', () => {
    expect(quoteTcsh('a\\\nb')).toBe("'a'\\\\'\\\nb'");
    expect(quoteTcsh("it's")).toBe("'it'\\''s'");
    expect(quoteTcsh('')).toBe("''");
  });
});

describe('nushell names', () => {
  it('refuses nushell\'s own variables in any case', () => {
    const { text, warnings } = renderChange('nushell', { set: { config: '{}', Config: 'x', FILE_PWD: '/', NU_LIB_DIRS: '/x', FOO: 'y' }, unset: ['ENV_CONVERSIONS'] });
    expect(JSON.parse(text)).toEqual({ FOO: 'y' });
    expect(warnings).toHaveLength(5);
  });
});
