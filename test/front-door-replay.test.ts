import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { allowIn, ENVD_BIN, Sandbox, which } from './helpers/sandbox.js';

// bin/envd's front door asks the same thing again and again (an editor's `envd export
// json` after every command): the daemon keeps its reply by the request's bytes and its
// environment (the pair's .env file) and sends it again while every file it came from is
// unchanged (src/daemon/hook-replay.ts). These ask twice or more with the same bytes, so
// a kept reply that ignored the environment or skipped its stamps would answer wrongly.
// Watching is off: only the stamps can tell the daemon about an edit.

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

/** A daemon without file watching, a project, and a PATH with no node (Node would answer as 127). */
function setup(): { sb: Sandbox; dir: string; bare: string } {
  const sb = new Sandbox();
  sandboxes.push(sb);
  const dir = sb.mkdir('p');
  sb.write('p/.envrc', 'export KEPT_A=one\n');
  allowIn(sb, dir);
  const r = sb.envd(['daemon', 'start'], { env: { ENVD_NO_WATCH: '1' } });
  if (r.status !== 0) throw new Error(r.stderr);
  const bare = sb.path('no-node');
  mkdirSync(bare, { recursive: true });
  chmodSync(bare, 0o755);
  for (const tool of ['sh', 'bash', 'cat', 'stat', 'mkfifo', 'env']) {
    const p = which(tool);
    if (p !== null) symlinkSync(p, join(bare, tool));
  }
  return { sb, dir, bare };
}

/** `envd export json` through the front door, with the environment given as NAME=VALUE words. */
function exportJson(sb: Sandbox, dir: string, bare: string, env: string[] = []): { status: number | null; out: Record<string, string | null>; stderr: string } {
  const r = sb.run('env', [...env, ENVD_BIN, 'export', 'json'], { cwd: dir, env: { PATH: bare } });
  return { status: r.status, out: r.stdout === '' ? {} : JSON.parse(r.stdout) as Record<string, string | null>, stderr: r.stderr };
}

/** Files a second old, as the memo wants them: it keeps nothing derived from a newer one. */
const settle = (): Promise<void> => sleep(1200);

describe('front-door replies kept by the daemon', () => {
  it('an edit to the .envrc is seen by the next identical request', async () => {
    const { sb, dir, bare } = setup();
    expect(exportJson(sb, dir, bare).out.KEPT_A).toBe('one');
    await settle();
    for (let i = 0; i < 3; i++) {
      const a = exportJson(sb, dir, bare);
      expect(a.status, a.stderr).toBe(0);
      expect(a.out.KEPT_A).toBe('one');
    }
    sb.write('p/.envrc', 'export KEPT_A=two\n');
    const after = exportJson(sb, dir, bare);
    expect(after.status).toBe(1);
    expect(after.stderr).toContain('is blocked');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    expect(exportJson(sb, dir, bare).out.KEPT_A).toBe('two');
  });

  it('the environment is part of the key: the same request with another environment gets its own answer', async () => {
    const { sb, dir, bare } = setup();
    exportJson(sb, dir, bare, ['KEPT_X=1']);
    await settle();
    for (let i = 0; i < 3; i++) {
      expect(exportJson(sb, dir, bare, ['KEPT_X=1']).out).toMatchObject({ KEPT_A: 'one' });
      // The project's own value already there: nothing to change for it.
      expect(exportJson(sb, dir, bare, ['KEPT_X=1', 'KEPT_A=one']).out.KEPT_A).toBeUndefined();
      // Another value: set again.
      expect(exportJson(sb, dir, bare, ['KEPT_X=1', 'KEPT_A=zero']).out.KEPT_A).toBe('one');
    }
  });

  it('a kept reply is not sent into a runtime dir others can now read: Node decides', async () => {
    const { sb, dir, bare } = setup();
    exportJson(sb, dir, bare);
    await settle();
    expect(exportJson(sb, dir, bare).status).toBe(0);
    chmodSync(sb.runtimeDir, 0o755);
    try {
      const r = sb.run(ENVD_BIN, ['export', 'json'], { cwd: dir, env: { PATH: bare } });
      expect(r.status).toBe(127);
      expect(r.stdout).toBe('');
    } finally {
      chmodSync(sb.runtimeDir, 0o700);
    }
  });
});

describe('door-pair claims (src/daemon/door-pairs.ts)', () => {
  it('a lock\'s first ticket holds the pair until it is released or its process is gone; a torn ticket until it is stale', () => {
    const { sb, dir, bare } = setup();
    const sh = join(sb.runtimeDir, 'sh');
    // The first asks the daemon for its door pairs.
    expect(exportJson(sb, dir, bare).status).toBe(0);
    const made = (): boolean => readdirSync(sh).filter((f) => /^door-[0-7]\.(req|res|env|lock)$/.test(f)).length === 32;
    for (let i = 0; i < 100 && !made(); i++) spawnSync('sleep', ['0.05']);
    expect(made()).toBe(true);
    const lock = (n: number): string => join(sh, `door-${n}.lock`);
    const size = (n: number): number => statSync(lock(n)).size;
    for (let i = 0; i < 100 && [0, 1, 2, 3, 4, 5, 6, 7].some((n) => size(n) > 0); i++) spawnSync('sleep', ['0.02']);
    // Every pair taken: 0 a ticket being written (no newline yet), 1 one torn 10 s ago,
    // 2 released (with a losing ticket behind it), 3 of a process that is gone, 4-7 of
    // this (live) process, 4 with another's ticket behind it and a release that is not its.
    const old = new Date(Date.now() - 10_000);
    const me = process.pid;
    writeFileSync(lock(0), `${me} 12`);
    writeFileSync(lock(1), `${me} 12`);
    utimesSync(lock(1), old, old);
    writeFileSync(lock(2), `${me} 111\n${me} 222\n-111\n`);
    writeFileSync(lock(3), '999999999 333\n');
    writeFileSync(lock(4), `${me} 444\n${me} 555\n-555\n`);
    for (let n = 5; n < 8; n++) writeFileSync(lock(n), `${me} ${n}${n}${n}\n`);
    // None free: a pair of its own, and `doors` makes the daemon look at every lock.
    const a = exportJson(sb, dir, bare);
    expect(a.status, a.stderr).toBe(0);
    for (let i = 0; i < 100 && size(3) > 0; i++) spawnSync('sleep', ['0.02']);
    expect([0, 1, 2, 3, 4, 5].map((n) => size(n) > 0)).toEqual([true, false, false, false, true, true]);
  });
});
