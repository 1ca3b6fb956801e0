import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';
import { haveMoreShell, MORE_SHELLS, type MoreShell } from './helpers/more-shells.js';
import { TmuxShell, haveTmux, type EnvMap } from './helpers/tmux.js';

/**
 * The elvish, tcsh and nushell hooks in real interactive shells (tmux) against a real
 * daemon: enter, leave (exactly, with the user's own changes kept), blocked files, edits,
 * a slow file that must not hold the prompt, and values that need quoting. Then the
 * hooks' files through each shell's own parser, and strace on idle prompts.
 */

/** Names a shell changes by itself between prompts (nushell exports its last command's duration). */
const VOLATILE = new Set(['PWD', 'OLDPWD', '_', 'SHLVL', 'CMD_DURATION_MS']);
const STATE = ['DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_DIFF', 'DIRENV_WATCHES'];

/** `got` equals `base` except for `changes` (null: unset); names the shell moves itself aside. */
function expectEnv(got: EnvMap, base: EnvMap, changes: Record<string, string | null>): void {
  const own = (o: object, n: string): boolean => Object.prototype.hasOwnProperty.call(o, n);
  const names = new Set([...Object.keys(got), ...Object.keys(base), ...Object.keys(changes)]);
  for (const n of names) {
    if (STATE.includes(n) && !own(changes, n)) continue;
    if (VOLATILE.has(n) && !own(changes, n)) continue;
    const want = own(changes, n) ? changes[n] ?? null : own(base, n) ? base[n] ?? null : null;
    expect(own(got, n) ? got[n] ?? null : null, n).toBe(want);
  }
}

/**
 * The generation as the shell sees it: the number, and for tcsh (which cannot read the
 * file without a process) the file's inode and mtime second too, which the daemon moves a
 * moment after the bytes when two changes fall in one second (src/daemon/generation.ts).
 */
function readGeneration(sb: Sandbox, shell?: MoreShell): string {
  const file = join(sb.runtimeDir, 'generation');
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (shell !== 'tcsh') return text;
    const st = statSync(file);
    return `${text} ${String(st.ino)} ${String(Math.floor(st.mtimeMs / 1000))}`;
  } catch { return ''; }
}

