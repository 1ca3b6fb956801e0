/**
 * renderChange against the real shells: the rendered text is eval'd the way a hook does
 * (`eval "$(…)"` in bash/zsh, `source` in fish), then a child `env -0` prints the
 * exported environment, which is compared byte for byte with what was intended.
 * Covers random values through `export`/`set -gx`, refused names, a cut-off answer
 * changing nothing, oversized values, and the json/gha formats.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Change } from '../src/env/diff.js';
import type { ExportFormat } from '../src/engine/types.js';
import { renderChange, shellNameVerdict, valueAsApplied } from '../src/env/render.js';
import { maxValueBytes } from '../src/env/values.js';
import { haveShell, mustWhich, type Shell } from './helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'envd-render-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

// Absolute: the rendered code may change PATH to anything.
const ENV = mustWhich('env');
const CAT = mustWhich('cat');
const SH = mustWhich('sh');
const SYS_PATH = process.env.PATH ?? '/usr/bin:/bin';

// ---- hostile values (same recipe as quote.test.ts) -------------------------------------

const NASTY = [
  '\\', "'", '"', "\\'", "$'", '\n', '\r', '\t', '\x1b[31m', '\x01', '\x7f', '$(echo pwned)', '`echo pwned`',
  '(echo pwned)', '$HOME', '%self', '{a,b}', '~', '*', '!!', ' ', ';', ':', '::', '-n', '-e', '--', 'end', '}',
  'é', '\u0085', '\u2028', '👍🏽', '\uF641', '\uFDD0', '\uFFFF',
];
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const hostileValue = fc.array(piece, { maxLength: 8 }).map((a) => a.join('').replace(/\0/g, '\u0001'));

// ---- running a shell -------------------------------------------------------------------

const SHELLS: Shell[] = ['bash', 'zsh', 'fish'];

function shellArgs(shell: Shell, file: string): string[] {
  return shell === 'bash' ? ['--noprofile', '--norc', file] : shell === 'zsh' ? ['-f', file] : ['--no-config', file];
}

let fileNo = 0;
function tmpFile(ext: string, content: string | Buffer): string {
  const f = join(dir, `f${fileNo++}.${ext}`);
  writeFileSync(f, content);
  return f;
}

interface Run { status: number | null; env: Map<string, Buffer>; stderr: string; stdout: Buffer; finished: boolean }

/** `env -0` output -> name -> value bytes. */
function parseEnv0(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) continue;
    const entry = buf.subarray(start, i);
    start = i + 1;
    const eq = entry.indexOf(0x3d);
    if (eq > 0) out.set(entry.subarray(0, eq).toString('latin1'), Buffer.from(entry.subarray(eq + 1)));
  }
  return out;
}

/** How a hook applies an answer: bash/zsh eval the command substitution, fish sources it. */
function applyLine(shell: Shell, file: string): string {
  return shell === 'fish' ? `source ${file}` : `eval "$(${CAT} ${file})"`;
}

/**
 * Start `shell` with `initial` as its environment, run `body` (script lines), then print
 * the exported environment with a child `env -0` after a marker.
 */
function runShell(shell: Shell, initial: Record<string, string>, body: string, locale = 'C.UTF-8'): Run {
  const script = `${body}\n${ENV} -0 && echo -n ENV-DONE\n`;
  const file = tmpFile(shell, script);
  const env: Record<string, string> = { PATH: SYS_PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), LANG: locale, LC_ALL: locale, ...initial };
  const r = spawnSync(shell, shellArgs(shell, file), { env, cwd: dir, timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.error !== undefined) throw r.error;
  const marker = Buffer.from('ENV-DONE');
  const finished = r.stdout.length >= marker.length && r.stdout.subarray(r.stdout.length - marker.length).equals(marker);
  const body0 = finished ? r.stdout.subarray(0, r.stdout.length - marker.length) : Buffer.alloc(0);
  return { status: r.status, env: parseEnv0(body0), stderr: r.stderr.toString('utf8'), stdout: r.stdout, finished };
}

