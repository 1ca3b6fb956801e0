import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { Sandbox, haveShell, parseJsonExport, which, ENVD_BIN, type Shell } from './helpers/sandbox.js';

/**
 * The state a shell carries is direnv's own (DIRENV_DIR, DIRENV_FILE, DIRENV_DIFF,
 * DIRENV_WATCHES) in direnv's formats: the real direnv binary decodes it, a shell can
 * switch between direnv's hook and envd's and revert exactly both ways, and a failing
 * .envrc records its state so it is not run again at every prompt (DESIGN §2).
 *
 * Each shell session is one non-interactive script that runs the hooks' prompt functions
 * itself: `_envd_hook` for envd's, `direnv export SHELL` evaluated for direnv's (which is
 * all direnv's hook does at a prompt).
 */

const DIRENV = which('direnv');
/** Names a shell changes by itself, and the hook's own marker. */
const VOLATILE = new Set(['PWD', 'OLDPWD', '_', 'SHLVL', 'ENVD_HOOK']);

function envDump(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readFileSync(path, 'latin1').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!VOLATILE.has(name)) out[name] = entry.slice(eq + 1);
  }
  return out;
}

const direnvPrompt = (shell: Shell): string => (shell === 'fish' ? 'direnv export fish | source' : `eval "$(direnv export ${shell})"`);
/**
 * Prompts until the state is recorded: on a busy machine the first evaluation may outlast
 * the prompt's budget and be applied at a later prompt, as a person's shell would.
 */
const enterPrompt = (shell: Shell): string => (shell === 'fish'
  ? 'for i in (seq 100); _envd_hook; set -q DIRENV_DIR; and break; sleep 0.1; end'
  : 'for i in {1..100}; do _envd_hook; [[ -n ${DIRENV_DIR-} ]] && break; sleep 0.1; done');
const prependPath = (shell: Shell, dir: string): string => (shell === 'fish' ? `set -gx PATH ${dir} $PATH` : `PATH=${dir}:$PATH`);

