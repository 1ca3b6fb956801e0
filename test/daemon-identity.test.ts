import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, Sandbox, haveShell, parseJsonExport, type Shell } from './helpers/sandbox.js';

// A daemon serves only clients of its own identity (HOME, config and data
// dirs). A daemon started with HOME=A whose config whitelists every path ("/") shares its
// runtime dir with shells of HOME=B: B's unapproved files stay blocked, B's `allow` lands
// in B's allowlist, whether B asks through the CLI or through a real shell hook.

let sb: Sandbox;
let daemonPid: number;

beforeEach(() => {
  sb = new Sandbox();
  sb.write('home/.config/envd/envd.toml', '[whitelist]\nprefix = ["/"]\n');
  const r = sb.envd(['daemon', 'start']);
  if (r.status !== 0) throw new Error(r.stderr);
  daemonPid = Number(/pid (\d+)/.exec(r.stderr)?.[1]);
});
afterEach(() => sb.cleanup());

/** Another identity on the same runtime dir: its own HOME and XDG dirs under `name`. */
function identity(name: string): Record<string, string> {
  const home = sb.mkdir(name);
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
}

function project(name: string, body: string): string {
  const dir = sb.mkdir(name);
  // Not group-writable (umask 002 in the user pass): whitelisted files must not be.
  sb.write(`${name}/.envrc`, body, 0o644);
  return dir;
}