/** Differences between the shell's exported env and `expected` over `names` (null: must be unset). */
function envMismatches(got: Map<string, Buffer>, expected: Map<string, string | null>): string[] {
  const bad: string[] = [];
  for (const [name, want] of expected) {
    const g = got.get(name);
    if (want === null) { if (g !== undefined) bad.push(`${name}: expected unset, got ${JSON.stringify(g.toString('utf8'))}`); continue; }
    if (g === undefined) { bad.push(`${name}: expected ${JSON.stringify(want)}, got unset`); continue; }
    if (!g.equals(Buffer.from(want, 'utf8'))) bad.push(`${name}: expected ${JSON.stringify(want)}, got ${JSON.stringify(g.toString('utf8'))}`);
  }
  return bad;
}

function nullProto<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** What the environment must be after applying `change` to `initial`, for `format`. */
function expectedAfter(format: ExportFormat, initial: Record<string, string>, change: Change, names: Iterable<string>): Map<string, string | null> {
  const exp = new Map<string, string | null>();
  for (const n of names) exp.set(n, Object.prototype.hasOwnProperty.call(initial, n) ? initial[n] ?? null : null);
  for (const n of change.unset) exp.set(n, null);
  for (const [n, v] of Object.entries(change.set)) exp.set(n, valueAsApplied(format, n, v));
  return exp;
}

// ---- 15: random changes through real shells ------------------------------------------

/**
 * zsh as a user may have it: options that change quoting and braces, and global aliases
 * on variable names (oh-my-zsh's common-aliases defines L, G, H, NUL...).
 */
const ZSH_HOSTILE = [
  'setopt rc_quotes csh_junkie_quotes ignore_braces ignore_close_braces magic_equal_subst sh_word_split glob_subst extended_glob brace_ccl',
  "alias -g V1='| cat' V2='; echo pwned;' V3='}' GOPATH='>/dev/null' a='&&' L='| less'",
].join('\n');

/** Names every shell accepts, including path lists fish treats specially. */
const POOL = [
  ...Array.from({ length: 120 }, (_, i) => `V${i}`),
  'PATH', 'CDPATH', 'MANPATH', 'GOPATH', 'LD_LIBRARY_PATH', 'PKG_CONFIG_PATH', 'XDG_DATA_DIRS', '__proto__',
  'constructor', 'a', 'http_proxy', '_x', 'HOME2', 'FOO_BAR_123', 'ENV', 'BASH_ENV_X', 'end', 'begin', 'set',
];

interface Case { initial: Record<string, string>; change: Change }

const caseArb: fc.Arbitrary<Case> = fc.record({
  initialPairs: fc.array(fc.tuple(fc.constantFrom(...POOL.filter((n) => n !== 'PATH' && n !== 'CDPATH')), hostileValue), { maxLength: 60 }),
  setPairs: fc.array(fc.tuple(fc.constantFrom(...POOL), hostileValue), { minLength: 60, maxLength: 150 }),
  unsets: fc.array(fc.constantFrom(...POOL), { maxLength: 40 }),
}).map(({ initialPairs, setPairs, unsets }) => {
  const initial = nullProto<string>();
  for (const [n, v] of initialPairs) initial[n] = v;
  const set = nullProto<string>();
  for (const [n, v] of setPairs) set[n] = v;
  return { initial: { ...initial }, change: { set, unset: unsets } };
});

