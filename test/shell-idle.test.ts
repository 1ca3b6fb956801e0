import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Sandbox, haveShell, type Shell } from './helpers/sandbox.js';
import { haveStrace, processCalls, settle } from './helpers/strace.js';
import { TmuxShell, haveTmux } from './helpers/tmux.js';

/**
 * "No process is started on an idle prompt", checked with strace on a real interactive
 * shell: every clone/fork/execve the shell makes is logged while it sits at prompts,
 * moves within a project, and (bash and zsh) leaves and re-enters one.
 */


for (const shell of ['bash', 'zsh', 'fish'] as Shell[]) {
  describe.runIf(haveStrace && haveTmux() && haveShell(shell))(`${shell}: the prompt path starts no process`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let trace: string;
    let A: string;
    let out: string;

    beforeAll(async () => {
      sb = new Sandbox();
      out = sb.mkdir('out');
      A = sb.mkdir('A');
      sb.mkdir('A/sub/deeper');
      sb.write('A/.envrc', 'export A_VAR=a\nPATH_add bin\n');
      expect(sb.envd(['allow', A]).status).toBe(0);
      const hookFile = sb.write(`hook.${shell}`, sb.envd(['hook', shell]).stdout);
      trace = sb.path('trace.txt');
      t = await TmuxShell.start({
        shell, sandbox: sb, hookFile, cwd: out,
        wrap: ['strace', '-f', '-qq', '-e', 'trace=process', '-o', trace],
      });
      // Warm up: the first request makes bash's FIFO pair (one mkfifo) and fish's pair and
      // watchdog (one bash, which runs mkfifo).
      expect((await t.run(`cd ${A}`)).A_VAR).toBe('a');
      expect((await t.run(`cd ${out}`)).A_VAR).toBeUndefined();
      expect((await t.run(`cd ${A}`)).A_VAR).toBe('a');
    }, 60_000);

    afterAll(() => {
      t?.close();
      sb?.cleanup();
    });

    it('idle prompts and cd within the project: no clone, fork or exec', async () => {
      await t.mark('m0');
      await settle();
      const before = processCalls(trace).length;
      for (let i = 0; i < 5; i++) t.type('');
      t.type('cd sub/deeper');
      t.type('');
      t.type('cd ..');
      t.type(`cd ${A}`);
      t.type('');
      await t.mark('m1');
      await settle();
      const calls = processCalls(trace).slice(before);
      expect(calls, calls.join('\n')).toEqual([]);
    });

    it('leaving and entering the project: answered by the daemon without starting a process', async () => {
      await t.mark('m2');
      await settle();
      const before = processCalls(trace).length;
      t.type(`cd ${out}`);
      t.type(`cd ${A}`);
      t.type(`cd ${out}`);
      await t.mark('m3');
      await settle();
      const calls = processCalls(trace).slice(before);
      expect(calls, calls.join('\n')).toEqual([]);
      // And the environment did change both ways.
      const e = await t.run(`cd ${A}`);
      expect(e.A_VAR).toBe('a');
      expect(e.PATH?.startsWith(`${join(A, 'bin')}:`)).toBe(true);
    });
  });
}
