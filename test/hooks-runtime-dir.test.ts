import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, haveShell, mustWhich, parseJsonExport, SHELLS, type Shell } from './helpers/sandbox.js';
import { hostileScene, LISTENER, tree, type Scene } from './helpers/hostile-runtime.js';
import { TmuxShell, haveTmux, type EnvMap } from './helpers/tmux.js';
import { ATTACKER, TEST_USER, asUserArgv, canSwitchUsers, mustAccount, spawnAs, type Account } from './helpers/users.js';

/**
 * The hooks check the runtime dir before they use it, as the CLI
 * does. Without XDG_RUNTIME_DIR it is $TMPDIR/envd-UID, and in a shared TMPDIR someone
 * else can make it first, with a listener of theirs on daemon.sock and the FIFO files
 * bash uses. No shell may send its environment there, read an answer from there, or
 * create a file there; the project still loads (in-process), with one warning.
 */

const NODE = mustWhich('node');

function waitReady(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), 15_000);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${String(code)}): ${err}`));
    });
  });
}

/** The files a listener needs in dir (made by whoever runs this), then the listener as `who` (null: this process's user). */
async function plantListener(sb: Sandbox, dir: string, who: Account | null, script: string, log: string, chown?: () => void): Promise<ChildProcess> {
  const mk = spawnSync('mkfifo', ['-m', '666', join(dir, 'hook.fifo')]);
  if (mk.status !== 0) throw new Error(`mkfifo: ${mk.stderr.toString()}`);
  mkdirSync(join(dir, 'sh'));
  chmodSync(join(dir, 'sh'), 0o777);
  chown?.();
  const env = { PATH: sb.env.PATH ?? '/usr/bin:/bin' };
  const child = who === null
    ? spawn(NODE, [script, dir, log], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawnAs(who, NODE, [script, dir, log], { env });
  await waitReady(child, 'the listener');
  return child;
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** argv prefix that runs the tmux pane's shell as `who` (umask 002). */
function asUserWrap(who: Account): string[] {
  const [cmd, args] = asUserArgv(who, 'env', []);
  return [cmd, ...args];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) {
    try { cleanups.pop()?.(); } catch { /* best effort */ }
  }
});

/** A sandbox without XDG_RUNTIME_DIR with one approved project (approved in-process: the runtime dir is not usable). */
function scene(shell: Shell, user?: Account): Scene {
  return hostileScene(shell, (fn) => cleanups.push(fn), user);
}

/** In and out of the project and some idle prompts; what the shell saw, and its screen. */
async function visit(t: TmuxShell, s: Scene): Promise<{ inside: EnvMap; outside: EnvMap; again: EnvMap; screen: string }> {
  const inside = await t.run(`cd ${s.A}`);
  const outside = await t.run(`cd ${s.out}`);
  const again = await t.run(`cd ${s.A}`);
  t.type('');
  t.type('');
  await t.dump();
  return { inside, outside, again, screen: t.screen() };
}

function expectLoadedSafely(r: { inside: EnvMap; outside: EnvMap; again: EnvMap; screen: string }): void {
  for (const e of [r.inside, r.outside, r.again]) {
    expect(e.EVIL).toBeUndefined();
    expect(e.PATH ?? '').not.toContain('evilbin');
  }
  for (const e of [r.inside, r.again]) expect(e.A_VAR, r.screen).toBe('a');
  expect(r.outside.A_VAR).toBeUndefined();
  // One warning for the whole session, from the hook (the CLI is not asked to warn again).
  expect(countOf(r.screen, 'envd: runtime dir '), r.screen).toBe(1);
  expect(countOf(r.screen, 'without the daemon'), r.screen).toBe(1);
}


describe.runIf(canSwitchUsers() && haveTmux())('a runtime dir another user made first (shared sticky TMPDIR)', () => {
  for (const shell of SHELLS) {
    it.runIf(haveShell(shell))(`${shell}: sends nothing there, creates nothing there, applies nothing from there; the project loads`, async () => {
      const victim = mustAccount(TEST_USER);
      const s = scene(shell, victim);
      const { evil, log, before } = await occupied(s, victim, (dir) => {
        // A live process of the victim's, as `ps` shows it to anyone: bash's `kill -0` passes.
        const victimProc = spawnAs(victim, 'sleep', ['600'], { env: { PATH: '/usr/bin:/bin' } });
        cleanups.push(() => victimProc.kill('SIGKILL'));
        writeFileSync(join(dir, 'hook.pid'), `${String(victimProc.pid)}\n`);
      });

      const t = await TmuxShell.start({ shell, sandbox: s.sb, hookFile: s.hookFile, cwd: s.out, wrap: asUserWrap(victim) });
      cleanups.push(() => t.close());
      const r = await visit(t, s);
      expect(readFileSync(log).toString('latin1')).toBe('');
      expect(tree(evil)).toEqual(before);
      expectLoadedSafely(r);
    }, 90_000);
  }

  it('envd export (the CLI) refuses it too and loads the project in-process with one warning', async () => {
    const victim = mustAccount(TEST_USER);
    const s = scene('bash', victim);
    const { evil, log, before } = await occupied(s, victim);
    const r = s.sb.envd(['export', 'json'], { cwd: s.A });
    expect(r.status, r.stderr).toBe(0);
    expect(parseJsonExport(r.stdout).A_VAR).toBe('a');
    expect(countOf(r.stderr, 'runtime dir'), r.stderr).toBe(1);
    expect(r.stderr).toContain('working without the daemon');
    expect(readFileSync(log).toString('latin1')).toBe('');
    expect(tree(evil)).toEqual(before);
  }, 60_000);
});

/**
 * The attack: $TMPDIR as /tmp is (root's, 1777), in which the attacker made the victim's
 * `envd-UID` first (0777) with their listener in it. `prepare` adds to the dir before the
 * listener starts. Returns the dir, the listener's log and the dir's listing before.
 */
async function occupied(s: Scene, victim: Account, prepare?: (dir: string) => void): Promise<{ evil: string; log: string; before: string[] }> {
  const attacker = mustAccount(ATTACKER);
  const tmp = s.sb.path('tmp');
  chownSync(tmp, 0, 0);
  chmodSync(tmp, 0o1777);
  const evil = join(tmp, `envd-${victim.uid}`);
  mkdirSync(evil);
  chmodSync(evil, 0o777);
  const logDir = s.sb.mkdir('evil');
  chmodSync(logDir, 0o777);
  const script = s.sb.write('evil-listen.mjs', LISTENER);
  prepare?.(evil);
  const log = join(logDir, 'got');
  const listener = await plantAs(attacker, s.sb, evil, script, log);
  cleanups.push(() => listener.kill('SIGKILL'));
  return { evil, log, before: tree(evil) };
}

/** Make the attacker's dir theirs, with a FIFO, sh/ and their listener in it. */
async function plantAs(attacker: Account, sb: Sandbox, dir: string, script: string, log: string): Promise<ChildProcess> {
  const child = await plantListener(sb, dir, attacker, script, log, () => {
    for (const name of ['', 'hook.fifo', 'sh', 'hook.pid']) {
      if (existsSync(join(dir, name))) chownSync(join(dir, name), attacker.uid, attacker.gid);
    }
  });
  return child;
}

describe.runIf(haveTmux())('a runtime dir of this user that is not private, a symlink, or in a parent others can rename it in', () => {
  for (const shell of SHELLS) {
    for (const kind of ['mode 0755', 'symlink', 'non-sticky parent writable by all'] as const) {
      it.runIf(haveShell(shell))(`${shell}, ${kind}: refused like another user's; the project loads in-process`, async () => {
        const s = scene(shell);
        const uid = process.getuid?.() ?? 0;
        const runtime = s.sb.path('tmp', `envd-${uid}`);
        // What is behind the name: a dir of ours with a listener that is not the daemon.
        const real = kind === 'symlink' ? s.sb.path('elsewhere') : runtime;
        mkdirSync(real);
        chmodSync(real, kind === 'mode 0755' ? 0o755 : 0o700);
        if (kind === 'symlink') symlinkSync(real, runtime);
        // Others could rename a private dir away there and put theirs in its place.
        if (kind === 'non-sticky parent writable by all') chmodSync(s.sb.path('tmp'), 0o777);
        const script = s.sb.write('listen.mjs', LISTENER);
        const log = s.sb.path('got');
        const listener = await plantListener(s.sb, real, null, script, log);
        cleanups.push(() => listener.kill('SIGKILL'));
        writeFileSync(join(real, 'hook.pid'), `${String(listener.pid)}\n`);
        const before = tree(real);

        const t = await TmuxShell.start({ shell, sandbox: s.sb, hookFile: s.hookFile, cwd: s.out, before: 'umask 002' });
        cleanups.push(() => t.close());
        const r = await visit(t, s);
        expect(readFileSync(log).toString('latin1')).toBe('');
        expect(tree(real)).toEqual(before);
        expectLoadedSafely(r);
      }, 90_000);
    }
  }

  it('envd export (the CLI) with a 0755 runtime dir loads the project in-process with one warning', () => {
    const s = scene('bash');
    const runtime = s.sb.path('tmp', `envd-${process.getuid?.() ?? 0}`);
    mkdirSync(runtime);
    chmodSync(runtime, 0o755);
    const r = s.sb.envd(['export', 'json'], { cwd: s.A });
    expect(r.status, r.stderr).toBe(0);
    expect(parseJsonExport(r.stdout).A_VAR).toBe('a');
    expect(r.stderr.trim().split('\n').filter((l) => l.includes('runtime dir')), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('working without the daemon');
    // What a hook without its own check would run: the same, as shell code.
    const b = s.sb.envd(['export', 'bash'], { cwd: s.A });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/export A_VAR=/);
    expect(b.stderr.trim().split('\n').filter((l) => l.includes('runtime dir')), b.stderr).toHaveLength(1);
    expect(readdirSync(runtime)).toEqual([]);
  });
});

