import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mustWhich } from './helpers/sandbox.js';
import { haveMoreShell, MORE_SHELLS } from './helpers/more-shells.js';
import { hostileScene, LISTENER, tree } from './helpers/hostile-runtime.js';
import { TmuxShell, haveTmux, type EnvMap } from './helpers/tmux.js';
import { ATTACKER, mustAccount } from './helpers/users.js';

/**
 * The elvish, tcsh and nushell hooks check the runtime dir before any use of it, as the
 * bash, zsh and fish hooks do (test/hooks-runtime-dir.test.ts; docs/security.md): a dir
 * that is group-writable, owned by another user, or in a parent others can rename it in
 * is refused with one line, and nothing is asked of it: no byte to its socket or FIFO,
 * nothing read from it that changes the shell, nothing created in it. The project still
 * loads (in-process). Runs as root and as a normal user (scripts/test-as-user.sh); the
 * dir owned by another user needs root to make.
 */

const NODE = mustWhich('node');

function startListener(script: string, dir: string, log: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(NODE, [script, dir, log], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the listener did not start: ${err}`)), 15_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the listener exited (${String(code)}): ${err}`));
    });
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) {
    try { cleanups.pop()?.(); } catch { /* best effort */ }
  }
});

const isRoot = process.getuid?.() === 0;
const KINDS = ['mode 0770 (group-writable)', 'mode 0777 (world-writable)', 'owned by another user', 'non-sticky parent writable by all'] as const;

for (const shell of MORE_SHELLS) {
  describe.runIf(haveTmux() && haveMoreShell(shell))(`${shell}: a runtime dir that is not this user's own 0700 dir`, () => {
    for (const kind of KINDS) {
      it.runIf(kind !== 'owned by another user' || isRoot)(`${kind}: one line says so, nothing is asked of it, the project loads in-process`, async () => {
        const { sb, A, out, hookFile } = hostileScene(shell, (fn) => cleanups.push(fn));

        const run = sb.path('tmp', `envd-${process.getuid?.() ?? 0}`);
        mkdirSync(run);
        // What a daemon would have there, and a listener that is not one.
        const mk = spawnSync('mkfifo', ['-m', '666', join(run, 'hook.fifo')]);
        expect(mk.status, mk.stderr.toString()).toBe(0);
        mkdirSync(join(run, 'sh'));
        writeFileSync(join(run, 'generation'), '7\n');
        const log = sb.path('got');
        const listener = await startListener(sb.write('listen.mjs', LISTENER), run, log, { PATH: sb.env.PATH ?? '/usr/bin:/bin' });
        cleanups.push(() => listener.kill('SIGKILL'));
        writeFileSync(join(run, 'hook.pid'), `${String(listener.pid)}\n`);
        chmodSync(run, kind === 'mode 0770 (group-writable)' ? 0o770 : kind === 'mode 0777 (world-writable)' ? 0o777 : 0o700);
        if (kind === 'owned by another user') {
          const other = mustAccount(ATTACKER);
          for (const p of [run, join(run, 'sh'), join(run, 'hook.fifo'), join(run, 'generation'), join(run, 'hook.pid')]) chownSync(p, other.uid, other.gid);
        }
        // Others could rename a private dir away there and put theirs in its place.
        if (kind === 'non-sticky parent writable by all') chmodSync(sb.path('tmp'), 0o777);
        const before = tree(run);

        const t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: out });
        cleanups.push(() => t.close());
        const inside = await t.run(`cd ${A}`);
        const idle = await t.run('');
        const outside = await t.run(`cd ${out}`);
        const again = await t.run(`cd ${A}`);
        const screen = t.screen();

        for (const e of [inside, idle, outside, again] as EnvMap[]) {
          expect(e.EVIL, screen).toBeUndefined();
          expect(e.PATH ?? '').not.toContain('evilbin');
        }
        for (const e of [inside, idle, again]) expect(e.A_VAR, screen).toBe('a');
        expect(outside.A_VAR).toBeUndefined();
        expect(readFileSync(log).toString('latin1')).toBe('');
        expect(tree(run)).toEqual(before);
        // One line for the whole session, from the hook (the CLI is not asked to warn again).
        expect(screen.split('envd: runtime dir ').length - 1, screen).toBe(1);
        expect(screen.split('not using it: this shell works without the daemon').length - 1, screen).toBe(1);
      }, 90_000);
    }
  });
}
