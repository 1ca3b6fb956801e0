import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookScript } from '../src/shells/files.js';
import { SHELLS } from '../src/shells/index.js';
import { Sandbox } from './helpers/sandbox.js';
import { haveStrace, processCalls, settle } from './helpers/strace.js';
import { haveMoreShell, MORE_SHELLS } from './helpers/more-shells.js';
import { TmuxShell, haveTmux } from './helpers/tmux.js';

/**
 * The elvish, tcsh and nushell hooks: strace on a real interactive shell (no process is
 * started on an idle prompt or a cd within the project), and the binary's path reaching
 * each hook exactly. (Each hook file's syntax check is in test/shell-files.test.ts.)
 * Every shell started here is closed in afterAll, tmux server, strace and shell alike
 * (TmuxShell.close), also when a test fails.
 */


for (const shell of MORE_SHELLS) {
  describe.runIf(haveStrace && haveTmux() && haveMoreShell(shell))(`${shell}: the prompt path starts no process`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let trace: string;
    let A: string;

    beforeAll(async () => {
      sb = new Sandbox();
      const out = sb.mkdir('out');
      A = sb.mkdir('A');
      sb.mkdir('A/sub/deeper');
      sb.write('A/.envrc', 'export A_VAR=a\n');
      expect(sb.envd(['allow', A]).status).toBe(0);
      const hookFile = sb.write(`hook.${shell}`, sb.envd(['hook', shell]).stdout);
      trace = sb.path('trace.txt');
      t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: out, wrap: ['strace', '-f', '-qq', '-e', 'trace=process', '-o', trace] });
      // Warm up. Under strace a cold first evaluation can outlast the daemon's budget
      // (then it is applied at a later prompt): prompt until it is there.
      let e = await t.run(`cd ${A}`);
      for (let i = 0; i < 100 && e.A_VAR !== 'a'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        e = await t.run('');
      }
      expect(e.A_VAR, t.screen()).toBe('a');
    }, 60_000);

    afterAll(() => {
      t?.close();
      sb?.cleanup();
    });

    it('idle prompts and cd within the project: no clone, fork or exec', async () => {
      await t.mark('m0');
      await settle();
      // The warm-up's last bookkeeping (the watch on the project set up under strace) may
      // still move the generation, which a prompt then rightly asks about: once it has
      // stood still for a second, one prompt takes up what it saw, then the count starts.
      const generation = join(sb.runtimeDir, 'generation');
      const look = (): string => { try { const st = statSync(generation); return `${st.ino}:${st.mtimeMs}`; } catch { return '-'; } };
      let last = look();
      for (let waited = 0, still = 0; still < 1000 && waited < 15_000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        const now = look();
        still = now === last ? still + 100 : 0;
        last = now;
      }
      t.type('');
      await t.mark('m1');
      await settle();
      const before = processCalls(trace).length;
      // One line at a time (nushell's line editor drops lines typed while it is busy);
      // the marks are builtin redirections in each shell.
      const steps = ['', '', '', 'cd sub/deeper', '', 'cd ..', `cd ${A}`, ''];
      for (const [i, line] of steps.entries()) {
        t.type(line);
        await t.mark(`s${i}`);
      }
      await settle();
      const calls = processCalls(trace).slice(before);
      expect(calls, calls.join('\n')).toEqual([]);
    });

    it('leaving and entering asks the daemon through nc (elvish: and env -0; tcsh: bin/envd\'s front door), never Node', async () => {
      await t.mark('n0');
      await settle();
      const before = processCalls(trace).length;
      for (const [i, line] of [`cd ${sb.path('out')}`, `cd ${A}`].entries()) {
        t.type(line);
        await t.mark(`n${i + 1}`);
      }
      await settle();
      const execs = processCalls(trace).slice(before).filter((l) => /execve\(/.test(l));
      expect(execs.length, execs.join('\n')).toBeGreaterThan(0);
      // tcsh: `envd export tcsh` is bin/envd (bash through env), which makes its FIFO pair
      // (mkfifo) and checks the runtime dir's modes (stat).
      const allowed = { elvish: /execve\("[^"]*\/(nc|env)"/, nushell: /execve\("[^"]*\/nc"/, tcsh: /execve\("[^"]*\/(envd|env|bash|mkfifo|stat)"/ }[shell];
      for (const l of execs) expect(l).toMatch(allowed);
      expect((await t.dump()).A_VAR).toBe('a');
    });
  });
}

describe('the envd binary path reaches each hook exactly', () => {
  const bin = "/tmp/it's a \"dir\" $HOME `x` \\n {y} (z)/envd";
  for (const shell of MORE_SHELLS) {
    it.runIf(haveMoreShell(shell))(`${shell}`, () => {
      const sb = new Sandbox();
      try {
        const file = sb.write(`hook.${shell}`, hookScript(SHELLS[shell], bin));
        const argv = shell === 'elvish'
          ? ['elvish', '-norc', '-c', `eval &on-end={|ns| print $ns[_envd_bin] } (slurp < '${file}')`]
          : shell === 'tcsh'
            ? ['tcsh', '-f', '-c', `source '${file}'; printf '%s' "$_envd_bin"`]
            : ['nu', '-n', '-c', `source '${file}'; print -n $env._envd.bin`];
        const r = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', env: sb.env });
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(bin);
      } finally {
        sb.cleanup();
      }
    });
  }
});
