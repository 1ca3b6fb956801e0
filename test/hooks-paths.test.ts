import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, haveShell, SHELLS, type Shell } from './helpers/sandbox.js';
import { TmuxShell, haveTmux } from './helpers/tmux.js';
import { USER_PASS } from './helpers/users.js';

/**
 * Every hook terminates on every path (names with
 * newlines, control characters, bytes that are not UTF-8, paths near and past 4 KiB),
 * Ctrl-C during a hook gets the prompt back, and what a hook prints itself carries no raw
 * control characters from a name. Real interactive shells in tmux with a real daemon; a
 * hook that hangs never prints the next prompt, so the step's wait (STEP_MS) fails the test.
 */

const STEP_MS = 20_000;

/** A literal for `bytes` in a command line: $'…' for bash and zsh, backslash escapes for fish. */
function literal(shell: Shell, bytes: Buffer): string {
  let s = '';
  for (const b of bytes) {
    const plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2f || b === 0x2e || b === 0x2d || b === 0x5f;
    const hex = b.toString(16).padStart(2, '0');
    s += plain ? String.fromCharCode(b) : shell === 'fish' ? `\\X${hex}` : `\\x${hex}`;
  }
  return shell === 'fish' ? s : `$'${s}'`;
}

const NAMES: Record<string, Buffer> = {
  'a newline inside': Buffer.from('a\nb/c'),
  'a trailing newline': Buffer.from('end\n'),
  'control characters (ESC, BEL, DEL, ^A)': Buffer.from('ctl\x01\x1b[31m\x07\x7f'),
  'bytes that are not UTF-8': Buffer.from([0x6e, 0x75, 0xff, 0xfe, 0x2d, 0xc3]),
  'a newline and bytes that are not UTF-8': Buffer.from([0x78, 0x0a, 0xe9, 0x0a, 0x2f, 0x79]),
};

for (const shell of SHELLS) {
  describe.runIf(haveTmux() && haveShell(shell))(`${shell}: the hook ends on every path`, () => {
    let sb: Sandbox;
    let t: TmuxShell;
    let P: string;
    let Q: Buffer;
    let out: string;
    let deep: string;
    const deeperRel = `${'e'.repeat(200)}/${'e'.repeat(200)}`;

    beforeAll(async () => {
      // Both kinds of locale: UTF-8 here, C in the user pass.
      sb = new Sandbox({ lang: USER_PASS ? 'C' : 'C.UTF-8' });
      P = sb.mkdir('P');
      sb.write('P/.envrc', 'export P_VAR=p\n', 0o644);
      expect(sb.envd(['allow', P]).status).toBe(0);
      out = sb.mkdir('out');
      for (const name of Object.values(NAMES)) mkdirSync(Buffer.concat([Buffer.from(`${P}/`), name]), { recursive: true });
      // A project whose own name holds a newline.
      Q = Buffer.from(sb.path('Q\nnl'));
      sb.write(`${Q.toString()}/.envrc`, 'export Q_VAR=q\n', 0o644);
      const qa = sb.envd(['allow', Q.toString()]);
      expect(qa.status, qa.stderr).toBe(0);
      // Just under 4 KiB, then past PATH_MAX (made with relative steps).
      const comps = Math.floor((4000 - P.length) / 201);
      deep = join(P, ...Array.from({ length: comps }, () => 'd'.repeat(200)));
      mkdirSync(deep, { recursive: true });
      expect(spawnSync('mkdir', ['-p', deeperRel], { cwd: deep }).status).toBe(0);
      const hookFile = sb.write(`hook.${shell}`, sb.envd(['hook', shell]).stdout);
      t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: out, env: { DEEP: deep, DEEPER: deeperRel } });
    }, 60_000);

    afterAll(() => {
      t?.close();
      if (deep !== undefined) spawnSync('rm', ['-rf', deeperRel.split('/')[0] ?? ''], { cwd: deep });
      sb?.cleanup();
    });

    for (const [what, name] of Object.entries(NAMES)) {
      it(`a directory below a project with ${what}: loaded, and left`, async () => {
        const dir = Buffer.concat([Buffer.from(`${P}/`), name]);
        const e = await t.run(`cd ${literal(shell, dir)}`, STEP_MS);
        // Paths that are not UTF-8 cannot be loaded (the daemon says so); the rest are.
        if (name.toString('utf8').includes('\ufffd')) expect(e.P_VAR === undefined || e.P_VAR === 'p').toBe(true);
        else expect(e.P_VAR, t.screen()).toBe('p');
        expect((await t.run(`cd ${out}`, STEP_MS)).P_VAR).toBeUndefined();
      });
    }

    it('a project whose own name holds a newline: loaded, and left', async () => {
      expect((await t.run(`cd ${literal(shell, Q)}`, STEP_MS)).Q_VAR, t.screen()).toBe('q');
      expect((await t.run(`cd ${out}`, STEP_MS)).Q_VAR).toBeUndefined();
    });

    it('a path just under 4 KiB: loaded; past PATH_MAX: the prompt comes back; left', async () => {
      expect((await t.run(shell === 'fish' ? 'cd $DEEP' : 'cd "$DEEP"', STEP_MS)).P_VAR, t.screen()).toBe('p');
      const e = await t.run(shell === 'fish' ? 'cd $DEEPER' : 'cd "$DEEPER"', STEP_MS);
      // fish's cd refuses a path that long; bash and zsh go there.
      if (shell !== 'fish') expect(e.PWD?.length).toBeGreaterThan(4096);
      await t.run('', STEP_MS);
      expect((await t.run(`cd ${out}`, STEP_MS)).P_VAR).toBeUndefined();
    });

    it('prompts in all of them once more (nothing changed): the prompt comes back each time', async () => {
      for (const name of Object.values(NAMES)) {
        await t.run(`cd ${literal(shell, Buffer.concat([Buffer.from(`${P}/`), name]))}`, STEP_MS);
        await t.run('', STEP_MS);
      }
      expect((await t.run(`cd ${out}`, STEP_MS)).P_VAR).toBeUndefined();
    });
  });
}

