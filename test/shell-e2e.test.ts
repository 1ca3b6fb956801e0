import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, haveShell, procState, type Shell } from './helpers/sandbox.js';
import { TmuxShell, haveTmux, type EnvMap, type TmuxShellOptions } from './helpers/tmux.js';
import { BUDGET } from './helpers/daemon-sandbox.js';

/**
 * The prompt hooks in real interactive bash, zsh and fish (tmux), against a real daemon,
 * through one scenario list run in every shell. After each step the test reads the
 * shell's exact exported environment (`env -0`, written by the step's next command line).
 */

const PRESENT = Symbol('present');
type Want = string | null | typeof PRESENT;
/** Names a shell changes by itself between prompts. */
const VOLATILE = new Set(['PWD', 'OLDPWD', '_', 'SHLVL']);

function expectEnv(got: EnvMap, base: EnvMap, changes: Record<string, Want>): void {
  const own = (o: object, n: string): boolean => Object.prototype.hasOwnProperty.call(o, n);
  const names = new Set([...Object.keys(got), ...Object.keys(base), ...Object.keys(changes)]);
  for (const n of names) {
    if (VOLATILE.has(n) && !own(changes, n)) continue;
    const want: Want = own(changes, n) ? (changes[n] as Want) : (own(base, n) ? base[n] ?? null : null);
    const have = own(got, n) ? got[n] ?? null : null;
    if (want === PRESENT) expect(have, `${n} should be set`).not.toBeNull();
    else expect(have, n).toBe(want);
  }
}

/** direnv's state variables (envd's own), and the names envd's earlier releases used (never set now). */
const STATE = ['DIRENV_DIR', 'DIRENV_FILE', 'DIRENV_DIFF', 'DIRENV_WATCHES', 'ENVD_DIR', 'ENVD_FILE', 'ENVD_DIFF', 'ENVD_WATCHES'];
const none = (): Record<string, Want> => Object.fromEntries(STATE.map((n) => [n, null]));
const loaded = (dir: string): Record<string, Want> => ({
  ...none(), DIRENV_DIR: `-${dir}`, DIRENV_FILE: join(dir, '.envrc'), DIRENV_DIFF: PRESENT, DIRENV_WATCHES: PRESENT,
});
/**
 * Blocked/denied: nothing applied, but the state is recorded as direnv records it (the
 * directory, the file, an empty diff, the watches), so it is not asked about every prompt.
 */
const refused = (dir: string): Record<string, Want> => loaded(dir);

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function daemonPid(sb: Sandbox): number {
  return Number(readFileSync(join(sb.runtimeDir, 'daemon.pid'), 'utf8').trim());
}

function readGeneration(sb: Sandbox): string {
  try { return readFileSync(join(sb.runtimeDir, 'generation'), 'utf8').trim(); } catch { return ''; }
}


async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const tmuxOk = haveTmux();

/** An interactive `shell` in `cwd` with envd's hook (as `envd hook` prints it), and its starting environment. */
async function openShell(sb: Sandbox, shell: Shell, cwd: string, extra: Partial<TmuxShellOptions> = {}): Promise<{ t: TmuxShell; base: EnvMap }> {
  const hook = sb.envd(['hook', shell]);
  expect(hook.status).toBe(0);
  const hookFile = sb.write(`hook.${shell}`, hook.stdout);
  const t = await TmuxShell.start({ ...extra, shell, sandbox: sb, hookFile, cwd });
  return { t, base: await t.dump() };
}

