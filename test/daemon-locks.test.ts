import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, Sandbox, haveShell, parseJsonExport } from './helpers/sandbox.js';

// Nothing blocks the daemon's event loop. A lock held by a live process is
// waited for without stopping the answers to every other shell; an empty lock (a full disk
// at the wrong moment) is recovered, and a lock that cannot be written is never left behind.

let sb: Sandbox;
let holder: ChildProcess | null = null;

beforeEach(() => { sb = new Sandbox(); });
afterEach(() => {
  holder?.kill('SIGKILL');
  holder = null;
  sb.cleanup();
});

const dataDir = (): string => sb.path('home', '.local', 'share', 'envd');
const lockFile = (): string => join(dataDir(), 'allowlist.json.lock');

function project(name: string, body: string): string {
  const dir = sb.mkdir(name);
  // Not group-writable, whatever the umask (the user pass runs under 002).
  sb.write(`${name}/.envrc`, body, 0o644);
  return dir;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('lock waits', () => {
  it('a lock held by a live process: the daemon waits for it and keeps answering other shells', async () => {
    const p = project('p', 'export FROM_P=1\n');
    const q = project('q', 'export FROM_Q=1\n');
    { const a = sb.envd(['allow', p]); expect(a.status, a.stderr).toBe(0); }
    expect(sb.envd(['daemon', 'start']).status).toBe(0);

    // Another process (alive) holds the allowlist's lock, in the lock's own format.
    holder = spawn('sleep', ['120'], { stdio: 'ignore' });
    writeFileSync(lockFile(), `${holder.pid ?? 0} ${hostname().replace(/\s/g, '_') || 'localhost'} 00ff00ff ${Date.now()}\n`, { mode: 0o600 });

    // `envd allow` through the daemon: it has to wait for the lock.
    const allowing = sb.envdAsync(['allow', q]);
    // A waiter that has been patient for a while says so with a marker file.
    await until(() => existsSync(`${lockFile()}.waiting`), 10_000, 'the daemon to wait for the lock');

    // Meanwhile, other shells get answers from the daemon (not in-process fallbacks).
    for (let i = 0; i < 3; i++) {
      const r = sb.envd(['export', 'json'], { cwd: p, env: { ENVD_CLIENT_TIMEOUT_MS: '1500' } });
      expect(r.stderr).not.toMatch(/does not answer|working without/);
      expect(parseJsonExport(r.stdout).FROM_P).toBe('1');
    }
    if (haveShell('zsh')) {
      const hook = sb.write('hook.zsh', sb.envd(['hook', 'zsh']).stdout);
      const r = sb.shell('zsh', `source ${hook}; cd ${p}; _envd_hook; echo "FROM_P=\${FROM_P-}"`);
      expect(r.stdout).toContain('FROM_P=1\n');
      expect(r.stderr).not.toMatch(/did not answer|does not answer/);
    }
    // The allow is still waiting: the lock is still the holder's.
    expect(readFileSync(lockFile(), 'utf8')).toContain(`${holder.pid ?? 0} `);

    // The holder goes away: its lock is stale, broken, and the allow goes through.
    holder.kill('SIGKILL');
    const done = await allowing;
    expect(done.status, done.stderr).toBe(0);
    const after = sb.envd(['export', 'json'], { cwd: q });
    expect(parseJsonExport(after.stdout).FROM_Q).toBe('1');
  }, 60_000);

  it('an empty lock file (its writer died, or the disk was full) is recovered', () => {
    const p = project('p', 'export FROM_P=1\n');
    const q = project('q', 'export FROM_Q=1\n');
    { const a = sb.envd(['allow', p]); expect(a.status, a.stderr).toBe(0); }
    expect(sb.envd(['daemon', 'start']).status).toBe(0);
    writeFileSync(lockFile(), '');
    const past = new Date(Date.now() - 10_000);
    utimesSync(lockFile(), past, past);
    const r = sb.envd(['allow', q]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(lockFile())).toBe(false);
    expect(parseJsonExport(sb.envd(['export', 'json'], { cwd: q }).stdout).FROM_Q).toBe('1');
  });

  it('a lock that cannot be written (file size limit, as on a full disk) is not left behind', () => {
    const p = project('p', 'export FROM_P=1\n');
    const q = project('q', 'export FROM_Q=1\n');
    { const a = sb.envd(['allow', p]); expect(a.status, a.stderr).toBe(0); }
    // RLIMIT_FSIZE 0: every write to a file fails with EFBIG (Node ignores SIGXFSZ). The
    // limit binds the process that writes, so the CLI writes in-process here.
    const r = sb.run('prlimit', ['--fsize=0:0', '--', ENVD_BIN, 'allow', q], { env: { ENVD_NO_DAEMON: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lock file .*EFBIG.*free some disk space/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(lockFile())).toBe(false);
    const ok = sb.envd(['allow', q]);
    expect(ok.status, ok.stderr).toBe(0);
  });
});
