/**
 * How each tool's hook is installed in elvish, tcsh and nushell for the benchmark, as its
 * documentation says, and which tool cannot be measured in which of them (and why).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MoreShell } from './emit-more.js';
import type { Sandbox } from './sandbox.js';
import type { ToolName } from './tool-names.js';

export const MORE_SHELLS: readonly MoreShell[] = ['elvish', 'tcsh', 'nushell'];

export function isMoreShell(s: string): s is MoreShell {
  return (MORE_SHELLS as readonly string[]).includes(s);
}

/** Why a tool has no number in a shell, or null when it is measured. */
export function notMeasured(tool: ToolName, shell: MoreShell): string | null {
  if (tool === 'mise') return `n/a: not measured in ${shell}`;
  if (tool === 'direnv' && shell === 'elvish') return "n/a: direnv 2.32's elvish hook fails on elvish 0.19 (\"superfluous arguments\")";
  return null;
}

function writeOnce(box: Sandbox, path: string, text: string): void {
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) box.write(path, text);
}

function tcshQ(s: string): string {
  if (/['\n!]/.test(s)) throw new Error(`bench: cannot quote ${JSON.stringify(s)} for tcsh`);
  return `'${s}'`;
}

/**
 * The rc file for one of these shells (written once). elvish: the module `benchrc` whose
 * `prompt` is what the shell runs before a prompt (envd's hook saved as the `envd` module,
 * the documented alternative to eval, since only a module's functions can be called from a
 * script). tcsh: `~/.tcshrc` with the hook line (its hook is the `precmd` alias). nushell:
 * a config file that registers a `pre_prompt` hook (envd: its hook saved once and sourced;
 * direnv: the hook from direnv's documentation, `export json` into `load-env`).
 */
export function moreRcFile(tool: ToolName, bin: string, box: Sandbox, shell: MoreShell): string {
  const cfg = join(box.home, '.config');
  switch (shell) {
    case 'elvish': {
      if (tool === 'envd') {
        const hook = spawnSync(bin, ['hook', 'elvish'], { encoding: 'utf8', env: box.env });
        if (hook.status !== 0) throw new Error(`envd hook elvish failed: ${hook.stderr}`);
        writeOnce(box, join(cfg, 'elvish', 'lib', 'envd.elv'), hook.stdout);
      }
      const path = join(cfg, 'elvish', 'lib', 'benchrc.elv');
      writeOnce(box, path, tool === 'envd' ? 'use envd\nfn prompt {|| envd:_envd_hook }\n' : 'fn prompt {|| fail "no elvish hook for this tool" }\n');
      return path;
    }
    case 'tcsh': {
      const path = join(box.home, '.tcshrc');
      writeOnce(box, path, `eval "\`${tcshQ(bin)} hook tcsh\`"\n`);
      return path;
    }
    case 'nushell': {
      const path = join(cfg, 'nushell', 'config.nu');
      if (tool === 'envd') {
        const hook = spawnSync(bin, ['hook', 'nushell'], { encoding: 'utf8', env: box.env });
        if (hook.status !== 0) throw new Error(`envd hook nushell failed: ${hook.stderr}`);
        const saved = join(cfg, 'nushell', 'envd.nu');
        writeOnce(box, saved, hook.stdout);
        writeOnce(box, path, `source '${saved}'\n`);
      } else {
        writeOnce(box, path, [
          '$env.config.hooks.pre_prompt = ($env.config.hooks.pre_prompt? | default [] | append {||',
          `  ^'${bin}' export json | from json | default {} | load-env`,
          '})',
        ].join('\n') + '\n');
      }
      return path;
    }
  }
}

/** The command line that runs a compiled plan after the rc file. */
export function moreShellArgv(shell: MoreShell, rcFile: string, scriptFile: string): string[] {
  switch (shell) {
    // The script starts with `use benchrc`, found in the sandbox's ~/.config/elvish/lib.
    case 'elvish': return ['elvish', '-norc', scriptFile];
    case 'tcsh': return ['tcsh', '-f', '-c', `source ${tcshQ(rcFile)}; source ${tcshQ(scriptFile)}`];
    case 'nushell': return ['nu', '-n', '-c', `source '${rcFile}'; source '${scriptFile}'`];
  }
}