for (const shell of ['bash', 'zsh', 'fish'] as Shell[]) {
  describe.runIf(tmuxOk && haveShell(shell))(`${shell}: interactive, real daemon`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let base: EnvMap;
    let A: string; let B: string; let C: string; let S: string; let out: string;
    const P = (): string => base.PATH ?? '';

    beforeAll(async () => {
      sb = new Sandbox();
      out = sb.mkdir('out');
      A = sb.mkdir('A');
      sb.mkdir('A/sub/deeper');
      B = sb.mkdir('B');
      C = sb.mkdir('C');
      S = sb.mkdir('S');
      sb.write('A/.envrc', 'export A_VAR=a\nPATH_add bin\n');
      sb.write('B/.envrc', 'export B_VAR="b $(echo value)"\n');
      sb.write('C/.envrc', 'export C_VAR=c\n');
      sb.write('S/.envrc', 'sleep 2\nexport S_VAR=s\n');
      for (const d of [A, B, S]) expect(sb.envd(['allow', d]).status).toBe(0);
      ({ t, base } = await openShell(sb, shell, out, {
        sourceTwice: true,
        // bash 5.1+: PROMPT_COMMAND as an array, with a command of the user's own.
        before: shell === 'bash' ? 'PROMPT_COMMAND=(__mine); __mine() { export MINE_RAN=yes; }' : '',
      }));
    }, 60_000);

    afterAll(() => {
      t?.close();
      sb?.cleanup();
    });

    it('starts with nothing loaded, and the hook registered once', async () => {
      expectEnv(base, base, none());
      if (shell === 'bash') expect(base.MINE_RAN).toBe('yes');
    });

    it('enter: the project is loaded', async () => {
      const e = await t.run(`cd ${A}`);
      expectEnv(e, base, { ...loaded(A), A_VAR: 'a', PATH: `${join(A, 'bin')}:${P()}` });
      expect(t.screen()).toContain('envd: loading');
    });

    it('subdirectory: unchanged', async () => {
      const e = await t.run('cd sub/deeper');
      expectEnv(e, base, { ...loaded(A), A_VAR: 'a', PATH: `${join(A, 'bin')}:${P()}` });
    });

    it('leave: everything restored exactly', async () => {
      const e = await t.run(`cd ${out}`);
      expectEnv(e, base, none());
    });

    it('switch projects: one unloaded, the other loaded', async () => {
      await t.run(`cd ${A}`);
      const e = await t.run(`cd ${B}`);
      expectEnv(e, base, { ...loaded(B), B_VAR: 'b value' });
    });

    it('keeps $? for the next command line', async () => {
      expect(await t.status(`cd ${A}; false`)).toBe(1);
      expect(await t.status(`cd ${B}; true`)).toBe(0);
    });

    it('edit: blocked until allowed again; then loaded at the next prompt', async () => {
      sb.write('A/.envrc', 'export A_VAR=a2\nPATH_add bin\n');
      const blocked = await t.run(`cd ${A}`);
      expectEnv(blocked, base, refused(A));
      expect(t.screen()).toMatch(/is blocked\. Run 'envd allow/);
      expect(sb.envd(['allow', A]).status).toBe(0);
      const e = await t.run('');
      expectEnv(e, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
    });

    it('deny: unloaded at the next prompt', async () => {
      expect(sb.envd(['deny', A]).status).toBe(0);
      const e = await t.run('');
      expectEnv(e, base, refused(A));
      expect(sb.envd(['allow', A]).status).toBe(0);
      const again = await t.run('');
      expectEnv(again, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
    });

    it('a blocked file: nothing loaded, and the message names the command', async () => {
      const e = await t.run(`cd ${C}`);
      expectEnv(e, base, refused(C));
      expect(t.screen()).toContain(`${join(C, '.envrc')} is blocked. Run 'envd allow'`);
      // Asked once: the next prompts here do not ask (or print) again.
      const before = count(t.screen(), 'is blocked');
      await t.run('');
      await t.run('');
      expect(count(t.screen(), 'is blocked')).toBe(before);
    });

    it('on a terminal errors are red, as direnv shows them (log_error too); with NO_COLOR nothing is coloured', async () => {
      const lineWith = (text: string): string => t.screen(true).split('\n').filter((l) => l.includes(text)).pop() ?? '';
      const RED = '\u001b[31m';
      const red = sb.mkdir(`red-${shell}`);
      sb.write(`red-${shell}/.envrc`, 'log_error "careful: red-line"\nlog_status "plain-line"\nexport RED_VAR=1\n');
      await t.run(`cd ${red}`);
      expect(lineWith('red/.envrc is blocked'.replace('red', `red-${shell}`))).toContain(RED);
      expect(sb.envd(['allow', red]).status).toBe(0);
      const e = await t.run('');
      expect(e.RED_VAR).toBe('1');
      expect(lineWith('careful: red-line')).toContain(RED);
      expect(lineWith('plain-line')).not.toContain(RED);
      expect(lineWith('envd: loading')).not.toContain(RED);

      await t.run(shell === 'fish' ? `set -gx NO_COLOR 1; cd ${out}` : `export NO_COLOR=1; cd ${out}`);
      sb.write(`red-${shell}/.envrc`, 'log_error "careful: no-colour-line"\nexport RED_VAR=2\n');
      await t.run(`cd ${red}`);
      expect(lineWith(`red-${shell}/.envrc is blocked`)).not.toContain(RED);
      expect(sb.envd(['allow', red]).status).toBe(0);
      expect((await t.run('')).RED_VAR).toBe('2');
      expect(lineWith('careful: no-colour-line')).not.toContain('\u001b[');
      await t.run(shell === 'fish' ? `set -e NO_COLOR; cd ${out}` : `unset NO_COLOR; cd ${out}`);
    });

    it('a slow file: the prompt is not held; the result is applied at a later prompt', async () => {
      const gen = readGeneration(sb);
      const started = Date.now();
      const e = await t.run(`cd ${S}`);
      expect(Date.now() - started).toBeLessThan(1800);
      expect(e.S_VAR).toBeUndefined();
      await until(() => readGeneration(sb) !== gen, 10_000);
      const later = await t.run('');
      expectEnv(later, base, { ...loaded(S), S_VAR: 's' });
    });

    it('a child shell inside a project starts consistent and reverts correctly', async () => {
      const parent = await t.run(`cd ${A}`);
      expectEnv(parent, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
      t.type(t.shellArgv().map((a) => `'${a}'`).join(' '));
      const child = await t.dump();
      expectEnv(child, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
      const left = await t.run(`cd ${out}`);
      expectEnv(left, base, none());
      t.type('exit');
      const back = await t.dump();
      expectEnv(back, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
    });

    it('a daemon restart: the next prompt is a no-op, leaving still reverts exactly', async () => {
      const before = await t.dump();
      expect(sb.envd(['daemon', 'restart']).status).toBe(0);
      const after = await t.run('');
      expectEnv(after, before, {});
      const left = await t.run(`cd ${out}`);
      expectEnv(left, base, none());
    });

    it('daemon killed mid-session: the next prompt works (and the daemon is back)', async () => {
      await t.run(`cd ${A}`);
      const pid = daemonPid(sb);
      process.kill(pid, 'SIGKILL');
      // Killed, not being killed: gone (or a zombie nobody reaped) before the next prompt.
      await until(() => { const st = procState(pid); return st === null || st === 'Z'; }, 5000);
      const left = await t.run(`cd ${out}`);
      expectEnv(left, base, none());
      const e = await t.run(`cd ${A}`);
      expectEnv(e, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
      // The CLI the hook fell back to answered in-process and then started a daemon without
      // waiting for it (docs/architecture.md, Start-up): back soon, however loaded the machine.
      await until(() => { try { return daemonPid(sb) !== pid; } catch { return false; } }, 15_000);
      expect(t.screen(), t.screen()).not.toContain('did not answer');
    });

    it('daemon frozen: a bounded wait, nothing changed, one warning; works again once it runs', async () => {
      // In A by a daemon's answer (an earlier test may have left the shell there by the
      // CLI's, which carries no leave plan).
      await t.run(`cd ${out}`);
      await t.run(`cd ${A}`);
      const inA = await t.dump();
      // Counted from here (on a loaded machine the steps above may have waited too long once).
      const before = count(t.screen(), 'did not answer');
      const pid = daemonPid(sb);
      process.kill(pid, 'SIGSTOP');
      await until(() => procState(pid) === 'T', 5000);
      try {
        let started = Date.now();
        const e1 = await t.run(`cd ${B}`);
        // ~0.1 s in bash and zsh, the daemon's budget + 0.3 s in fish; generous for slow CI.
        expect(Date.now() - started).toBeLessThan(3000);
        expectEnv(e1, inA, {});
        started = Date.now();
        const e2 = await t.run(`cd ${out}`);
        expect(Date.now() - started).toBeLessThan(3000);
        // Leaving: the hook applies the leave plan A's answer carried, which is what the
        // daemon would answer (test/hooks-leave-plan.test.ts), without asking it.
        expectEnv(e2, base, none());
        expect(count(t.screen(), 'did not answer') - before).toBe(1);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Let it read what queued up while it was stopped (until it has, bash's hook sees its
      // last request still unread and gives up at once, without waiting): wait until it
      // answers again, however loaded the machine is, then a moment for the queue.
      await until(() => sb.envd(['daemon', 'status', '--json']).stdout.includes('"responding": true'), 15_000);
      await new Promise((r) => setTimeout(r, 300));
      const e = await t.run('');
      expectEnv(e, base, none());
      const back = await t.run(`cd ${A}`);
      expectEnv(back, base, { ...loaded(A), A_VAR: 'a2', PATH: `${join(A, 'bin')}:${P()}` });
      expect(count(t.screen(), 'did not answer') - before).toBe(1);
    });

    it('the hook never printed anything but envd messages', () => {
      for (const line of t.screen().split('\n')) {
        if (line.includes('_envd') || /command not found|unknown command|syntax error|bad substitution/.test(line)) {
          throw new Error(`unexpected output: ${line}`);
        }
      }
    });

    it('a value over 128 KiB is refused with a warning, and commands still run', async () => {
      writeFileSync(join(B, '.envrc'), 'export SMALL=ok\nexport BIG="$(head -c 200000 /dev/zero | tr \'\\0\' x)"\n');
      expect(sb.envd(['allow', B]).status).toBe(0);
      const e = await t.run(`cd ${B}`);
      expect(e.BIG).toBeUndefined();
      expect(e.SMALL).toBe('ok');
      expect(t.screen()).toMatch(/BIG.*(128 KiB|bytes)/);
    });

    it('values with quotes, newlines and $(…) arrive exactly', async () => {
      const weird = "it's \"quoted\" $(touch nope) `x` \\ %self\nsecond line -n";
      writeFileSync(join(B, '.envrc'), `export B_VAR=${`'${weird.replace(/'/g, "'\\''")}'`}\n`);
      expect(sb.envd(['allow', B]).status).toBe(0);
      const e = await t.run(`cd ${B}`);
      expectEnv(e, base, { ...loaded(B), B_VAR: weird });
    });

    it('names that are JavaScript object internals (__proto__, constructor, toString) load and revert exactly', async () => {
      await t.run(`cd ${out}`);
      const mine = await t.run(shell === 'fish' ? 'set -gx constructor mine; set -gx valueOf v0' : 'export constructor=mine valueOf=v0');
      expect(mine['constructor']).toBe('mine');
      writeFileSync(join(C, '.envrc'), 'export __proto__=p constructor=c toString=t\nunset valueOf\n');
      expect(sb.envd(['allow', C]).status).toBe(0);
      const e = await t.run(`cd ${C}`);
      // Computed keys: a literal `__proto__:` would set the object's prototype instead.
      expectEnv(e, mine, { ...loaded(C), ['__proto__']: 'p', ['constructor']: 'c', ['toString']: 't', ['valueOf']: null });
      expectEnv(await t.run(`cd ${out}`), mine, none());
    });

    // zsh reads an answer 8 KiB first, then 64 KiB at a time, and sends a request of 100 KB
    // or more in two writes (its header, then the rest once the daemon has acknowledged it).
    it('an answer of 300 KB and a request over 100 KB (a big variable of the shell\'s own) arrive exactly', async () => {
      const mine = await t.run(shell === 'fish' ? 'set -gx MINE_BIG (string repeat -n 120000 m)' : 'export MINE_BIG="$(head -c 120000 /dev/zero | tr \'\\0\' m)"');
      expect(mine.MINE_BIG).toBe('m'.repeat(120_000));
      writeFileSync(join(C, '.envrc'), ['a', 'b', 'c'].map((c) => `export BIG_${c.toUpperCase()}="$(head -c 100000 /dev/zero | tr '\\0' ${c})"\n`).join(''));
      expect(sb.envd(['allow', C]).status).toBe(0);
      const e = await t.run(`cd ${C}`);
      expectEnv(e, mine, { ...loaded(C), BIG_A: 'a'.repeat(100_000), BIG_B: 'b'.repeat(100_000), BIG_C: 'c'.repeat(100_000) });
      expectEnv(await t.run(`cd ${out}`), mine, none());
    });
  });
}

for (const shell of ['bash', 'zsh', 'fish'] as Shell[]) {
  describe.runIf(tmuxOk && haveShell(shell))(`${shell}: no daemon (ENVD_NO_DAEMON=1), everything through the CLI`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let base: EnvMap;
    let A: string; let out: string;

    beforeAll(async () => {
      sb = new Sandbox({ daemon: false });
      out = sb.mkdir('out');
      A = sb.mkdir('A');
      sb.write('A/.envrc', 'export A_VAR=a\n');
      ({ t, base } = await openShell(sb, shell, out));
    }, 60_000);

    afterAll(() => {
      t?.close();
      sb?.cleanup();
    });

    it('blocked (in red: the CLI writes to a terminal), then allowed at the next prompt, then left; no daemon was started', async () => {
      expectEnv(await t.run(`cd ${A}`), base, refused(A));
      const blockedLine = t.screen(true).split('\n').filter((l) => l.includes('is blocked')).pop() ?? '';
      expect(blockedLine).toContain('\u001b[31m');
      expect(sb.envd(['allow', A]).status).toBe(0);
      expectEnv(await t.run(''), base, { ...loaded(A), A_VAR: 'a' });
      expectEnv(await t.run(`cd ${out}`), base, none());
      expect(readGeneration(sb)).toBe('');
    });
  });
}

for (const shell of ['bash', 'zsh', 'fish'] as Shell[]) {
  describe.runIf(tmuxOk && haveShell(shell))(`${shell}: file watching off (ENVD_NO_WATCH=1): an edit is still noticed`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let base: EnvMap;
    let A: string; let out: string;

    beforeAll(async () => {
      sb = new Sandbox();
      out = sb.mkdir('out');
      A = sb.mkdir('A');
      sb.write('A/v.txt', 'one');
      sb.write('A/.envrc', 'watch_file v.txt\nexport A_VAR="$(cat v.txt)"\n');
      // The edit is re-evaluated at the next prompt: on a machine busy with other tests that
      // can take longer than the default budget (then it applies one prompt later).
      sb.write('home/.config/envd/envd.toml', BUDGET);
      // First: any other envd command would start a daemon with watching on.
      const start = sb.envd(['daemon', 'start'], { env: { ENVD_NO_WATCH: '1' } });
      expect(start.status, start.stderr).toBe(0);
      expect(sb.envd(['allow', A]).status).toBe(0);
      ({ t, base } = await openShell(sb, shell, out));
    }, 60_000);

    afterAll(() => {
      t?.close();
      sb?.cleanup();
    });

    it('an edit to a watched file is noticed at the next prompt, with no event to announce it', async () => {
      expect(readGeneration(sb)).toMatch(/^\d+\+poll$/);
      expectEnv(await t.run(`cd ${A}`), base, { ...loaded(A), A_VAR: 'one' });
      await new Promise((r) => setTimeout(r, 300)); // the first load's bookkeeping settles
      const gen = readGeneration(sb);
      writeFileSync(join(A, 'v.txt'), 'two');
      await new Promise((r) => setTimeout(r, 300));
      // No event announces the edit (nothing watches): the generation has not moved ...
      expect(readGeneration(sb)).toBe(gen);
      // ... and the next prompt asks anyway, because the file says `+poll`.
      expectEnv(await t.run(''), base, { ...loaded(A), A_VAR: 'two' });
      expectEnv(await t.run(`cd ${out}`), base, none());
    });
  });
}
