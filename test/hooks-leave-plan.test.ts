import { describe, expect, it } from 'vitest';
import { Sandbox, haveShell, type Shell } from './helpers/sandbox.js';
import { daemonSandboxEachTest } from './helpers/daemon-sandbox.js';

// Leave plans: an answer that leaves the shell in a project carries what the daemon would
// answer on leaving it for a directory without an env file (src/daemon/hook-session.ts
// leaveRecords), and the bash and zsh hooks apply it themselves, without a request, while
// every name it depends on is still what that answer left. Anything else (a value changed
// by hand, another state, a config edit) asks the daemon, as before. `_envd_n` is each
// hook's request counter; `_envd_hook` stands for a prompt.

let sb: Sandbox;
const hookFor = daemonSandboxEachTest((s) => { sb = s; });

const PLAN_SHELLS: Shell[] = ['bash', 'zsh'];

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

/** Every exported variable but the shell's own moving ones, one NUL-ended entry each, as hex. */
function dumpEnv(shell: Shell): string {
  return shell === 'zsh'
    ? "print -rn -- ${(pj:\\0:)${(@f)\"$(env -0 | tr '\\0' '\\n' | grep -v -e '^_=' -e '^OLDPWD=' -e '^PWD=' -e '^SHLVL=' | LC_ALL=C sort)\"}} | od -An -tx1 | tr -d ' \\n'; echo"
    : "env -0 | tr '\\0' '\\n' | grep -v -e '^_=' -e '^OLDPWD=' -e '^PWD=' -e '^SHLVL=' | LC_ALL=C sort | od -An -tx1 | tr -d ' \\n'; echo";
}

const START = [
  "export CHANGED=$'before \\xfe\\x80'",
  'export GONE=kept',
  'export PATH="$PATH"',
];

for (const shell of PLAN_SHELLS) {
  describe.runIf(haveShell(shell))(`${shell}: leave plans`, () => {
    it('leaving applies the plan without a request, and leaves the environment exactly as the daemon would', () => {
      const dir = project();
      const out = sb.path('out');
      const r = sb.shell(shell, [
        ...START,
        `source ${hookFor(shell)}`,
        `cd ${out}`, '_envd_hook',
        `echo "before=$(${dumpEnv(shell)})"`,
        `cd ${dir}`, '_envd_hook',
        'echo "inside=${NEW_A-}"',
        'n0=$_envd_n',
        `cd ${out}`, '_envd_hook',
        'echo "asked=$(( _envd_n - n0 ))"',
        `echo "after=$(${dumpEnv(shell)})"`,
        // The same leave, asked of the daemon (no plan): the same environment.
        `cd ${dir}`, '_envd_hook', '_envd_lv=()',
        'n0=$_envd_n',
        `cd ${out}`, '_envd_hook',
        'echo "asked2=$(( _envd_n - n0 ))"',
        `echo "daemon=$(${dumpEnv(shell)})"`,
      ].join('\n'));
      const seen = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(seen.inside, r.stderr).toBe('set by envd');
      expect(seen.asked, r.stderr).toBe('0');
      expect(seen.asked2, r.stderr).toBe('1');
      expect(seen.after).toBe(seen.before);
      expect(seen.daemon).toBe(seen.before);
      // Both leaves say so, once each, as the daemon's answer does.
      expect(r.stderr.match(/^envd: unloading$/gm)).toHaveLength(2);
    });

    it('a value changed by hand inside: the daemon is asked, and the change survives leaving', () => {
      const dir = project();
      const out = sb.path('out');
      const r = sb.shell(shell, [
        ...START,
        `source ${hookFor(shell)}`,
        `cd ${dir}`, '_envd_hook',
        'export NEW_A=mine',
        'export PATH="/my/own/bin:$PATH"',
        'n0=$_envd_n',
        `cd ${out}`, '_envd_hook',
        'echo "asked=$(( _envd_n - n0 ))"',
        'echo "NEW_A=${NEW_A-unset}"',
        'echo "PATH=$PATH"',
        'echo "DIRENV_DIR=${DIRENV_DIR-unset}"',
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
        'export DIRENV_DIFF="$DIRENV_DIFF"x',
        'n0=$_envd_n',
        `cd ${out}`, '_envd_hook',
        'echo "asked=$(( _envd_n - n0 ))"',
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
        'n0=$_envd_n',
        `cd ${out}`, '_envd_hook',
        'echo "asked=$(( _envd_n - n0 ))"',
        'echo "NEW_A=${NEW_A-unset}"',
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
        'n0=$_envd_n',
        `cd ${other}`, '_envd_hook',
        'echo "asked=$(( _envd_n - n0 ))"',
        'echo "NEW_A=${NEW_A-unset} IN_Q=${IN_Q-unset}"',
      ].join('\n'));
      expect(r.stdout, r.stderr).toContain('asked=1\n');
      expect(r.stdout).toContain('NEW_A=unset IN_Q=1\n');
    });
  });
}