for (const shell of SHELLS) {
  describe.skipIf(!haveShell(shell))(`${shell}: rendered changes applied by the real shell`, () => {
    const configs = [
      { locale: 'C.UTF-8', prelude: '', what: 'C.UTF-8' },
      { locale: 'C', prelude: '', what: 'C locale' },
      ...(shell === 'zsh' ? [{ locale: 'C.UTF-8', prelude: ZSH_HOSTILE, what: 'odd options and global aliases' }] : []),
      ...(shell === 'bash' ? [{ locale: 'C.UTF-8', prelude: 'set -o posix; shopt -s extglob nullglob failglob globstar', what: 'posix mode, glob options' }] : []),
    ];
    for (const { locale, prelude, what } of configs) {
      it(`random changes of hostile values round-trip byte for byte (${what})`, () => {
        let values = 0;
        fc.assert(fc.property(caseArb, ({ initial: initial0, change }) => {
          // fish 3.6 in the C locale re-exports INHERITED non-ASCII values double-encoded
          // (X=é comes out as X=Ã©) before envd does anything; keep inherited values ASCII there.
          const initial = shell === 'fish' && locale === 'C' ? Object.fromEntries(Object.entries(initial0).map(([k, v]) => [k, v.replace(/[^\x01-\x7f]/g, '?')])) : initial0;
          const r = renderChange(shell, change);
          const file = tmpFile(`${shell}.out`, r.text);
          // The shell's own PATH stays usable unless the change sets it.
          const run = runShell(shell, { ...initial, PATH: SYS_PATH }, `${prelude}\n${applyLine(shell, file)}`, locale);
          const exp = expectedAfter(shell, { ...initial, PATH: SYS_PATH }, change, POOL);
          const bad = envMismatches(run.env, exp);
          if (!run.finished || run.stderr !== '' || bad.length > 0) {
            throw new Error(`finished=${run.finished} stderr=${run.stderr.slice(0, 400)}\n${bad.slice(0, 5).join('\n')}\ntext: ${r.text.slice(0, 2000)}`);
          }
          const unexpected = r.warnings.filter((w) => !/^envd: (PATH|CDPATH): fish keeps empty entries/.test(w));
          if (unexpected.length > 0) throw new Error(`unexpected warnings: ${unexpected.join('\n')}`);
          values += Object.keys(change.set).length;
        }), { numRuns: 30, endOnFailure: true });
        expect(values).toBeGreaterThan(1500);
      });
    }

    if (shell === 'zsh') {
      it('names in unset are quoted: a zsh global alias on a bare name would run (the harness sees it)', () => {
        const run = runShell('zsh', { V2: 'x' }, `${ZSH_HOSTILE}\neval 'unset -v V2'`);
        expect(run.stdout.toString('latin1')).toContain('pwned');
        const r = renderChange('zsh', { set: {}, unset: ['V2', 'L'] });
        const ok = runShell('zsh', { V2: 'x', L: 'y' }, `${ZSH_HOSTILE}\n${applyLine('zsh', tmpFile('zsh.out', r.text))}`);
        expect(ok.stderr).toBe('');
        expect(ok.stdout.toString('latin1')).not.toContain('pwned');
        expect(envMismatches(ok.env, new Map([['V2', null], ['L', null]]))).toEqual([]);
      });
    }

    it('unset removes exported variables; unsetting an absent one is silent; bash functions survive', () => {
      const initial = { GONE1: 'x', GONE2: '', GONE3: 'a\nb', KEEP: 'k' };
      const change: Change = { set: {}, unset: ['GONE1', 'GONE2', 'GONE3', 'NEVER_SET'] };
      const r = renderChange(shell, change);
      expect(r.warnings).toEqual([]);
      const file = tmpFile(`${shell}.out`, r.text);
      const pre = shell === 'bash' ? 'NEVER_SET() { echo fn-alive; }' : '';
      const post = shell === 'fish'
        ? 'for n in GONE1 GONE2 GONE3 NEVER_SET; set -q $n; and echo "still $n"; end'
        : 'for n in GONE1 GONE2 GONE3 NEVER_SET; do eval "[ -n \\"\\${$n+x}\\" ]" && echo "still $n"; done';
      const fn = shell === 'bash' ? 'NEVER_SET' : '';
      const run = runShell(shell, initial, `${pre}\n${applyLine(shell, file)}\n${post}\n${fn}`);
      expect(run.stderr).toBe('');
      expect(run.finished).toBe(true);
      const out = run.stdout.toString('latin1');
      expect(out).not.toContain('still');
      if (shell === 'bash') expect(out).toContain('fn-alive');
      expect(envMismatches(run.env, new Map([['GONE1', null], ['GONE2', null], ['GONE3', null], ['NEVER_SET', null], ['KEEP', 'k']]))).toEqual([]);
    });

    it('PATH-like values, empty entries and trailing colons included, are exported as intended', () => {
      const names = ['PATH', 'CDPATH', 'MANPATH', 'GOPATH', 'LD_LIBRARY_PATH', 'PLAIN'];
      const vals = ['', ':', '::', '/a::/b:', ':/a', '/a:', '/a:/b', 'a b:c', "x'y:\\", '/x\n:y'];
      for (const v of vals) {
        const change: Change = { set: Object.fromEntries(names.map((n) => [n, v])), unset: [] };
        const r = renderChange(shell, change);
        const file = tmpFile(`${shell}.out`, r.text);
        const run = runShell(shell, {}, applyLine(shell, file));
        expect(run.stderr, v).toBe('');
        expect(run.finished, v).toBe(true);
        const exp = new Map(names.map((n) => [n, valueAsApplied(shell, n, v)] as [string, string]));
        expect(envMismatches(run.env, exp), `value ${JSON.stringify(v)}: ${r.text}`).toEqual([]);
        // Exact everywhere except fish's PATH/CDPATH empty entries, which say so.
        for (const n of names) {
          const changed = valueAsApplied(shell, n, v) !== v;
          expect(changed, `${n}=${JSON.stringify(v)}`).toBe(shell === 'fish' && (n === 'PATH' || n === 'CDPATH') && v !== '' && v.split(':').includes(''));
          expect(r.warnings.some((w) => w.startsWith(`envd: ${n}: `))).toBe(changed);
        }
      }
    });

    it('refused names never reach the shell and each gets one warning line', () => {
      const refused = ['PWD', 'OLDPWD', 'SHLVL', '_', 'PS1', 'SHELLOPTS', 'BASHOPTS', 'UID', 'EUID', 'BASH_FUNC_x%%', '__fish_x', '1A', 'A-B', '', 'A B', 'A\nB', 'X\x1b[2J'];
      const special = shell === 'bash' ? ['SRANDOM', 'RANDOM', 'BASH_XTRACEFD', 'GROUPS'] : shell === 'zsh' ? ['USERNAME', 'HISTSIZE', 'path', 'EGID', 'PROMPT'] : ['status', 'fish_pid', 'umask', 'fish_user_paths', 'CMD_DURATION'];
      const all = [...refused, ...special];
      const set = nullProto<string>();
      for (const n of all) set[n] = 'EVIL$(echo pwned)';
      set.OK = 'fine';
      const change: Change = { set, unset: [] };
      const r = renderChange(shell, change);
      // One warning per refused name; single lines, no control characters.
      expect(r.warnings.length).toBe(all.length);
      for (const w of r.warnings) {
        expect(w).toMatch(/^envd: not exporting /);
        expect(w).not.toMatch(/[\x00-\x1f\x7f]/);
      }
      const u = renderChange(shell, { set: {}, unset: all });
      expect(u.text).toBe('');
      expect(u.warnings.length).toBe(all.length);
      for (const w of u.warnings) expect(w).toMatch(/^envd: not unsetting /);
      for (const n of special) expect(shellNameVerdict(shell, n).ok).toBe(false);
      // The only statement left is OK's.
      expect(r.text).not.toContain('EVIL');
      const stmts = shell === 'fish' ? r.text.replace(/^begin; | end$/g, '') : r.text.replace(/^\{ | \}$/g, '');
      expect(stmts).toBe(shell === 'fish' ? "set -gx -- OK 'fine';" : "export OK='fine';");
      // And applying it changes nothing else.
      const file = tmpFile(`${shell}.out`, r.text);
      const run = runShell(shell, {}, applyLine(shell, file));
      expect(run.stderr).toBe('');
      expect(envMismatches(run.env, new Map([['OK', 'fine']]))).toEqual([]);
      expect([...run.env.values()].filter((v) => v.toString('latin1').includes('EVIL'))).toEqual([]);
      expect(run.stdout.toString('latin1')).not.toContain('pwned');
    });

    it('a value of the largest allowed size is exported and commands still run; one byte more is refused', () => {
      const name = 'BIG';
      const max = maxValueBytes(name);
      const ok = renderChange(shell, { set: { [name]: 'x'.repeat(max), AFTER: 'ok' }, unset: [] });
      expect(ok.warnings).toEqual([]);
      const f1 = tmpFile(`${shell}.out`, ok.text);
      // env -0 (a command started after the export) is the proof that commands still run.
      const run1 = runShell(shell, {}, `${applyLine(shell, f1)}\n${SH} -c 'echo ran-child'`);
      expect(run1.stderr).toBe('');
      expect(run1.finished).toBe(true);
      expect(run1.stdout.toString('latin1')).toContain('ran-child');
      expect(run1.env.get(name)?.length).toBe(max);

      for (const big of ['x'.repeat(max + 1), 'x'.repeat(128 * 1024 + 1), 'é'.repeat(Math.ceil((max + 1) / 2))]) {
        const r = renderChange(shell, { set: { [name]: big, AFTER: 'ok' }, unset: [] });
        expect(r.warnings).toHaveLength(1);
        expect(r.warnings[0]).toMatch(/^envd: not exporting BIG: the value is \d+ bytes; at most \d+ fit/);
        expect(r.text).not.toContain('xxxx');
        const f2 = tmpFile(`${shell}.out`, r.text);
        const run2 = runShell(shell, {}, `${applyLine(shell, f2)}\n${SH} -c 'echo ran-child'`);
        expect(run2.stderr).toBe('');
        expect(run2.finished).toBe(true);
        expect(run2.stdout.toString('latin1')).toContain('ran-child');
        expect(envMismatches(run2.env, new Map([[name, null], ['AFTER', 'ok']]))).toEqual([]);
      }
    });

    it('values that cannot be exported exactly (NUL, unpaired surrogate) are refused, not altered', () => {
      const r = renderChange(shell, { set: { N: 'a\0b', S: 'x\ud800y', OK: 'y' }, unset: [] });
      expect(r.warnings).toHaveLength(2);
      expect(r.warnings.join('\n')).toMatch(/not exporting N: .*NUL/);
      expect(r.warnings.join('\n')).toMatch(/not exporting S: .*not valid Unicode/);
      const run = runShell(shell, {}, applyLine(shell, tmpFile(`${shell}.out`, r.text)));
      expect(envMismatches(run.env, new Map([['N', null], ['S', null], ['OK', 'y']]))).toEqual([]);
    });
  });
}