/** The number has moved and, for tcsh, the file's inode or mtime second with it. */
function moved(before: string, now: string, shell: MoreShell): boolean {
  if (now === before || now === '') return false;
  if (shell !== 'tcsh') return true;
  const [n0, i0, m0] = before.split(' ');
  const [n1, i1, m1] = now.split(' ');
  return n1 !== n0 && (i1 !== i0 || m1 !== m0);
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** How a person sets a variable by hand in each shell. */
const SETENV: Record<MoreShell, (name: string, value: string) => string> = {
  elvish: (n, v) => `set-env ${n} '${v}'`,
  tcsh: (n, v) => `setenv ${n} '${v}'`,
  nushell: (n, v) => `$env.${n} = '${v}'`,
};

/**
 * Run a command at the prompt; while what it should bring is not there and the screen says
 * an evaluation is still running (a first evaluation can outlast the daemon's budget on a
 * loaded machine: the prompt comes back and the result is applied at a later prompt),
 * give it more prompts.
 */
async function settled(t: TmuxShell, command: string, ready: (env: EnvMap) => boolean): Promise<EnvMap> {
  let e = await t.run(command);
  for (let i = 0; i < 50 && !ready(e) && t.screen().includes('still running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    e = await t.run('');
  }
  return e;
}

const tmuxOk = haveTmux();

for (const shell of MORE_SHELLS) {
  describe.runIf(tmuxOk && haveMoreShell(shell))(`${shell}: interactive, real daemon`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let base: EnvMap;
    let A: string; let B: string; let C: string; let S: string; let out: string;
    let release: string;

    beforeAll(async () => {
      sb = new Sandbox();
      out = sb.mkdir('out');
      A = sb.mkdir('A');
      sb.mkdir('A/sub/deeper');
      B = sb.mkdir('B');
      C = sb.mkdir('C');
      S = sb.mkdir('S');
      release = sb.path('release');
      sb.write('A/.envrc', 'export A_VAR=a\nexport PRE=changed\nPATH_add bin\n');
      // Everything a quoter can get wrong; bytes that are not UTF-8 where the shell holds them.
      const raw = shell === 'nushell' ? '' : '\\377';
      sb.write('B/.envrc', `export B_VAR="b $(echo value)"\nexport Q=$'it\\'s "q" \\\\ ! \\\\!x $HOME \`x\` \\n2nd\\tline ${raw}é'\n`);
      sb.write('C/.envrc', 'export C_VAR=c\n');
      // Holds until the test creates the release file: "slow" without any clock.
      sb.write('S/.envrc', `while [ ! -e '${release}' ]; do sleep 0.05; done\nexport S_VAR=s\n`);
      for (const d of [A, B, S]) expect(sb.envd(['allow', d]).status).toBe(0);
      const hook = sb.envd(['hook', shell]);
      expect(hook.status, hook.stderr).toBe(0);
      const hookFile = sb.write(`hook.${shell}`, hook.stdout);
      t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: out, sourceTwice: true, env: { PRE: 'before' } });
      base = await t.dump();
    }, 60_000);

    afterAll(() => {
      t?.close();
      sb?.cleanup();
    });

    it('starts with nothing loaded', () => {
      expect(base.PRE).toBe('before');
      for (const n of STATE) expect(base[n]).toBeUndefined();
    });

    it.runIf(shell !== 'tcsh')('the hook loaded twice is registered once', async () => {
      const count = shell === 'elvish'
        ? 'set-env HOOKS (to-string (count $edit:before-readline))'
        : '$env.HOOKS = ($env.config.hooks.pre_prompt | length | into string)';
      expect((await t.run(count)).HOOKS).toBe('1');
      expect((await t.run(shell === 'elvish' ? 'unset-env HOOKS' : 'hide-env HOOKS')).HOOKS).toBeUndefined();
    });

    it('enter: the project is loaded', async () => {
      const e = await settled(t, `cd ${A}`, (env) => env.A_VAR !== undefined);
      expectEnv(e, base, { A_VAR: 'a', PRE: 'changed', PATH: `${join(A, 'bin')}:${base.PATH ?? ''}`, DIRENV_DIR: `-${A}`, DIRENV_FILE: join(A, '.envrc') });
    });

    it.runIf(shell === 'nushell')('nushell: PATH is a list again after loading, as nushell keeps it', async () => {
      const e = await t.run('$env.PATH_KIND = ($env.PATH | describe)');
      expect(e.PATH_KIND).toBe('list<string>');
      expect((await t.run('hide-env PATH_KIND')).PATH_KIND).toBeUndefined();
    });

    it('subdirectory: unchanged, and nothing asked again', async () => {
      const loads = t.screen().split('envd: loading').length;
      const e = await t.run('cd sub/deeper');
      expect(e.A_VAR).toBe('a');
      expect(t.screen().split('envd: loading').length).toBe(loads);
    });

    it('leave: restored exactly (unset stays unset), and a variable set by hand inside survives', async () => {
      await t.run(SETENV[shell]('MINE', 'kept'));
      const e = await t.run(`cd ${out}`);
      expectEnv(e, base, { MINE: 'kept', DIRENV_DIR: null, DIRENV_FILE: null, DIRENV_DIFF: null, DIRENV_WATCHES: null });
    });

    it('values with quotes, newlines, backslashes, ! and $(…) arrive byte for byte; leaving removes them', async () => {
      const e = await t.run(`cd ${B}`);
      expect(e.B_VAR).toBe('b value');
      // The helper reads `env -0` as UTF-8: the byte 0xff shows as U+FFFD (the renderer's
      // property test checks the bytes themselves).
      expect(e.Q).toBe(`it's "q" \\ ! \\!x $HOME \`x\` \n2nd\tline ${shell === 'nushell' ? '' : '\ufffd'}é`);
      const left = await t.run(`cd ${out}`);
      expect(left.Q).toBeUndefined();
      expect(left.B_VAR).toBeUndefined();
    });

    it('a blocked file: nothing loaded, and the message says how to approve it', async () => {
      const e = await t.run(`cd ${C}`);
      expect(e.C_VAR).toBeUndefined();
      expect(t.screen()).toContain(`${join(C, '.envrc')} is blocked. Run 'envd allow'`);
      expect(sb.envd(['allow', C]).status).toBe(0);
      // The approval moves the generation: loaded at the next prompt, no cd needed.
      const later = await settled(t, '', (env) => env.C_VAR !== undefined);
      expect(later.C_VAR).toBe('c');
    });

    it('an edit: blocked until allowed again, then loaded at the next prompt', async () => {
      await t.run(`cd ${A}`);
      const gen = readGeneration(sb, shell);
      sb.write('A/.envrc', 'export A_VAR=a2\nexport PRE=changed\nPATH_add bin\n');
      // The daemon's watcher sees the edit and moves the generation; the prompt follows it.
      await until(() => moved(gen, readGeneration(sb, shell), shell), 10_000);
      const blocked = await t.run('');
      expect(blocked.A_VAR).toBeUndefined();
      expect(blocked.PRE).toBe('before');
      expect(t.screen()).toMatch(/A\/\.envrc is blocked\. Run 'envd allow'/);
      expect(sb.envd(['allow', A]).status).toBe(0);
      const e = await settled(t, '', (env) => env.A_VAR === 'a2');
      expect(e.A_VAR).toBe('a2');
      expect(e.PRE).toBe('changed');
    });

    it('a slow file does not hold the prompt; its result comes at a later prompt', async () => {
      await t.run(`cd ${out}`);
      // The prompt comes back (the dump is written) while the file is still running.
      const e = await t.run(`cd ${S}`);
      expect(existsSync(release)).toBe(false);
      expect(e.S_VAR).toBeUndefined();
      const gen = readGeneration(sb, shell);
      sb.write('release', '');
      await until(() => moved(gen, readGeneration(sb, shell), shell), 20_000);
      const later = await t.run('');
      expect(later.S_VAR).toBe('s');
      expect(later.DIRENV_FILE).toBe(join(S, '.envrc'));
    });

    it('the hook printed nothing but envd messages', () => {
      for (const line of t.screen().split('\n')) {
        if (/error|exception|not found|unknown|undefined variable/i.test(line)) expect(line).toBe('');
      }
    });
  });
}

