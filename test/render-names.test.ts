/**
 * Special names per shell. Asks each installed shell for the names it
 * knows itself (bash `compgen -v`, zsh's special parameters with its modules loaded, fish
 * `set -n`), renders a hostile value for every one of them that envd would export, and
 * checks that the real shell then exports exactly that value, silently. A shell version
 * that gives a new name a meaning of its own fails here until render.ts refuses it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkName } from '../src/env/names.js';
import { renderChange, shellNameVerdict, valueAsApplied } from '../src/env/render.js';
import { haveShell, mustWhich, type Shell } from './helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'envd-names-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const ENV = mustWhich('env');
const SYS_PATH = process.env.PATH ?? '/usr/bin:/bin';
const cleanEnv = (): Record<string, string> => ({ PATH: SYS_PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });

const ZSH_MODULES = [
  'zsh/datetime', 'zsh/system', 'zsh/terminfo', 'zsh/termcap', 'zsh/mapfile', 'zsh/langinfo', 'zsh/zleparameter',
  'zsh/sched', 'zsh/curses', 'zsh/net/socket', 'zsh/net/tcp', 'zsh/zpty', 'zsh/stat', 'zsh/zprof', 'zsh/pcre',
  'zsh/regex', 'zsh/complist', 'zsh/computil', 'zsh/nearcolor', 'zsh/watch', 'zsh/clone', 'zsh/files',
  'zsh/zselect', 'zsh/zutil', 'zsh/cap', 'zsh/rlimits', 'zsh/mathfunc', 'zsh/parameter', 'zsh/param/private', 'zsh/zftp',
];
const zshLoad = ZSH_MODULES.map((m) => `zmodload ${m} 2>/dev/null`).join('; ');

/** The shell's own variable names. */
function ownNames(shell: Shell): string[] {
  const script = shell === 'bash' ? 'compgen -v'
    : shell === 'zsh' ? `${zshLoad}\nfor k in \${(k)parameters}; do [[ \${parameters[$k]} == *special* ]] && print -r -- $k; done`
      : 'set -n';
  const args = shell === 'bash' ? ['--noprofile', '--norc', '-i', '-c', script] : shell === 'zsh' ? ['-f', '-i', '-c', script] : ['--no-config', '-i', '-c', script];
  const r = spawnSync(shell, args, { env: cleanEnv(), cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return r.stdout.split('\n').filter((n) => n !== '');
}

const PROBE = "a:b c'd$(echo pwned)\n\"e\\";

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  describe.skipIf(!haveShell(shell))(`${shell}: its own variable names`, () => {
    it('every one envd would export is held and exported byte for byte, silently', () => {
      const names = ownNames(shell);
      expect(names.length).toBeGreaterThan(20); // the probe itself worked
      // LANG/LC_*: held exactly, but a shell warns about a locale that does not exist.
      const allowed = names.filter((n) => checkName(n).ok && shellNameVerdict(shell, n).ok && !/^(LANG|LC_\w+)$/.test(n));
      const refused = names.filter((n) => !allowed.includes(n));
      expect(refused.length).toBeGreaterThan(5);
      const r = renderChange(shell, { set: Object.fromEntries(allowed.map((n) => [n, PROBE])), unset: [] });
      expect(r.warnings).toEqual([]);
      const file = join(dir, `probe.${shell}`);
      writeFileSync(file, r.text);
      const apply = shell === 'fish' ? `source ${file}` : `${shell === 'zsh' ? zshLoad + '\n' : ''}eval "$(${mustWhich('cat')} ${file})"`;
      const script = join(dir, `run.${shell}`);
      writeFileSync(script, `${apply}\n${ENV} -0\n`);
      const args = shell === 'bash' ? ['--noprofile', '--norc', script] : shell === 'zsh' ? ['-f', script] : ['--no-config', script];
      const run = spawnSync(shell, args, { env: cleanEnv(), cwd: dir, timeout: 30_000 });
      const got = new Map<string, string>();
      for (const entry of run.stdout.toString('utf8').split('\0')) {
        const eq = entry.indexOf('=');
        if (eq > 0) got.set(entry.slice(0, eq), entry.slice(eq + 1));
      }
      const bad = allowed.filter((n) => got.get(n) !== valueAsApplied(shell, n, PROBE)).map((n) => `${n}=${JSON.stringify(got.get(n) ?? null)}`);
      expect(bad, `names ${shell} does not hold as given; refuse them in render.ts`).toEqual([]);
      expect(run.stderr.toString('utf8')).toBe('');
    });
  });
}

describe.skipIf(!haveShell('bash'))('why the lists exist', () => {
  it('bash: exporting SRANDOM evaluates its value as arithmetic, running $(…) inside it; envd refuses it', () => {
    const evil = 'a[$(echo pwned >&2)]';
    const naive = spawnSync('bash', ['--noprofile', '--norc', '-c', `export SRANDOM='${evil}'; true`], { env: cleanEnv(), encoding: 'utf8' });
    expect(naive.stderr).toContain('pwned');
    const r = renderChange('bash', { set: { SRANDOM: evil }, unset: [] });
    expect(r.text).toBe('');
    expect(r.warnings).toEqual(['envd: not exporting SRANDOM: bash gives this variable a meaning of its own']);
  });

  it('fish_* names are refused only for fish; lowercase names in general are fine', () => {
    expect(shellNameVerdict('fish', 'fish_user_paths').ok).toBe(false);
    expect(shellNameVerdict('bash', 'fish_user_paths').ok).toBe(true);
    expect(shellNameVerdict('zsh', 'path').ok).toBe(false);
    expect(shellNameVerdict('zsh', 'http_proxy').ok).toBe(true);
    expect(renderChange('json', { set: { path: 'x', status: 'y' }, unset: [] }).warnings).toEqual([]);
  });
});