// ---- 17: a cut-off answer changes nothing ----------------------------------------------

describe('a rendered answer cut off at any byte changes nothing', () => {
  const initial = { KEEP1: 'before', GONE: 'was here', P: '/x' };
  const set = { KEEP1: "after 'é' $(echo pwned) \\", NEW: 'line1\nline2\x1b[31m', P: '/a::/b:', E: '', Z: '👍🏽 end }' };
  const change: Change = { set, unset: ['GONE'] };
  const names = ['KEEP1', 'GONE', 'P', 'NEW', 'E', 'Z'];
  const unchanged = new Map<string, string | null>(names.map((n) => [n, (initial as Record<string, string>)[n] ?? null]));

  /** Apply every strict prefix (each its own eval/source) in ONE shell; return the env after. */
  function applyPrefixes(shell: Shell, text: Buffer): Run {
    const lines: string[] = [];
    for (let cut = 0; cut < text.length; cut++) {
      const f = tmpFile(`${shell}.cut`, text.subarray(0, cut));
      lines.push(`${applyLine(shell, f)} 2>/dev/null`);
    }
    return runShell(shell, initial, lines.join('\n'));
  }

  for (const shell of SHELLS) {
    it.skipIf(!haveShell(shell))(`${shell}: every strict prefix is refused whole; the full text applies`, () => {
      const r = renderChange(shell, change);
      const text = Buffer.from(r.text, 'utf8');
      expect(text.length).toBeGreaterThan(100);
      const cut = applyPrefixes(shell, text);
      expect(cut.finished).toBe(true);
      expect(envMismatches(cut.env, unchanged)).toEqual([]);
      expect(cut.stdout.toString('latin1')).not.toContain('pwned');

      const full = runShell(shell, initial, applyLine(shell, tmpFile(`${shell}.out`, text)));
      expect(full.stderr).toBe('');
      expect(envMismatches(full.env, expectedAfter(shell, initial, change, names))).toEqual([]);
    });

    it.skipIf(!haveShell(shell))(`${shell}: the harness catches unwrapped statements (direnv's shape), which apply partially`, () => {
      const r = renderChange(shell, change);
      const unwrapped = shell === 'fish' ? r.text.replace(/^begin; | end$/g, '') : r.text.replace(/^\{ | \}$/g, '');
      expect(unwrapped).not.toBe(r.text);
      const cut = applyPrefixes(shell, Buffer.from(unwrapped, 'utf8'));
      expect(envMismatches(cut.env, unchanged).length).toBeGreaterThan(0);
    });
  }
});