describe.runIf(haveTmux())('under umask 002 what the hooks and the daemon make is owner-only', () => {
  for (const shell of SHELLS) {
    it.runIf(haveShell(shell))(`${shell}: runtime dir, socket, FIFOs, .env/.out files, sh/`, async () => {
      const sb = new Sandbox({ xdgRuntime: false });
      cleanups.push(() => sb.cleanup());
      const A = sb.mkdir('A');
      const out = sb.mkdir('out');
      sb.write('A/.envrc', 'export A_VAR=a\n', 0o644);
      expect(sb.envd(['allow', A]).status).toBe(0);
      const hookFile = sb.write(`hook.${shell}`, sb.envd(['hook', shell]).stdout);
      const t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: out, before: 'umask 002' });
      cleanups.push(() => t.close());
      // The first visit starts the daemon (through `envd export`, in this umask); the
      // second goes through the hook's own transport (bash makes its FIFO pair).
      expect((await t.run(`cd ${A}`)).A_VAR).toBe('a');
      expect((await t.run(`cd ${out}`)).A_VAR).toBeUndefined();
      expect((await t.run(`cd ${A}`)).A_VAR).toBe('a');
      const runtime = sb.path('tmp', `envd-${process.getuid?.() ?? 0}`);
      const entries = tree(runtime);
      expect(entries).toContain('s daemon.sock');
      if (shell === 'bash') expect(entries.some((e) => e.startsWith('p sh/') && e.endsWith('.req'))).toBe(true);
      const loose = [runtime, ...entries.map((e) => join(runtime, e.slice(2)))]
        .map((p) => ({ p, mode: lstatSync(p).mode & 0o777 }))
        .filter(({ mode }) => (mode & 0o077) !== 0)
        .map(({ p, mode }) => `${p} ${mode.toString(8)}`);
      expect(loose).toEqual([]);
    }, 90_000);
  }
});
