import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';
import { haveMoreShell } from './helpers/more-shells.js';
import { TmuxShell, haveTmux } from './helpers/tmux.js';

/**
 * An edit made by the command before a prompt is seen at that very prompt, whatever the
 * daemon's watcher is doing (docs/architecture.md, "Edits at the next prompt: the stamp"),
 * without starting a process on an idle prompt: tcsh compares the env file found with its
 * stamp (`-M`); elvish and nushell, which cannot read a file's time cheaply, compare the
 * bytes of the answer's `f` files with those they had when the answer was applied.
 * Each script is one shell session in which a call of the hook stands for a prompt, run
 * right after the command before it.
 */

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function scene(shell: 'elvish' | 'tcsh' | 'nushell'): { sb: Sandbox; A: string; hookFile: string } {
  const sb = new Sandbox();
  sandboxes.push(sb);
  // A first evaluation slower than the budget (a loaded machine) would answer "still
  // loading": give it time, so that each call of the hook below is one whole prompt.
  sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "10s"\n');
  const A = sb.mkdir('A');
  sb.write('A/.envrc', 'export A_VAR=a\n', 0o644);
  expect(sb.envd(['allow', A]).status).toBe(0);
  expect(sb.envd(['daemon', 'start']).status).toBe(0);
  const hook = sb.envd(['hook', shell]);
  expect(hook.status, hook.stderr).toBe(0);
  return { sb, A, hookFile: sb.write(`hook.${shell}`, hook.stdout) };
}

/** The command that rewrites a file, in each shell. */
const WRITE = {
  elvish: (text: string, file: string) => `echo '${text}' > ${file}`,
  nushell: (text: string, file: string) => `'${text}\n' | save -f ${file}`,
};

for (const shell of ['elvish', 'nushell'] as const) describe.runIf(haveTmux() && haveMoreShell(shell))(`${shell}: an edit at the next prompt`, () => {
  // Interactive (tmux): the hook runs before each prompt, as a user has it.
  it('the .envrc edited (now blocked) is seen at the prompt right after, before the watcher', async () => {
    const { sb, A, hookFile } = scene(shell);
    const t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: A });
    try {
      expect((await t.run('')).A_VAR, t.screen()).toBe('a');
      // Settle: the watcher's events for what was just read, absorbed by a prompt.
      await new Promise((r) => setTimeout(r, 400));
      expect((await t.run('')).A_VAR).toBe('a');
      // The command edits the file; the prompt right after it sees the edit.
      const e = await t.run(WRITE[shell]('export A_VAR=a2', `${A}/.envrc`));
      expect(e.A_VAR, t.screen()).toBeUndefined();
      expect(t.screen()).toMatch(/A\/\.envrc is blocked\. Run 'envd allow'/);
    } finally {
      t.close();
    }
  }, 60_000);
});

describe.runIf(haveMoreShell('tcsh'))('tcsh: an edit at the next prompt', () => {
  it('the .envrc edited (now blocked) is seen at the prompt right after, before the watcher', () => {
    const { sb, A, hookFile } = scene('tcsh');
    const script = sb.write('fresh.tcsh', [
      `source ${hookFile}`,
      `cd ${A}`,
      'precmd',
      'if ( $?A_VAR ) echo "in=$A_VAR"',
      'sleep 0.4', 'precmd',
      `echo 'export A_VAR=a2' >! ${A}/.envrc`,
      'precmd',
      'if ( ! $?A_VAR ) echo edited=',
      'if ( $?A_VAR ) echo "edited=$A_VAR"',
    ].join('\n') + '\n');
    const r = sb.run('tcsh', ['-f', script], { cwd: A, timeoutMs: 60_000 });
    expect(r.stdout, r.stderr).toBe('in=a\nedited=\n');
    expect(r.stderr).toMatch(/A\/\.envrc is blocked\. Run 'envd allow'/);
  });
});