// ---- json ---------------------------------------------------------------------------

describe('json', () => {
  it('prints nothing for an empty change, like `direnv export json`', () => {
    expect(renderChange('json', { set: {}, unset: [] })).toEqual({ text: '', warnings: [] });
  });

  it('prints one object, names sorted, 2-space indent, no trailing newline; null for unset', () => {
    const r = renderChange('json', { set: { B: 'b', A: 'x\ny' }, unset: ['C'] });
    expect(r.text).toBe('{\n  "A": "x\\ny",\n  "B": "b",\n  "C": null\n}');
  });

  it('parses back to exactly the change, for random hostile values (and a variable called __proto__)', () => {
    fc.assert(fc.property(caseArb, ({ change }) => {
      const r = renderChange('json', change);
      const parsed = JSON.parse(r.text) as unknown;
      expect(typeof parsed).toBe('object');
      const got = new Map(Object.entries(parsed as Record<string, string | null>));
      const exp = new Map<string, string | null>();
      for (const n of change.unset) exp.set(n, null);
      for (const [n, v] of Object.entries(change.set)) exp.set(n, v);
      expect(got).toEqual(exp);
      expect(Object.keys(parsed as object)).toEqual([...exp.keys()].sort());
    }), { numRuns: 200 });
    const r = renderChange('json', { set: Object.assign(nullProto<string>(), { ['__proto__']: 'p' }), unset: [] });
    expect(Object.getOwnPropertyDescriptor(JSON.parse(r.text) as object, '__proto__')?.value).toBe('p');
  });

  it('refuses the same names and values as the shells', () => {
    const r = renderChange('json', { set: { PWD: '/x', 'A-B': 'y', BIG: 'x'.repeat(200_000), N: 'a\0' }, unset: ['SHLVL'] });
    expect(r.text).toBe('');
    expect(r.warnings).toHaveLength(5);
  });
});