for (const shell of SHELLS) {
  describe.runIf(haveTmux() && haveShell(shell))(`${shell}: Ctrl-C during a hook`, () => {
    let sb: Sandbox;
    let t: TmuxShell | undefined;

    beforeAll(() => {
      // Without a daemon the hook waits for `envd export` to finish the evaluation: the one
      // long wait a hook can have.
      sb = new Sandbox({ daemon: false });
    });

    afterAll(() => {
      t?.close();
      // The evaluation envd started (its own process group) sleeps on; end it.
      const pidFile = sb?.path('S', 'pid');
      if (pidFile !== undefined && existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) {
          try { process.kill(-pid, 'SIGKILL'); } catch { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
        }
      }
      sb?.cleanup();
    });

    it('gets the prompt back, and the shell works on', async () => {
      const S = sb.mkdir('S');
      const out = sb.mkdir('out');
      const started = join(S, 'started');
      sb.write('S/.envrc', `echo $$ > ${join(S, 'pid')}\n: > ${started}\nsleep 120\nexport S_VAR=s\n`, 0o644);
      expect(sb.envd(['allow', S]).status).toBe(0);
      const hookFile = sb.write(`hook.${shell}`, sb.envd(['hook', shell]).stdout);
      t = await TmuxShell.start({ shell, sandbox: sb, hookFile, cwd: out });
      t.type(`cd ${S}`);
      const end = Date.now() + STEP_MS;
      while (!existsSync(started)) {
        if (Date.now() > end) throw new Error(`the evaluation did not start; screen:\n${t.screen()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      spawnSync('tmux', ['-S', t.socket, 'send-keys', '-t', 't', 'C-c'], { env: sb.env });
      // Far less than the evaluation's 60 s timeout: only a prompt that came back answers.
      const e = await t.dump(STEP_MS);
      expect(e.S_VAR).toBeUndefined();
      expect(e.PWD).toBe(S);
      // Said once; the next prompts there do not start the same wait again.
      await t.run('', STEP_MS);
      expect(t.screen().split('envd: interrupted').length - 1, t.screen()).toBe(1);
      // And the shell goes on: leaving and a plain command still work.
      expect((await t.run(`cd ${out}`, STEP_MS)).PWD).toBe(out);
    }, 60_000);
  });
}

describe.runIf(SHELLS.some((s) => haveShell(s)))('what the hooks print themselves', () => {
  for (const shell of SHELLS) {
    it.runIf(haveShell(shell))(`${shell}: the runtime-dir warning shows a name with control characters escaped`, () => {
      const sb = new Sandbox({ xdgRuntime: false, lang: USER_PASS ? 'C' : 'C.UTF-8' });
      try {
        const P = sb.mkdir('P');
        sb.write('P/.envrc', 'export P_VAR=p\n', 0o644);
        // A C1 control (CSI) too, except for fish under LANG=C: it decodes an environment
        // variable's non-ASCII bytes as single-byte characters and cannot pass them on
        // unchanged, so there TMPDIR itself would not name this directory.
        const c1 = shell === 'fish' && USER_PASS ? '' : '\u009b1m';
        const tmp = sb.path(`t\x1b[31m\x07\nx\x01${c1}`);
        mkdirSync(join(tmp, `envd-${process.getuid?.() ?? 0}`), { recursive: true, mode: 0o755 });
        const hookFile = sb.write(`hook.${shell}`, sb.envd(['hook', shell]).stdout);
        const script = shell === 'fish'
          ? `source '${hookFile}'; cd '${P}'; _envd_hook; _envd_hook; echo "P_VAR=$P_VAR"`
          : `source '${hookFile}'; cd '${P}'; _envd_hook; _envd_hook; echo "P_VAR=$P_VAR"`;
        expect(sb.envd(['allow', P], { env: { TMPDIR: tmp, ENVD_NO_DAEMON: '1' } }).status).toBe(0);
        const r = sb.shell(shell, script, { env: { TMPDIR: tmp }, timeoutMs: STEP_MS });
        expect(r.stdout).toContain('P_VAR=p');
        const lines = r.stderr.split('\n').filter((l) => l.includes('envd: runtime dir'));
        expect(lines, r.stderr).toHaveLength(1);
        // The whole warning on one line, with no raw control character in it.
        expect(lines[0]).toContain('not using it');
        expect(lines[0]).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      } finally {
        sb.cleanup();
      }
    });
  }
});
