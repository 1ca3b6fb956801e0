import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox, SHELLS, haveShell, type Shell } from './helpers/sandbox.js';
import { daemonSandboxEachTest } from './helpers/daemon-sandbox.js';

// Issue 13, "Speed that survives the semantics": an answer that already carried the
// result of the evaluation it waited for is the last request for it. The evaluation's
// end moves the daemon's generation; the answer carries the number after that move, so
// the prompt that follows (zsh and fish ask after a `cd` and again at the prompt) does not
// ask a second time. `_envd_n` is each hook's request counter; `_envd_hook` stands for a
// prompt (and for zsh's chpwd and fish's PWD handler, which call it).

let sb: Sandbox;
const hookFor = daemonSandboxEachTest((s) => { sb = s; });

/** `echo LABEL=$NAME` in the shell's syntax (unset shows empty). */
function show(shell: Shell, label: string, name: string): string {
  return shell === 'fish' ? `echo "${label}=$${name}"` : `echo "${label}=\${${name}-}"`;
}

/** Hooks that leave a project by the plan their last answer carried, without a request. */
const LEAVE_PLANS: ReadonlySet<Shell> = new Set<Shell>(['bash', 'zsh', 'fish']);

const COUNTING = 'n=$(cat "$ENVD_TEST_CTR" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$ENVD_TEST_CTR"; export RUNS=$n\n';

for (const shell of SHELLS) {
  describe.runIf(haveShell(shell))(`${shell}: one request per entry`, () => {
    it('the prompts after an answer that carried the fresh result ask nothing more', () => {
      const dir = sb.mkdir('p');
      sb.write('p/.envrc', COUNTING, 0o644);
      expect(sb.envd(['allow', dir]).status).toBe(0);
      // Not in a directory the daemon watches for new env files (the sandbox root, a parent
      // of the shell's cwd), so writing it moves nothing.
      sb.mkdir('ctr');
      const ctr = sb.path('ctr/n');
      const r = sb.shell(shell, [
        `source ${hookFor(shell)}`,
        // A first visit, not counted: the first evaluation after an approval also records
        // what it sourced (a write to the allowlist), and the daemon starts its waiting bashes.
        `cd ${dir}`, '_envd_hook', `cd ${sb.root}`, '_envd_hook', 'sleep 0.5', '_envd_hook',
        show(shell, 'n0', '_envd_n'),
        `cd ${dir}`, '_envd_hook', show(shell, 'in1', 'RUNS'), show(shell, 'n1', '_envd_n'),
        '_envd_hook', '_envd_hook', show(shell, 'n2', '_envd_n'),
        `cd ${sb.root}`, '_envd_hook', show(shell, 'n3', '_envd_n'),
        `cd ${dir}`, '_envd_hook', show(shell, 'in2', 'RUNS'), show(shell, 'n4', '_envd_n'),
        '_envd_hook', '_envd_hook', show(shell, 'n5', '_envd_n'),
      ].join('\n'), { env: { ENVD_TEST_CTR: ctr } });
      const seen = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
      expect(seen.in1, r.stdout + r.stderr).toBe('2');
      expect(seen.in2, r.stdout + r.stderr).toBe('3');
      const n0 = Number(seen.n0);
      // One request per cd (the entry, the leave, the re-entry); none at the prompts after.
      // A hook with leave plans asks nothing on leaving (test/hooks-leave-plan.test.ts).
      const leave = LEAVE_PLANS.has(shell) ? 0 : 1;
      expect([seen.n1, seen.n2, seen.n3, seen.n4, seen.n5].map(Number), r.stderr).toEqual([n0 + 1, n0 + 1, n0 + 1 + leave, n0 + 2 + leave, n0 + 2 + leave]);
      expect(readFileSync(ctr, 'utf8')).toBe('3\n');
    });
  });
}

describe('the first evaluation after an approval', () => {
  it('records what the file sourced in the allowlist, keeping its modification time (the hooks take a newer one for an approval)', async () => {
    const dir = sb.mkdir('q');
    sb.write('q/.envrc', 'source_env_if_exists ./extra.sh\nexport Q=1\n', 0o644);
    sb.write('q/extra.sh', 'export EXTRA=1\n', 0o644);
    expect(sb.envd(['allow', dir]).status).toBe(0);
    const file = join(sb.home, '.local/share/envd/allowlist.json');
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    // Another second, so a write that kept the time it made would show.
    await new Promise((r) => setTimeout(r, 1100));
    const r = sb.envd(['export', 'json'], { cwd: dir });
    expect(r.stdout).toContain('EXTRA');
    // Recorded after the answer: wait for it.
    const end = Date.now() + 10_000;
    while (readFileSync(file, 'utf8') === text && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    expect(readFileSync(file, 'utf8')).toContain('extra.sh');
    // As it was (to the precision a time in seconds keeps): not the second just begun.
    expect(Math.abs(statSync(file).mtimeMs - before.mtimeMs)).toBeLessThan(1);
  });
});