// ---- gha ----------------------------------------------------------------------------

/**
 * Reference reader for $GITHUB_ENV as the GitHub runner documents it (Linux line ends):
 * `NAME=value` lines, or `NAME<<DELIM` then lines up to a line equal to DELIM, the value
 * being the text between (joined with \n). Missing delimiter: an error.
 */
function parseGithubEnv(text: string): Map<string, string> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else if (lines.length > 0) throw new Error('file does not end with a newline');
  const out = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const eq = line.indexOf('=');
    const hd = line.indexOf('<<');
    if (eq >= 0 && (hd < 0 || eq < hd)) { out.set(line.slice(0, eq), line.slice(eq + 1)); continue; }
    if (hd <= 0) throw new Error(`invalid line ${JSON.stringify(line)}`);
    const name = line.slice(0, hd);
    const delim = line.slice(hd + 2);
    if (delim === '') throw new Error('empty delimiter');
    const value: string[] = [];
    for (i++; ; i++) {
      if (i >= lines.length) throw new Error(`delimiter ${delim} not found`);
      if (lines[i] === delim) break;
      value.push(lines[i] ?? '');
    }
    out.set(name, value.join('\n'));
  }
  return out;
}

describe('gha ($GITHUB_ENV)', () => {
  it('the reference reader can fail: a delimiter inside the value ends it early', () => {
    expect(parseGithubEnv('A<<EOF\nx\nEOF\nB=y\n').get('A')).toBe('x');
    expect(() => parseGithubEnv('A<<EOF\nx\nEOF\ny\nEOF\n')).toThrow();
    expect(() => parseGithubEnv('A<<EOF\nx\n')).toThrow();
  });

  it('round-trips random hostile values through the reference reader; unsets become empty with a warning', () => {
    fc.assert(fc.property(caseArb, ({ change }) => {
      const r = renderChange('gha', change);
      const got = parseGithubEnv(r.text);
      const exp = new Map<string, string>();
      for (const n of change.unset) exp.set(n, '');
      for (const [n, v] of Object.entries(change.set)) exp.set(n, v);
      expect(new Map([...got].sort())).toEqual(new Map([...exp].sort()));
      const unsetOnly = new Set(change.unset.filter((n) => !Object.prototype.hasOwnProperty.call(change.set, n)));
      expect(r.warnings).toEqual([...unsetOnly].sort().map((n) => `envd: GitHub Actions cannot unset ${n}; setting it to the empty string`));
    }), { numRuns: 200 });
  });

  it('picks another delimiter when the proposed one occurs in the value', () => {
    const values = ['EOF', 'x\nEOF\ny', 'EOF_0\nEOF', 'EOFEOF_0EOF_0_1', ''];
    for (const v of values) {
      const r = renderChange('gha', { set: { A: v }, unset: [] }, { delimiter: () => 'EOF' });
      expect(parseGithubEnv(r.text).get('A'), JSON.stringify(v)).toBe(v);
    }
    // A delimiter that could not work (empty, or with a newline) is replaced.
    for (const bad of ['', 'a\nb']) {
      const r = renderChange('gha', { set: { A: 'v' }, unset: [] }, { delimiter: () => bad });
      expect(parseGithubEnv(r.text).get('A')).toBe('v');
    }
  });

  it('uses a random delimiter by default and refuses NODE_OPTIONS', () => {
    const a = renderChange('gha', { set: { A: '1' }, unset: [] }).text;
    const b = renderChange('gha', { set: { A: '1' }, unset: [] }).text;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^A<<ghadelimiter_[0-9a-f-]{36}\n1\nghadelimiter_[0-9a-f-]{36}\n$/);
    const r = renderChange('gha', { set: { NODE_OPTIONS: '--require x', A: '1' }, unset: [] });
    expect(r.text).not.toContain('NODE_OPTIONS');
    expect(r.warnings).toEqual(['envd: not exporting NODE_OPTIONS: GitHub Actions does not accept NODE_OPTIONS from $GITHUB_ENV']);
    expect(renderChange('gha', { set: {}, unset: [] })).toEqual({ text: '', warnings: [] });
  });
});

