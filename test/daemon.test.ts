import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox, type RunResult } from './helpers/sandbox.js';

// Real daemons on temporary sockets, driven through the real binary (npm run build first).

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface StatusJson {
  running: boolean;
  responding: boolean;
  pid?: number | null;
  socket: string;
  version?: string;
  protocol?: number;
  uptime?: number;
  watched?: number;
  cached?: number;
  watcher?: string;
  generation?: number;
}

const sandboxes: Sandbox[] = [];
function sandbox(): Sandbox {
  const sb = new Sandbox();
  sandboxes.push(sb);
  return sb;
}
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function sockPath(sb: Sandbox): string {
  return join(sb.runtimeDir, 'daemon.sock');
}

function status(sb: Sandbox, env?: Record<string, string | undefined>): StatusJson {
  const r = sb.envd(['daemon', 'status', '--json'], env === undefined ? {} : { env });
  return JSON.parse(r.stdout) as StatusJson;
}

function startedPid(r: RunResult): number {
  const m = /daemon running \(pid (\d+)/.exec(r.stderr);
  if (m === null || m[1] === undefined) throw new Error(`no pid in: ${r.stderr} (status ${r.status})`);
  return Number(m[1]);
}

function start(sb: Sandbox, env?: Record<string, string | undefined>): number {
  const r = sb.envd(['daemon', 'start'], env === undefined ? {} : { env });
  expect(r.status, r.stderr).toBe(0);
  return startedPid(r);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

function readyLines(sb: Sandbox): number {
  const log = sb.path('home', '.local', 'state', 'envd', 'daemon.log');
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"msg":"daemon ready"')).length;
}

describe('daemon verbs', () => {
  it('start, status --json, logs, stop', async () => {
    const sb = sandbox();
    const pid = start(sb);
    expect(alive(pid)).toBe(true);
    const s = status(sb);
    expect(s).toMatchObject({ running: true, responding: true, pid, socket: sockPath(sb), version: VERSION, protocol: 1, watcher: 'on' });
    expect(typeof s.uptime).toBe('number');
    expect(typeof s.watched).toBe('number');
    expect(typeof s.cached).toBe('number');
    expect(String(s.generation)).toBe(readFileSync(join(sb.runtimeDir, 'generation'), 'utf8').trim());

    const text = sb.envd(['daemon', 'status']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`running (pid ${pid})`);
    expect(sb.envd(['daemon', 'logs']).stdout).toContain('daemon ready');

    const stop = sb.envd(['daemon', 'stop']);
    expect(stop.status).toBe(0);
    expect(await waitFor(() => !alive(pid), 3000)).toBe(true);
    expect(existsSync(sockPath(sb))).toBe(false);
    const after = sb.envd(['daemon', 'status', '--json']);
    expect(after.status).toBe(1);
    expect((JSON.parse(after.stdout) as StatusJson).running).toBe(false);
  });

  it('restart gives a new daemon', () => {
    const sb = sandbox();
    const a = start(sb);
    const r = sb.envd(['daemon', 'restart']);
    expect(r.status, r.stderr).toBe(0);
    const b = startedPid(r);
    expect(b).not.toBe(a);
    expect(alive(a)).toBe(false);
    expect(status(sb).pid).toBe(b);
  });

  it('rejects unknown subcommands with usage', () => {
    const sb = sandbox();
    const r = sb.envd(['daemon', 'frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: envd daemon');
  });
});

describe('runtime dir and socket path', () => {
  it('refuses a runtime dir that is not 0700', () => {
    const sb = sandbox();
    const dir = sb.runtimeDir;
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const r = sb.envd(['daemon', 'start']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`runtime dir ${dir} has mode 0755`);
    expect(r.stderr).toContain(`chmod 700 ${dir}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'daemon.sock'))).toBe(false);
    const run = sb.envd(['daemon', 'run'], { timeoutMs: 10_000 });
    expect(run.status).toBe(1);
    expect(existsSync(join(dir, 'daemon.sock'))).toBe(false);
  });

  it('refuses a runtime dir in a parent that others can write and that is not sticky; accepts it once sticky', () => {
    const sb = sandbox();
    const shared = sb.path('shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const env = { ENVD_RUNTIME_DIR: join(shared, 'envd') };
    const r = sb.envd(['daemon', 'start'], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('which other users can write to and which is not sticky');
    expect(existsSync(join(shared, 'envd', 'daemon.sock'))).toBe(false);
    chmodSync(shared, 0o1777);
    const ok = sb.envd(['daemon', 'start'], { env });
    expect(ok.status, ok.stderr).toBe(0);
    expect(sb.envd(['daemon', 'stop'], { env }).status).toBe(0);
  });

  it('refuses a runtime dir that is a symlink, even to a private dir', () => {
    const sb = sandbox();
    const real = sb.path('elsewhere');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, sb.runtimeDir);
    const r = sb.envd(['daemon', 'start']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/runtime dir .* is a symlink/);
    expect(readdirSync(real)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)('refuses a runtime dir owned by another user', () => {
    const sb = sandbox();
    const dir = sb.runtimeDir;
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    const r = sb.envd(['daemon', 'start']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is owned by uid 65534, not by you');
    expect(existsSync(join(dir, 'daemon.sock'))).toBe(false);
  });

  it('keeps the socket and its files owner-only under umask 002', () => {
    const sb = sandbox();
    const r = sb.run('sh', ['-c', `umask 002; exec "${ENVD_BIN}" daemon start`]);
    expect(r.status, r.stderr).toBe(0);
    const mode = (p: string): number => lstatSync(p).mode & 0o777;
    expect(mode(sb.runtimeDir)).toBe(0o700);
    expect(mode(sockPath(sb))).toBe(0o600);
    expect(mode(join(sb.runtimeDir, 'generation')) & 0o077).toBe(0);
    expect(mode(sb.path('home', '.local', 'state', 'envd', 'daemon.log')) & 0o077).toBe(0);
  });

  it('refuses a socket path over the limit, naming the variable, and accepts one at the limit', () => {
    const sb = sandbox();
    const limit = process.platform === 'linux' ? 107 : 103;
    const tail = '/daemon.sock'.length;
    const fits = sb.path('d'.repeat(limit - sb.root.length - 1 - tail));
    const over = sb.path('e'.repeat(limit - sb.root.length - tail));
    expect(Buffer.byteLength(join(fits, 'daemon.sock'))).toBe(limit);

    const bad = sb.envd(['daemon', 'start'], { env: { ENVD_RUNTIME_DIR: over } });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`is ${limit + 1} bytes, over the ${limit}-byte limit`);
    expect(bad.stderr).toContain('ENVD_RUNTIME_DIR');
    expect(bad.stderr).toContain('XDG_RUNTIME_DIR');
    // Nothing was created under a truncated name.
    expect(readdirSync(sb.root).filter((n) => n.startsWith('e'))).toEqual([]);

    const ok = sb.envd(['daemon', 'start'], { env: { ENVD_RUNTIME_DIR: fits } });
    expect(ok.status, ok.stderr).toBe(0);
    expect(lstatSync(join(fits, 'daemon.sock')).isSocket()).toBe(true);
    expect(sb.envd(['daemon', 'stop'], { env: { ENVD_RUNTIME_DIR: fits } }).status).toBe(0);
  });
});

describe('autostart and takeover', () => {
  it('50 concurrent cold starts make exactly one daemon, and all of them get answers', async () => {
    const sb = sandbox();
    const results = await Promise.all(Array.from({ length: 50 }, () => sb.envdAsync(['daemon', 'start'])));
    const pids = new Set<number>();
    for (const r of results) {
      expect(r.status, r.stderr).toBe(0);
      pids.add(startedPid(r));
    }
    expect(pids.size).toBe(1);
    expect(readyLines(sb)).toBe(1);
    const [pid] = [...pids];
    expect(status(sb).pid).toBe(pid);
  }, 120_000);

  it('after kill -9 the next request starts a new daemon and the stale socket is replaced', async () => {
    const sb = sandbox();
    const a = start(sb);
    const inoA = lstatSync(sockPath(sb)).ino;
    process.kill(a, 'SIGKILL');
    expect(await waitFor(() => !alive(a), 3000)).toBe(true);
    expect(lstatSync(sockPath(sb)).isSocket()).toBe(true); // stale, left behind

    // Looking is not removing: status reports it and leaves the file alone.
    expect(sb.envd(['daemon', 'status', '--json']).status).toBe(1);
    expect(lstatSync(sockPath(sb)).ino).toBe(inoA);

    const b = start(sb);
    expect(b).not.toBe(a);
    expect(status(sb)).toMatchObject({ running: true, pid: b });
    const log = readFileSync(sb.path('home', '.local', 'state', 'envd', 'daemon.log'), 'utf8');
    expect(log.match(/removed a stale socket/g)).toHaveLength(1);
  });

  it("never removes a live daemon's socket, even a frozen one's", async () => {
    const sb = sandbox();
    const a = start(sb);
    const ino = lstatSync(sockPath(sb)).ino;
    const second = sb.envd(['daemon', 'run'], { timeoutMs: 15_000 });
    expect(second.status).toBe(0);
    expect(second.stderr).toContain('already answers');
    expect(lstatSync(sockPath(sb)).ino).toBe(ino);
    expect(status(sb).pid).toBe(a);

    process.kill(a, 'SIGSTOP');
    try {
      const third = sb.envd(['daemon', 'run'], { timeoutMs: 15_000 });
      expect(third.status).toBe(0);
      expect(lstatSync(sockPath(sb)).ino).toBe(ino);
    } finally {
      process.kill(a, 'SIGCONT');
    }
    expect(status(sb).pid).toBe(a);
    expect(readyLines(sb)).toBe(1);
  });

  it('a frozen daemon costs a client no more than its timeout, warns once, and can be stopped', async () => {
    const sb = sandbox();
    const pid = start(sb);
    // A real project: outside one, `envd export` answers without asking any daemon.
    const project = sb.mkdir('plain');
    sb.write('plain/.envrc', 'export FROZEN_CASE=1\n');
    expect(sb.envd(['allow'], { cwd: project }).status).toBe(0);
    process.kill(pid, 'SIGSTOP');
    try {
      const env = { ENVD_CLIENT_TIMEOUT_MS: '500' };
      let t = Date.now();
      const s = sb.envd(['daemon', 'status', '--json'], { env });
      expect(Date.now() - t).toBeLessThan(3000);
      expect(s.status).toBe(1);
      expect(JSON.parse(s.stdout)).toMatchObject({ running: false, responding: false, state: 'frozen', pid });

      t = Date.now();
      const first = sb.envd(['export', 'json'], { env, cwd: project });
      expect(Date.now() - t).toBeLessThan(4000);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr.match(/does not answer/g)).toHaveLength(1);
      const again = sb.envd(['export', 'json'], { env, cwd: project });
      expect(again.status).toBe(0);
      expect(again.stderr).not.toContain('does not answer');
      expect(lstatSync(sockPath(sb)).isSocket()).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    process.kill(pid, 'SIGSTOP');
    const stop = sb.envd(['daemon', 'stop'], { env: { ENVD_CLIENT_TIMEOUT_MS: '300' } });
    expect(stop.status).toBe(0);
    expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
  });

  it('a daemon stopped (SIGSTOP) anywhere in its start is found and stopped by daemon stop', async () => {
    // Between binding its socket and writing its pid file a daemon does not answer; the start
    // lock must still name it then, or `daemon stop` says none runs and it lives on.
    for (const afterBindMs of [0, 1, 2, 4, 8]) {
      const sb = sandbox();
      const child = spawn(ENVD_BIN, ['daemon', 'run'], { env: sb.env, stdio: 'ignore', detached: true });
      const pid = child.pid ?? -1;
      try {
        // Polled without sleeping: the steps below are finer than a timer's.
        const bound = Date.now() + 10_000;
        while (!existsSync(sockPath(sb)) && Date.now() < bound) await new Promise<void>((r) => setImmediate(r));
        expect(existsSync(sockPath(sb))).toBe(true);
        const until = Date.now() + afterBindMs;
        while (Date.now() < until) { /* spin: timers are coarser than these steps */ }
        process.kill(pid, 'SIGSTOP');
        const stop = sb.envd(['daemon', 'stop'], { env: { ENVD_CLIENT_TIMEOUT_MS: '200' } });
        expect(stop.status).toBe(0);
        expect(stop.stderr, `${afterBindMs} ms after the bind`).toContain('daemon stopped');
        expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
      } finally {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }, 120_000);

  it('replaces a daemon that reports another version (test knob ENVD_TEST_VERSION)', async () => {
    const sb = sandbox();
    const old = start(sb, { ENVD_TEST_VERSION: '0.0.1-old' });
    expect(status(sb).version).toBe('0.0.1-old');
    const fresh = start(sb);
    expect(fresh).not.toBe(old);
    expect(await waitFor(() => !alive(old), 3000)).toBe(true);
    expect(status(sb)).toMatchObject({ pid: fresh, version: VERSION });

    // The same through an ordinary verb that autostarts.
    sb.envd(['daemon', 'stop']);
    const old2 = start(sb, { ENVD_TEST_VERSION: '0.0.2-old' });
    // An ordinary verb that needs the daemon (outside a project `envd export` needs none).
    const q = sb.mkdir('q');
    sb.write('q/.envrc', 'export Q=1\n');
    const r = sb.envd(['allow'], { cwd: q });
    expect(r.status, r.stderr).toBe(0);
    expect(await waitFor(() => !alive(old2), 3000)).toBe(true);
    expect(status(sb).version).toBe(VERSION);
  });

  it('keeps a newer daemon of the same protocol, and uses it', () => {
    const sb = sandbox();
    const newer = start(sb, { ENVD_TEST_VERSION: '9.9.9-new' });
    const q = sb.mkdir('q');
    sb.write('q/.envrc', 'export Q=1\n');
    const r = sb.envd(['allow'], { cwd: q });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('working without');
    expect(status(sb)).toMatchObject({ pid: newer, version: '9.9.9-new' });
    expect(alive(newer)).toBe(true);
  });

  it('exits when its socket is removed or replaced', async () => {
    const sb = sandbox();
    const a = start(sb);
    const ino = lstatSync(sockPath(sb)).ino;
    renameSync(sockPath(sb), sb.path('moved.sock'));
    expect(await waitFor(() => !alive(a), 3000)).toBe(true);
    expect(existsSync(sockPath(sb))).toBe(false);
    expect(lstatSync(sb.path('moved.sock')).ino).toBe(ino);

    const b = start(sb);
    const impostor = createServer();
    const other = join(sb.runtimeDir, 'other.sock');
    await new Promise<void>((r) => impostor.listen(other, r));
    try {
      renameSync(other, sockPath(sb));
      expect(await waitFor(() => !alive(b), 3000)).toBe(true);
      // The replacement was not ours to remove.
      expect(statSync(sockPath(sb)).isSocket()).toBe(true);
    } finally {
      impostor.close();
    }
  });
});