for (const shell of MORE_SHELLS) {
  describe.runIf(tmuxOk && haveMoreShell(shell))(`${shell}: without a daemon (ENVD_NO_DAEMON=1)`, () => {
    it('enter loads, leave restores, a blocked file says how to approve it', async () => {
      const sb = new Sandbox({ daemon: false });
      let t: TmuxShell | undefined;
      try {
        const out = sb.mkdir('out');
        const A = sb.mkdir('A');
        const C = sb.mkdir('C');
        sb.write('A/.envrc', 'export A_VAR=a\n');
        sb.write('C/.envrc', 'export C_VAR=c\n');
        expect(sb.envd(['allow', A]).status).toBe(0);
        const hook = sb.envd(['hook', shell]);
        t = await TmuxShell.start({ shell, sandbox: sb, hookFile: sb.write(`hook.${shell}`, hook.stdout), cwd: out });
        const base = await t.dump();
        expect((await t.run(`cd ${A}`)).A_VAR).toBe('a');
        // Every prompt inside the project asks (no generation to say nothing changed).
        expect((await t.run('')).A_VAR).toBe('a');
        expectEnv(await t.run(`cd ${out}`), base, {});
        expect((await t.run(`cd ${C}`)).C_VAR).toBeUndefined();
        expect(t.screen()).toContain(`${join(C, '.envrc')} is blocked. Run 'envd allow'`);
        expect(existsSync(join(sb.runtimeDir, 'daemon.pid'))).toBe(false);
      } finally {
        t?.close();
        sb.cleanup();
      }
    }, 60_000);
  });
}