describe('shape', () => {
  it('matches the documented statements per shell; empty change prints nothing', () => {
    const c: Change = { set: { A: 'x', B: '' }, unset: ['C'] };
    expect(renderChange('bash', c).text).toBe("{ export A='x'; export B=''; unset -v 'C'; }");
    expect(renderChange('zsh', c).text).toBe("{ export A='x'; export B=''; unset -v 'C'; }");
    expect(renderChange('fish', c).text).toBe("begin; set -gx -- A 'x'; set -gx -- B ''; set -e -g C; end");
    for (const f of ['bash', 'zsh', 'fish', 'json', 'gha'] as const) expect(renderChange(f, { set: {}, unset: [] }).text).toBe('');
  });

  it('a name both set and unset is set', () => {
    expect(renderChange('bash', { set: { A: '1' }, unset: ['A'] }).text).toBe("{ export A='1'; }");
  });

  it('fish: an empty PATH is an empty list (exported as PATH=), not a "." entry', () => {
    expect(renderChange('fish', { set: { PATH: '' }, unset: [] })).toEqual({ text: 'begin; set -gx -- PATH; end', warnings: [] });
    expect(valueAsApplied('fish', 'PATH', '')).toBe('');
    expect(valueAsApplied('fish', 'PATH', ':/a:')).toBe('.:/a:.');
    expect(valueAsApplied('bash', 'PATH', ':/a:')).toBe(':/a:');
    expect(valueAsApplied('fish', 'MANPATH', ':/a:')).toBe(':/a:');
  });
});
