import { describe, expect, it } from 'vitest';
import { Sandbox, haveShell, type Shell } from './helpers/sandbox.js';
import { daemonSandboxEachTest } from './helpers/daemon-sandbox.js';

// Leave plans: an answer that leaves the shell in a project carries what the daemon would
// answer on leaving it for a directory without an env file (src/daemon/leave-plan.ts
// leaveRecords), and the bash, zsh and fish hooks apply it themselves, without a request, while
// every name it depends on is still what that answer left. Anything else (a value changed
// by hand, another state, a config edit) asks the daemon, as before. `_envd_n` is each
// hook's request counter; `_envd_hook` stands for a prompt.

let sb: Sandbox;
const hookFor = daemonSandboxEachTest((s) => { sb = s; });

const PLAN_SHELLS: Shell[] = ['bash', 'zsh', 'fish'];

/** A project whose .envrc sets, changes and unsets, values not UTF-8 and with newlines included. */
function project(): string {
  const dir = sb.mkdir('p');
  sb.write('p/.envrc', [
    'export NEW_A="set by envd"',
    "export CHANGED=$'after\\nline two \\xff'",
    'unset GONE',
    'PATH_add bin',
  ].join('\n') + '\n', 0o644);
  sb.mkdir('p/bin');
  expect(sb.envd(['allow', dir]).status).toBe(0);
  sb.mkdir('out');
  return dir;
}

/** Every exported variable but the shell's own moving ones, sorted, as hex (one line). */
const DUMP = "env -0 | tr '\\0' '\\n' | grep -v -e '^_=' -e '^OLDPWD=' -e '^PWD=' -e '^SHLVL=' | LC_ALL=C sort | od -An -tx1 | tr -d ' \\n'";

/** The few lines each test needs, in each shell's syntax. */
function syntax(shell: Shell): {
  show: (label: string, cmd: string) => string; mark: string; asked: (label: string) => string;
  value: (name: string) => string; exportStr: (name: string, value: string) => string; start: string[]; prependPath: string; noPlan: string;
} {
  if (shell === 'fish') {
    return {
      show: (label, cmd) => `echo "${label}="(${cmd})`,
      mark: 'set n0 $_envd_n',
      asked: (label) => `echo "${label}="(math $_envd_n - $n0)`,
      value: (name) => `set -q ${name}; and echo "${name}=$${name}"; or echo "${name}=unset"`,
      exportStr: (name, value) => `set -gx ${name} ${value}`,
      start: ["set -gx CHANGED (printf 'before \\xfe\\x80')", 'set -gx GONE kept'],
      prependPath: 'set -gx PATH /my/own/bin $PATH',
      noPlan: 'set -g _envd_pn',
    };
  }
  return {
    show: (label, cmd) => `echo "${label}=$(${cmd})"`,
    mark: 'n0=$_envd_n',
    asked: (label) => `echo "${label}=$(( _envd_n - n0 ))"`,
    value: (name) => `echo "${name}=\${${name}-unset}"`,
    exportStr: (name, value) => `export ${name}=${value}`,
    start: ["export CHANGED=$'before \\xfe\\x80'", 'export GONE=kept', 'export PATH="$PATH"'],
    prependPath: 'export PATH="/my/own/bin:$PATH"',
    noPlan: '_envd_lv=()',
  };
}

for (const shell of PLAN_SHELLS) {
  describe.runIf(haveShell(shell))(`${shell}: leave plans`, () => {
    const x = syntax(shell);

    it('leaving applies the plan without a request, and leaves the environment exactly as the daemon would', () => {
      const dir = project();
      const out = sb.path('out');
      const r = sb.shell(shell, [
        ...x.start,
        `source ${hookFor(shell)}`,
        // A first visit, not counted: the first evaluation after an approval records what
        // it sourced (a write to the allowlist, a dependency), and zsh and fish compare
        // whole seconds: a second later it is older than any stamp.
        `cd ${dir}`, '_envd_hook', `cd ${out}`, '_envd_hook', 'sleep 1.1',
        x.show('before', DUMP),
        `cd ${dir}`, '_envd_hook',
        x.value('NEW_A'),
        x.mark,
        `cd ${out}`, '_envd_hook',
        x.asked('asked'),
        x.show('after', DUMP),
        // The same leave, asked of the daemon (no plan): the same environment.
        `cd ${dir}`, '_envd_hook', x.noPlan,
        x.mark,
        `cd ${out}`, '_envd_hook',
        x.asked('asked2'),
        x.show('daemon', DUMP),
      ].join('\n'));
      const seen = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(seen.NEW_A, r.stderr).toBe('set by envd');
      expect(seen.asked, r.stderr).toBe('0');
      expect(seen.asked2, r.stderr).toBe('1');
      expect(seen.before).toMatch(/^[0-9a-f]{100,}$/);
      expect(seen.after).toBe(seen.before);
      expect(seen.daemon).toBe(seen.before);
      // Every leave says so, once each (the first visit's too), as the daemon's answer does.
      expect(r.stderr.match(/^envd: unloading$/gm)).toHaveLength(3);
    });

    it('a value changed by hand inside: the daemon is asked, and the change survives leaving', () => {
      const dir = project();
      const out = sb.path('out');
      const r = sb.shell(shell, [
        ...x.start,
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook',
        x.exportStr('NEW_A', 'mine'),
        x.prependPath,
        x.mark,
        `cd ${out}`, '_envd_hook',
        x.asked('asked'),
        x.value('NEW_A'),
        x.show('PATH', 'printenv PATH'),
        x.value('DIRENV_DIR'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toContain('asked=1\n');
      expect(r.stdout).toContain('NEW_A=mine\n');
      expect(r.stdout).toMatch(/^PATH=\/my\/own\/bin:/m);
      expect(r.stdout).not.toContain(`${dir}/bin`);
      expect(r.stdout).toContain('DIRENV_DIR=unset\n');
    });

    it('another state than the plan\'s (DIRENV_DIFF replaced): the daemon is asked', () => {
      const dir = project();
      const out = sb.path('out');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook',
        x.exportStr('DIRENV_DIFF', '"$DIRENV_DIFF"x'),
        x.mark,
        `cd ${out}`, '_envd_hook',
        x.asked('asked'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toContain('asked=1\n');
    });

    it('a config edit after entering: the daemon is asked, and its answer follows the new config', () => {
      const dir = project();
      const out = sb.path('out');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook',
        // A new second, so the edit is newer than the hook's stamp in zsh's whole seconds too.
        'sleep 1.1',
        `printf '[global]\\nasync_budget = "8s"\\nlog_format = "custom: %%s"\\n' > ${sb.path('home/.config/envd/envd.toml')}`,
        x.mark,
        `cd ${out}`, '_envd_hook',
        x.asked('asked'),
        x.value('NEW_A'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toContain('asked=1\n');
      expect(r.stdout).toContain('NEW_A=unset\n');
      expect(r.stderr, r.stderr).toContain('custom: unloading');
    });

    it('leaving into another project is an entry, asked of the daemon', () => {
      const dir = project();
      const other = sb.mkdir('q');
      sb.write('q/.envrc', 'export IN_Q=1\n', 0o644);
      expect(sb.envd(['allow', other]).status).toBe(0);
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook',
        x.mark,
        `cd ${other}`, '_envd_hook',
        x.asked('asked'),
        x.value('NEW_A'),
        x.value('IN_Q'),
      ].join('\n'));
      expect(r.stdout, r.stderr).toContain('asked=1\n');
      expect(r.stdout).toContain('NEW_A=unset\nIN_Q=1\n');
    });
  });
}
