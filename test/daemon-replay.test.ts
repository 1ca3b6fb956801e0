import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HookClient } from '../src/bench/hook-client.js';
import { allowIn, haveShell, Sandbox } from './helpers/sandbox.js';
import { haveStrace } from './helpers/strace.js';

// Cached answers replayed from their request bytes on a kept connection
// (src/daemon/hook-replay.ts): still re-validated by every stamp, still right after an
// edit, after evictions, and the zsh hook keeps one connection across prompts.

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function daemon(env: Record<string, string> = {}): Sandbox {
  const sb = new Sandbox();
  sandboxes.push(sb);
  sb.write('home/.config/envd/envd.toml', '[global]\nasync_budget = "8s"\n');
  const r = sb.envd(['daemon', 'start'], { env });
  if (r.status !== 0) throw new Error(r.stderr);
  return sb;
}

function project(sb: Sandbox, name: string, value: string): string {
  const dir = sb.mkdir(name);
  sb.write(`${name}/.envrc`, `export REPLAY_V=${value}\n`);
  allowIn(sb, dir);
  return dir;
}

function client(sb: Sandbox, outside: string): HookClient {
  return new HookClient(join(sb.runtimeDir, 'daemon.sock'), { ...sb.env, PWD: outside, SHLVL: '1' }, 'r');
}

/** Ask until the answer is no longer `pending`. */
async function ask(c: HookClient, dir: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const a = await c.ask(dir);
    if (!a.records.some((r) => r.t === 'p')) return;
    await sleep(50);
  }
  throw new Error(`still pending in ${dir}`);
}

describe('replayed hook answers', () => {
  it('many requests on one kept connection, and an edit is seen by the next identical one', async () => {
    // Watching off: only the stamps can tell the daemon about the edit.
    const sb = daemon({ ENVD_NO_WATCH: '1' });
    const dir = project(sb, 'p', 'one');
    const outside = sb.mkdir('out');
    const c = client(sb, outside);
    try {
      await ask(c, dir);
      expect(c.env.REPLAY_V).toBe('one');
      await ask(c, outside);
      // Files a second old: answers are kept (and the ones refused meanwhile worked out again).
      await sleep(1300);
      for (let i = 0; i < 20; i++) {
        await c.ask(dir);
        expect(c.env.REPLAY_V).toBe('one');
        await c.ask(outside);
        expect(c.env.REPLAY_V).toBeUndefined();
      }
      sb.write('p/.envrc', 'export REPLAY_V=two\n');
      expect(sb.envd(['allow', dir]).status).toBe(0);
      await ask(c, dir);
      expect(c.env.REPLAY_V).toBe('two');
    } finally {
      c.close();
    }
  });

  it('answers stay right when more projects are visited than the daemon keeps', async () => {
    const sb = daemon();
    const outside = sb.mkdir('out');
    const dirs = Array.from({ length: 70 }, (_, i) => project(sb, `p${i}`, `v${i}`));
    const c = client(sb, outside);
    try {
      for (const [i, d] of dirs.entries()) {
        await ask(c, d);
        expect(c.env.REPLAY_V).toBe(`v${i}`);
      }
      // The first ones were evicted (64 results kept): asked again, they are right.
      for (const [i, d] of dirs.slice(0, 5).entries()) {
        await ask(c, outside);
        expect(c.env.REPLAY_V).toBeUndefined();
        await ask(c, d);
        expect(c.env.REPLAY_V).toBe(`v${i}`);
      }
    } finally {
      c.close();
    }
  });
});

describe.runIf(haveShell('zsh') && haveStrace)('zsh: a kept socket', () => {
  /** connect(2) calls to the daemon's socket in a trace, by process id (strace -f: each line starts with it). */
  function connectsByPid(trace: string, sock: string): { main: number; others: number } {
    const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '');
    const main = lines[0]?.split(' ')[0];
    let n = 0;
    let others = 0;
    for (const l of lines) {
      if (!l.includes('connect(') || !l.includes(sock)) continue;
      if (l.split(' ')[0] === main) n++;
      else others++;
    }
    return { main: n, others };
  }

  it('asks on one connection across prompts; a subshell opens its own; a restarted daemon is reached again', () => {
    const sb = daemon();
    const a = project(sb, 'a', 'A');
    const b = project(sb, 'b', 'B');
    const hook = sb.write('hook.zsh', sb.envd(['hook', 'zsh']).stdout);
    const sock = join(sb.runtimeDir, 'daemon.sock');
    const trace = sb.path('trace');
    const script = [
      `source ${hook}`,
      // strace -f follows the daemon that `daemon restart` starts: it must end with the shell.
      'trap \'"$_envd_bin" daemon stop >/dev/null 2>&1\' EXIT',
      `cd ${a}`, '_envd_hook', 'echo "a=${REPLAY_V-}"',
      `cd ${sb.root}`, '_envd_hook', 'echo "out=${REPLAY_V-}"',
      `cd ${b}`, '_envd_hook', 'echo "b=${REPLAY_V-}"',
      `cd ${a}`, '_envd_hook', 'echo "a2=${REPLAY_V-}"',
      'echo "n1=$_envd_n"',
      // A subshell does not use its parent's connection (it has its own process).
      `( cd ${b}; _envd_hook; echo "sub=\${REPLAY_V-}" )`,
      `cd ${sb.root}`, '_envd_hook', 'echo "out2=${REPLAY_V-}"',
      // The daemon goes away under the kept socket: the next request reaches the new one.
      '"$_envd_bin" daemon restart >/dev/null 2>&1',
      `cd ${b}`, '_envd_hook', 'echo "b2=${REPLAY_V-}"',
    ].join('\n');
    const r = sb.run('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', trace, 'zsh', '-f', '-c', script], { timeoutMs: 60_000 });
    const seen = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
    expect(seen, r.stderr).toMatchObject({ a: 'A', out: '', b: 'B', a2: 'A', sub: 'B', out2: '', b2: 'B' });
    // Three entries asked; the leave between them was the hook's own (a leave plan).
    expect(Number(seen.n1)).toBeGreaterThanOrEqual(3);
    expect(r.stderr).not.toContain('did not answer');
    // The shell itself connected twice: once, and once more to the restarted daemon. (The
    // subshell's connection and the CLI's for `daemon restart` are other processes.)
    const { main, others } = connectsByPid(trace, sock);
    expect(main, readFileSync(trace, 'utf8')).toBe(2);
    expect(others).toBeGreaterThanOrEqual(1);
  });
});