for (const daemon of [true, false]) {
  describe.runIf(DIRENV !== null)(`direnv's state variables (${daemon ? 'daemon' : 'ENVD_NO_DAEMON=1'})`, () => {
    let sb: Sandbox;
    let proj: string;
    let n = 0;
    const dumpFile = (): string => sb.path(`dump-${++n}`);

    beforeAll(() => {
      sb = new Sandbox({ daemon });
      proj = sb.mkdir('proj');
      sb.write('proj/.envrc', 'export FOO=bar\nPATH_add bin\nexport EMPTY=\n');
      // An old mtime: a file written this very second is recorded one second back (racily
      // clean, see toDirenvWatch), which direnv would take as a change and reload once.
      utimesSync(join(proj, '.envrc'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      expect(sb.envd(['allow', proj]).status).toBe(0);
      expect(sb.run('direnv', ['allow', proj]).status).toBe(0);
    });
    afterAll(() => { sb.cleanup(); });

    function hookFile(shell: Shell): string {
      return sb.write(`hook-${shell}.${shell === 'bash' ? 'sh' : shell}`, sb.envd(['hook', shell]).stdout);
    }

    for (const shell of ['bash', 'zsh', 'fish'] as Shell[]) {
      it.runIf(haveShell(shell))(`${shell}: envd's DIRENV_WATCHES and DIRENV_DIFF decode with the real direnv show_dump`, () => {
        const w = dumpFile();
        const d = dumpFile();
        const r = sb.shell(shell, [
          `source ${hookFile(shell)}`, `cd ${proj}`, enterPrompt(shell),
          `direnv show_dump "$DIRENV_WATCHES" > ${w}`, `direnv show_dump "$DIRENV_DIFF" > ${d}`,
          'echo "dir=$DIRENV_DIR file=$DIRENV_FILE"',
          'env | grep -c "^ENVD_\\(DIFF\\|WATCHES\\|DIR\\|FILE\\)=" || true',
        ].join('\n'), { cwd: sb.root });
        expect(r.stdout, r.stderr).toContain(`dir=-${proj} file=${join(proj, '.envrc')}\n0\n`);
        const watches = JSON.parse(readFileSync(w, 'utf8')) as { Path: string; Modtime: number; Exists: boolean }[];
        expect(watches).toContainEqual({ Path: join(proj, '.envrc'), Modtime: expect.any(Number) as number, Exists: true });
        const diff = JSON.parse(readFileSync(d, 'utf8')) as { p: Record<string, string>; n: Record<string, string> };
        expect(diff.n.FOO).toBe('bar');
        expect(diff.n.EMPTY).toBe('');
        expect(diff.n.PATH?.startsWith(`${join(proj, 'bin')}:`)).toBe(true);
        expect(diff.p.PATH).toBe(sb.env.PATH);
        expect(diff.p.FOO).toBeUndefined();
        expect(diff.n.DIRENV_DIR).toBe(`-${proj}`);
      });

      it.runIf(haveShell(shell))(`${shell}: loaded by direnv's hook, then under envd's: leaving reverts exactly`, () => {
        const before = dumpFile();
        const inside = dumpFile();
        const after = dumpFile();
        const r = sb.shell(shell, [
          `source ${hookFile(shell)}`, `env -0 > ${before}`,
          `cd ${proj}`, direnvPrompt(shell), `env -0 > ${inside}`,
          '_envd_hook', 'echo "FOO=$FOO"',
          'cd ..', '_envd_hook', `env -0 > ${after}`,
        ].join('\n'), { cwd: sb.root });
        expect(r.stdout, r.stderr).toContain('FOO=bar\n');
        expect(envDump(inside).FOO).toBe('bar');
        expect(envDump(after)).toEqual(envDump(before));
      });

      it.runIf(haveShell(shell))(`${shell}: loaded by envd's hook, then under direnv's: direnv keeps it inside and reverts exactly on leaving`, () => {
        const before = dumpFile();
        const after = dumpFile();
        const r = sb.shell(shell, [
          `source ${hookFile(shell)}`, `env -0 > ${before}`,
          `cd ${proj}`, enterPrompt(shell), 'echo "FOO=$FOO"',
          // direnv's hook at the next prompt: nothing it watches changed, so nothing to do.
          direnvPrompt(shell), 'echo "still=$FOO"',
          'cd ..', direnvPrompt(shell), `env -0 > ${after}`,
        ].join('\n'), { cwd: sb.root });
        expect(r.stdout, r.stderr).toContain('FOO=bar\nstill=bar\n');
        expect(r.stderr).not.toContain('direnv: loading');
        expect(r.stderr).toContain('direnv: unloading');
        expect(envDump(after)).toEqual(envDump(before));
      });

      it.runIf(haveShell(shell))(`${shell}: a PATH entry the user prepended inside survives leaving`, () => {
        const before = dumpFile();
        const after = dumpFile();
        sb.shell(shell, [
          `source ${hookFile(shell)}`, `env -0 > ${before}`,
          `cd ${proj}`, enterPrompt(shell), prependPath(shell, '/my/own/bin'),
          'cd ..', '_envd_hook', `env -0 > ${after}`,
        ].join('\n'), { cwd: sb.root });
        const b = envDump(before);
        const a = envDump(after);
        expect(a.PATH).toBe(`/my/own/bin:${b.PATH ?? ''}`);
        delete a.PATH;
        delete b.PATH;
        expect(a).toEqual(b);
      });

      it.runIf(haveShell(shell))(`${shell}: a failing .envrc records its state: not run again at the next prompt, run again after an edit`, () => {
        const dir = sb.mkdir(`fail-${shell}`);
        const counter = join(dir, 'runs');
        sb.write(`fail-${shell}/.envrc`, `echo run >> ${counter}\nexport NEVER=1\nexit 5\n`);
        // Written this very second: direnv's whole-second mtime cannot tell an edit from
        // now; envd's record of the exact fingerprints can (state-records.ts).
        expect(sb.envd(['allow', dir]).status).toBe(0);
        const w = dumpFile();
        const runs = (): number => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').length - 1 : 0);
        const edit = `echo '# edited' >> ${join(dir, '.envrc')}; ${ENVD_BIN} allow ${dir}`;
        // After the edit, prompts until it is seen (the daemon's watcher announces it).
        const until = shell === 'fish'
          ? `for i in (seq 100); _envd_hook; test (count < ${counter}) -ge 2; and break; sleep 0.1; end`
          : `for i in {1..100}; do _envd_hook; [[ $(wc -l < ${counter}) -ge 2 ]] && break; sleep 0.1; done`;
        const lines = `$(wc -l < ${counter})`;
        const hasDiff = '$(test -n "$DIRENV_DIFF" && echo yes)';
        const r = sb.shell(shell, [
          `source ${hookFile(shell)}`, `cd ${dir}`, enterPrompt(shell), '_envd_hook', '_envd_hook',
          `direnv show_dump "$DIRENV_WATCHES" > ${w}`,
          `echo "runs=${lines} file=$DIRENV_FILE never=$NEVER diff=${hasDiff}"`,
          edit, until, `echo "after=${lines}"`,
        ].join('\n'), { cwd: sb.root });
        expect(r.stdout, r.stderr).toMatch(new RegExp(`runs=\\s*1 file=${join(dir, '.envrc')} never= diff=yes\\n`));
        expect(r.stdout).toMatch(/after=\s*2\n/);
        expect(r.stderr).toContain('exit status 5');
        expect(runs()).toBe(2);
        const watches = JSON.parse(readFileSync(w, 'utf8')) as { Path: string }[];
        expect(watches.map((x) => x.Path)).toContain(join(dir, '.envrc'));
      });
    }

    it('CLI: a failing .envrc answers its state once; the same state asks again for nothing; an edit runs it again', () => {
      const dir = sb.mkdir('fail-cli');
      const counter = join(dir, 'runs');
      sb.write('fail-cli/.envrc', `echo run >> ${counter}\nexit 5\n`);
      expect(sb.envd(['allow', dir]).status).toBe(0);
      const runs = (): number => readFileSync(counter, 'utf8').split('\n').length - 1;
      const first = sb.envd(['export', 'json'], { cwd: dir });
      expect(first.stderr).toContain('exit status 5');
      const state = parseJsonExport(first.stdout);
      expect(Object.keys(state).sort()).toEqual(['DIRENV_DIFF', 'DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_WATCHES']);
      expect(runs()).toBe(1);
      const carried: Record<string, string> = {};
      for (const [k, v] of Object.entries(state)) if (v !== null) carried[k] = v;
      const second = sb.envd(['export', 'json'], { cwd: dir, env: carried });
      expect(second.stdout.trim()).toBe('');
      expect(second.stderr).toBe('');
      expect(runs()).toBe(1);
      sb.write('fail-cli/.envrc', `echo run >> ${counter}\nexit 6\n`);
      expect(sb.envd(['allow', dir]).status).toBe(0);
      const third = sb.envd(['export', 'json'], { cwd: dir, env: carried });
      expect(third.stderr).toContain('exit status 6');
      expect(runs()).toBe(2);
    });

    it('a blocked file is said once: another file\'s approval does not repeat it', () => {
      const dir = sb.mkdir('blocked-cli');
      sb.write('blocked-cli/.envrc', 'export B=1\n');
      const first = sb.envd(['export', 'json'], { cwd: dir });
      expect(first.stderr).toContain('is blocked');
      const carried: Record<string, string> = {};
      for (const [k, v] of Object.entries(parseJsonExport(first.stdout))) if (v !== null) carried[k] = v;
      expect(Object.keys(carried).sort()).toEqual(['DIRENV_DIFF', 'DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_WATCHES']);
      expect(sb.envd(['export', 'json'], { cwd: dir, env: carried }).stderr).toBe('');
      const other = sb.mkdir('approved-elsewhere');
      sb.write('approved-elsewhere/.envrc', 'export O=1\n');
      expect(sb.envd(['allow', other]).status).toBe(0);
      const again = sb.envd(['export', 'json'], { cwd: dir, env: carried });
      expect(again.stderr).not.toContain('is blocked');
      expect(parseJsonExport(again.stdout).B).toBeUndefined();
      // Its own approval is a change: it loads.
      expect(sb.envd(['allow', dir]).status).toBe(0);
      expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir, env: carried }).stdout).B).toBe('1');
    });

    it('a shell from the previous release (ENVD_DIFF, ENVD_WATCHES) reverts once, and only direnv\'s names are written', () => {
      // What the previous release exported after loading FOO=bar and PATH_add bin.
      const legacy = (v: unknown): string => `e1.${deflateRaw(JSON.stringify(v))}`;
      const env = {
        FOO: 'bar', EMPTY: '', PATH: `${join(proj, 'bin')}:${sb.env.PATH ?? ''}`,
        ENVD_DIR: proj, ENVD_FILE: join(proj, '.envrc'), DIRENV_DIR: `-${proj}`, DIRENV_FILE: join(proj, '.envrc'),
        ENVD_DIFF: legacy({ p: { FOO: null, EMPTY: null, PATH: sb.env.PATH }, n: { FOO: 'bar', EMPTY: '', PATH: `${join(proj, 'bin')}:${sb.env.PATH ?? ''}` } }),
        ENVD_WATCHES: legacy({ s: 'loaded', w: [{ p: join(proj, '.envrc'), m: 1, s: 1 }] }),
      };
      // Inside: answered again once, in direnv's names; nothing else changes.
      const inside = parseJsonExport(sb.envd(['export', 'json'], { cwd: proj, env }).stdout);
      expect(inside).toEqual({
        ENVD_DIR: null, ENVD_FILE: null, ENVD_DIFF: null, ENVD_WATCHES: null,
        DIRENV_DIFF: expect.any(String) as string, DIRENV_WATCHES: expect.any(String) as string,
      });
      const left = parseJsonExport(sb.envd(['export', 'json'], { cwd: sb.root, env }).stdout);
      expect(left).toEqual({
        FOO: null, EMPTY: null, PATH: sb.env.PATH,
        ENVD_DIR: null, ENVD_FILE: null, ENVD_DIFF: null, ENVD_WATCHES: null, DIRENV_DIR: null, DIRENV_FILE: null,
      });
    });
  });
}

function deflateRaw(s: string): string {
  return deflateRawSync(Buffer.from(s)).toString('base64url');
}