function allowlistOf(env: Record<string, string>): string {
  const f = join(env.XDG_DATA_HOME ?? '', 'envd', 'allowlist.json');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

function daemonLog(): string {
  return readFileSync(sb.path('home', '.local', 'state', 'envd', 'daemon.log'), 'utf8');
}

function currentPid(): number | null {
  const r = sb.envd(['daemon', 'status', '--json']);
  return (JSON.parse(r.stdout) as { pid?: number | null }).pid ?? null;
}

describe('one daemon, one identity', () => {
  it('the CLI of another HOME: its unapproved file stays blocked; its allow lands in its own allowlist', () => {
    const B = identity('userB');
    const dir = project('p', 'export SECRET=from-p\n');
    // The daemon's own identity is served, whitelist and all.
    const own = sb.envd(['export', 'json'], { cwd: dir });
    expect(parseJsonExport(own.stdout).SECRET, own.stderr).toBe('from-p');

    const blocked = sb.envd(['export', 'json'], { cwd: dir, env: B });
    expect(parseJsonExport(blocked.stdout).SECRET).toBeUndefined();
    expect(blocked.stderr).toContain('is blocked');
    expect(blocked.stderr).toContain('serves another identity');
    // Said once, not at every prompt.
    const again = sb.envd(['export', 'json'], { cwd: dir, env: B });
    expect(again.stderr).not.toContain('serves another identity');

    const allow = sb.envd(['allow'], { cwd: dir, env: B });
    expect(allow.status, allow.stderr).toBe(0);
    expect(allowlistOf(B)).toContain(join(dir, '.envrc'));
    expect(allowlistOf(sb.env)).not.toContain(join(dir, '.envrc'));
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir, env: B }).stdout).SECRET).toBe('from-p');
    // B's approval survives a restart of A's daemon: it was never A's.
    expect(sb.envd(['daemon', 'restart']).status).toBe(0);
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir, env: B }).stdout).SECRET).toBe('from-p');
    // And nobody replaced anybody's daemon on the way but the restart.
    expect(currentPid()).not.toBe(daemonPid);
  });

  it('another DIRENV_CONFIG is another identity: the daemon does not lend its config', () => {
    const dir = project('d', 'export SECRET=from-d\n');
    // The whitelist in the daemon's direnv.toml only.
    writeFileSync(sb.path('home', '.config', 'envd', 'envd.toml'), '');
    sb.write('home/.config/direnv/direnv.toml', '[whitelist]\nprefix = ["/"]\n');
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir }).stdout).SECRET).toBe('from-d');
    const other = sb.mkdir('other-direnv-config');
    const r = sb.envd(['export', 'json'], { cwd: dir, env: { DIRENV_CONFIG: other } });
    expect(parseJsonExport(r.stdout).SECRET).toBeUndefined();
    expect(r.stderr).toContain('is blocked');
    expect(currentPid()).toBe(daemonPid);
  });

  for (const shell of ['zsh', 'fish', 'bash'] as Shell[]) {
    it.runIf(haveShell(shell))(`a real ${shell} hook of another HOME is not served; its allow lands in its own allowlist`, () => {
      const B = identity(`${shell}-user`);
      const dir = project(`${shell}-proj`, 'export SECRET=from-hook-proj\n');
      const hook = sb.write(`hook.${shell}`, sb.envd(['hook', shell], { env: B }).stdout);
      const show = shell === 'fish' ? 'echo "SECRET=$SECRET"' : 'echo "SECRET=${SECRET-}"';
      // One prompt after a cd, as the shell would run it.
      const prompt = (): string => `source ${hook}; cd ${dir}; _envd_hook; ${show}`;

      const first = sb.shell(shell, prompt(), { env: B });
      expect(first.stdout).toContain('SECRET=\n');
      expect(first.stderr).toContain('is blocked');
      // The request went to the daemon through the hook's own transport, which told the
      // hook to ask the CLI instead.
      expect(daemonLog()).toContain(`"why":"HOME ${B.HOME} (the daemon's: ${sb.home})"`);

      expect(sb.envd(['allow', dir], { env: B }).status).toBe(0);
      expect(allowlistOf(B)).toContain(join(dir, '.envrc'));
      expect(allowlistOf(sb.env)).not.toContain(join(dir, '.envrc'));
      const after = sb.shell(shell, prompt(), { env: B });
      expect(after.stdout).toContain('SECRET=from-hook-proj\n');

      // The daemon's own identity, same hook file and runtime dir: served by the daemon.
      const own = sb.shell(shell, prompt(), { env: {} });
      expect(own.stdout).toContain('SECRET=from-hook-proj\n');
      expect(currentPid()).toBe(daemonPid);
    });

    it.runIf(haveShell(shell))(`${shell}: in a shell of another HOME, its own envd allow applies at the next prompt, without a cd`, () => {
      const B = identity(`${shell}-session`);
      const dir = project(`${shell}-session-proj`, 'export SECRET=from-session\n');
      const hook = sb.write(`hook-session.${shell}`, sb.envd(['hook', shell], { env: B }).stdout);
      const show = shell === 'fish' ? 'echo "SECRET=$SECRET"' : 'echo "SECRET=${SECRET-}"';
      // One shell session: blocked, `envd allow`, then the next prompt in the same directory.
      const r = sb.shell(shell, [
        `source ${hook}`, `cd ${dir}`, '_envd_hook', show,
        `${ENVD_BIN} allow`, '_envd_hook', show,
      ].join('\n'), { env: B });
      expect(r.stdout, r.stderr).toContain('SECRET=\nSECRET=from-session\n');
      expect(currentPid()).toBe(daemonPid);
    });
  }

  it('a config edit reaches the daemon at the next request', () => {
    const dir = project('c', 'export SECRET=from-c\n');
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir }).stdout).SECRET).toBe('from-c');
    writeFileSync(sb.path('home', '.config', 'envd', 'envd.toml'), '# no whitelist\n');
    const r = sb.envd(['export', 'json'], { cwd: dir });
    expect(parseJsonExport(r.stdout).SECRET).toBeUndefined();
    expect(r.stderr).toContain('is blocked');
    writeFileSync(sb.path('home', '.config', 'envd', 'envd.toml'), '[whitelist]\nexact = ["' + join(dir, '.envrc') + '"]\n');
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: dir }).stdout).SECRET).toBe('from-c');
    expect(currentPid()).toBe(daemonPid);
  });

  it('on the socket: no request is served before a hello of the same identity', async () => {
    const xdg = sb.env.XDG_RUNTIME_DIR;
    const sock = xdg !== undefined ? join(xdg, 'envd', 'daemon.sock') : join(sb.env.TMPDIR ?? '', `envd-${process.getuid?.() ?? 0}`, 'daemon.sock');
    const ask = (lines: object[]): Promise<Record<string, unknown>[]> => new Promise((resolve, reject) => {
      const s = connect({ path: sock });
      let data = '';
      s.on('data', (d: Buffer) => { data += d.toString('utf8'); });
      s.on('error', reject);
      s.on('close', () => resolve(data.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)));
      s.on('connect', () => { s.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'); });
    });
    const deny = { v: 1, id: 2, type: 'deny', path: sb.path('p', '.envrc'), cwd: sb.root };
    const none = await ask([deny]);
    expect(none[0]).toMatchObject({ id: 2, type: 'error', error: { code: 'IDENTITY_MISMATCH' } });

    const B = identity('wire');
    const theirs = { home: B.HOME, configDir: join(B.XDG_CONFIG_HOME ?? '', 'envd'), direnvConfigDir: join(B.XDG_CONFIG_HOME ?? '', 'direnv'), dataDir: join(B.XDG_DATA_HOME ?? '', 'envd') };
    const hello = { v: 1, id: 1, type: 'hello', client: { version: '0.0.0', protocol: 1, pid: 1, identity: theirs } };
    const foreign = await ask([hello, deny]);
    expect(foreign[0]).toMatchObject({ id: 1, type: 'hello', result: { pid: daemonPid, identity: { home: sb.home } } });
    expect(foreign[1]).toMatchObject({ id: 2, type: 'error', error: { code: 'IDENTITY_MISMATCH' } });
    expect(allowlistOf(sb.env)).toBe('');
    expect(currentPid()).toBe(daemonPid);
  });
});
