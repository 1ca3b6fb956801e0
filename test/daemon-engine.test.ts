import { execSync } from 'node:child_process';
import { readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExportOutcome } from '../src/engine/types.js';
import { ProtocolClient } from '../src/protocol/client.js';
import type { HelloInfo } from '../src/protocol/messages.js';
import { ENVD_BIN, Sandbox, parseJsonExport } from './helpers/sandbox.js';
import { canLimitInotify, setInotifyLimit, withInotifyLimit } from './helpers/userns.js';
import { connectAs } from './helpers/daemon-client.js';
import { readGeneration } from './helpers/daemon-sandbox.js';

const inotifyLimitable = canLimitInotify();

// The daemon with the real engine: watching, background evaluation, budgets, restarts.

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function sandbox(): Sandbox {
  const sb = new Sandbox();
  sandboxes.push(sb);
  return sb;
}

function startDaemon(sb: Sandbox, env: Record<string, string> = {}): void {
  const r = sb.envd(['daemon', 'start'], { env });
  if (r.status !== 0) throw new Error(r.stderr);
}

async function client(sb: Sandbox): Promise<ProtocolClient> {
  return connectAs(sb);
}

async function hello(sb: Sandbox): Promise<HelloInfo> {
  const c = await client(sb);
  try {
    return (await c.request({ type: 'hello', client: { version: 't', protocol: 1, pid: process.pid, identity: null } }, 2000)).result;
  } finally {
    c.close();
  }
}

/** One export over the socket, as a hook would ask it, with the shell's environment. */
async function exportAt(sb: Sandbox, cwd: string, shellEnv: Record<string, string>, budgetMs: number | null): Promise<{ outcome: ExportOutcome; ms: number }> {
  const c = await client(sb);
  try {
    const t = Date.now();
    const r = await c.request({ type: 'export', req: { cwd, env: shellEnv }, budgetMs }, 30_000);
    return { outcome: r.result, ms: Date.now() - t };
  } finally {
    c.close();
  }
}

/** The shell environment after applying an outcome. */
function applied(env: Record<string, string>, o: ExportOutcome): Record<string, string> {
  const next = { ...env, ...o.change.set };
  for (const n of o.change.unset) delete next[n];
  return next;
}

/** How many watcher events the daemon has acted on (it logs each batch). */
function changesSeen(sb: Sandbox): number {
  const log = readFileSync(sb.path('home', '.local', 'state', 'envd', 'daemon.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes('"msg":"dependencies changed"')).length;
}

async function waitFor<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A project with an approved .envrc, loaded once; returns the shell env inside it. */
async function loadedProject(sb: Sandbox, name: string, envrc: string): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = sb.mkdir(name);
  writeFileSync(join(dir, '.envrc'), envrc);
  const allow = sb.envd(['allow'], { cwd: dir });
  expect(allow.status, allow.stderr).toBe(0);
  const first = await exportAt(sb, dir, { ...sb.env, PWD: dir }, null);
  expect(first.outcome.kind, first.outcome.messages.join('\n')).toBe('loaded');
  return { dir, env: applied({ ...sb.env, PWD: dir }, first.outcome) };
}

describe('watching and background evaluation', () => {
  it('re-evaluates after an edit to a watched file before the next request, and bumps the generation', async () => {
    const sb = sandbox();
    startDaemon(sb);
    sb.write('p/v.txt', 'zero');
    const { dir, env } = await loadedProject(sb, 'p', 'watch_file v.txt\nsleep 0.4\nexport FOO="$(cat v.txt)"\n');
    expect(env.FOO).toBe('zero');
    await waitFor(() => hello(sb), (h) => h.watched > 0 && h.watchPending === 0, 3000);
    const g0 = await readGeneration(sb);
    const c0 = changesSeen(sb);
    writeFileSync(join(dir, 'v.txt'), 'one');
    const cc = await waitFor(() => changesSeen(sb), (c) => c > c0, 3000);
    expect(cc).toBeGreaterThan(c0);
    expect(await waitFor(() => readGeneration(sb), (g) => g > g0, 1000)).toBeGreaterThan(g0);
    const ready = await waitFor(() => hello(sb), (h) => h.cached >= 1, 5000);
    expect(ready.cached).toBeGreaterThanOrEqual(1);
    const one = await exportAt(sb, dir, env, 100);
    expect(one.outcome.kind).toBe('loaded');
    expect(one.outcome.change.set.FOO).toBe('one');
    const env1 = applied(env, one.outcome);

    const g1 = await readGeneration(sb);
    const c1 = changesSeen(sb);
    writeFileSync(join(dir, 'v.txt'), 'two');
    expect(await waitFor(() => changesSeen(sb), (c) => c > c1, 3000)).toBeGreaterThan(c1);
    expect(await waitFor(() => readGeneration(sb), (g) => g > g1, 1000)).toBeGreaterThan(g1);
    await waitFor(() => hello(sb), (h) => h.cached >= 1, 5000);
    // A budget shorter than the .envrc's own sleep: only a result computed in advance fits.
    const two = await exportAt(sb, dir, env1, 100);
    expect(two.outcome.kind).toBe('loaded');
    expect(two.outcome.change.set.FOO).toBe('two');
    expect(two.ms).toBeLessThan(400);
  });

  it('an edit made while the background re-evaluation runs, after it read the file, is watched and not lost', async () => {
    const sb = sandbox();
    startDaemon(sb);
    sb.write('p/v.txt', 'zero');
    // The file is read first and the run goes on: an edit during the sleep comes after the read.
    const { dir, env } = await loadedProject(sb, 'p', 'watch_file v.txt\nexport FOO="$(cat v.txt)"\nsleep 1\n');
    expect(env.FOO).toBe('zero');
    await waitFor(() => hello(sb), (h) => h.watched > 0 && h.watchPending === 0, 3000);
    const c0 = changesSeen(sb);
    writeFileSync(join(dir, 'v.txt'), 'one');
    expect(await waitFor(() => changesSeen(sb), (c) => c > c0, 3000)).toBeGreaterThan(c0);
    // The re-evaluation has read 'one' and sleeps: this edit lands while it runs.
    await new Promise((r) => setTimeout(r, 400));
    const c1 = changesSeen(sb);
    writeFileSync(join(dir, 'v.txt'), 'two');
    // The project stays watched while it is evaluated again.
    expect(await waitFor(() => changesSeen(sb), (c) => c > c1, 3000)).toBeGreaterThan(c1);
    // The run that read 'one' is not kept as the answer: the next one reads 'two'.
    const seen = await waitFor(async () => (await exportAt(sb, dir, env, null)).outcome.change.set.FOO, (v) => v === 'two', 8000);
    expect(seen).toBe('two');
    const after = await exportAt(sb, dir, env, null);
    expect(after.outcome.change.set.FOO).toBe('two');
  });

  it('answers "pending" within the budget for a 2-second .envrc and has the result later', async () => {
    const sb = sandbox();
    startDaemon(sb);
    const dir = sb.mkdir('slow');
    writeFileSync(join(dir, '.envrc'), 'sleep 2\nexport SLOW=done\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const env = { ...sb.env, PWD: dir };
    const g0 = await readGeneration(sb);
    const first = await exportAt(sb, dir, env, 200);
    expect(first.outcome.kind).toBe('pending');
    expect(first.ms).toBeLessThan(1000);
    expect(first.outcome.change).toEqual({ set: {}, unset: [] });
    expect(first.outcome.messages.join('\n')).toContain('loading');

    // The CLI fallback with a budget does not wait either.
    const t = Date.now();
    const cli = sb.envd(['export', 'json', '--budget', '200'], { cwd: dir });
    expect(Date.now() - t).toBeLessThan(1800);
    expect(parseJsonExport(cli.stdout)).toEqual({});

    // The hook asks again at each new generation; within a few seconds one answer has it.
    let later = first;
    let seen = g0;
    const deadline = Date.now() + 8000;
    while (later.outcome.kind === 'pending' && Date.now() < deadline) {
      seen = await waitFor(() => readGeneration(sb), (n) => n > seen, 500);
      later = await exportAt(sb, dir, env, 200);
    }
    expect(await readGeneration(sb)).toBeGreaterThan(g0);
    expect(later.outcome.kind).toBe('loaded');
    expect(later.outcome.change.set.SLOW).toBe('done');
  });

  it('kills a hanging .envrc with its whole process group at eval_timeout and does not re-run it', async () => {
    const sb = sandbox();
    sb.write('home/.config/envd/envd.toml', '[global]\neval_timeout = "1s"\n');
    startDaemon(sb);
    const dir = sb.mkdir('hang');
    const marker = 4000 + Math.floor(Math.random() * 1000);
    writeFileSync(join(dir, '.envrc'), `sleep ${marker}.1 &\nsleep ${marker}.2\nexport NEVER=1\n`);
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const env = { ...sb.env, PWD: dir };
    const running = (): string => {
      try {
        return execSync(`pgrep -f "sleep ${marker}\\."`, { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    };
    const first = await exportAt(sb, dir, env, 200);
    expect(first.outcome.kind).toBe('pending');
    expect(first.ms).toBeLessThan(1000);
    expect(running()).not.toBe('');
    expect(await waitFor(running, (s) => s === '', 5000)).toBe('');
    const after = await exportAt(sb, dir, env, 200);
    expect(after.outcome.kind).toBe('failed');
    expect(after.outcome.change.set.NEVER).toBeUndefined();
    // Not started again: nothing is running right after the second request.
    expect(running()).toBe('');
  });

  it.each([
    ['mv tmp .envrc', (d: string) => { writeFileSync(join(d, 'tmp'), 'export A=2\n'); renameSync(join(d, 'tmp'), join(d, '.envrc')); }],
    ['sed -i', (d: string) => { execSync(`sed -i 's/A=1/A=3/' ${join(d, '.envrc')}`); }],
    ['vim-style save', (d: string) => { execSync(`cd ${d} && cp .envrc .envrc~ && printf 'export A=4\\n' > .envrc.swp && mv .envrc.swp .envrc && rm .envrc~`); }],
  ])('notices %s and keeps the new content blocked until approved', async (_name, edit) => {
    const sb = sandbox();
    startDaemon(sb);
    const { dir, env } = await loadedProject(sb, 'p', 'export A=1\n');
    expect(env.A).toBe('1');
    await waitFor(() => hello(sb), (h) => h.watched > 0 && h.watchPending === 0, 3000);
    const g0 = await readGeneration(sb);
    edit(dir);
    expect(await waitFor(() => readGeneration(sb), (g) => g > g0, 3000)).toBeGreaterThan(g0);
    const r = await exportAt(sb, dir, env, 200);
    expect(r.outcome.kind).toBe('blocked');
    expect(r.outcome.change.set.A).toBeUndefined();
    expect(r.outcome.messages.join('\n')).toContain('envd allow');
  });

  it('notices a symlinked .envrc being retargeted', async () => {
    const sb = sandbox();
    startDaemon(sb);
    const dir = sb.mkdir('s');
    writeFileSync(join(dir, 'a.sh'), 'export L=a\n');
    writeFileSync(join(dir, 'b.sh'), 'export L=b\n');
    symlinkSync('a.sh', join(dir, '.envrc'));
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const first = await exportAt(sb, dir, { ...sb.env, PWD: dir }, null);
    expect(first.outcome.change.set.L).toBe('a');
    await waitFor(() => hello(sb), (h) => h.watched > 0 && h.watchPending === 0, 3000);
    const g0 = await readGeneration(sb);
    execSync(`ln -sfn b.sh ${join(dir, '.envrc')}`);
    expect(await waitFor(() => readGeneration(sb), (g) => g > g0, 3000)).toBeGreaterThan(g0);
    const r = await exportAt(sb, dir, applied({ ...sb.env, PWD: dir }, first.outcome), 200);
    expect(r.outcome.kind).toBe('blocked');
  });
});

describe('degraded watching', () => {
  it('with the watcher off, an edit is still noticed at the next request', async () => {
    const sb = sandbox();
    startDaemon(sb, { ENVD_NO_WATCH: '1' });
    const h = await hello(sb);
    expect(h.watcher).toBe('off');
    // Hooks in a project ask at every prompt while no event can announce an edit.
    expect(readFileSync(join(sb.runtimeDir, 'generation'), 'utf8')).toMatch(/^\d+\+poll\n$/);
    const { dir, env } = await loadedProject(sb, 'p', 'watch_file v.txt\nexport FOO="$(cat v.txt 2>/dev/null)"\n');
    writeFileSync(join(dir, 'v.txt'), 'changed');
    const r = await exportAt(sb, dir, env, null);
    expect(r.outcome.kind).toBe('loaded');
    expect(r.outcome.change.set.FOO).toBe('changed');
    expect((await hello(sb)).pid).toBe(h.pid);
  });

  it.runIf(inotifyLimitable)('at the inotify limit (a real ENOSPC): degraded, polling, edits still noticed; once the limit is raised, watching recovers by itself', async () => {
    const sb = sandbox();
    // A daemon in a user namespace whose inotify limit is 1 watch: the kernel refuses the rest.
    const [cmd, args] = withInotifyLimit(1, ENVD_BIN, ['daemon', 'start']);
    const started = sb.run(cmd, args, { env: { ENVD_WATCH_RETRY_MS: '300' } });
    expect(started.status, started.stderr).toBe(0);
    // Loading a project asks for more watches than the limit allows.
    const { dir, env } = await loadedProject(sb, 'p', 'watch_file v.txt\nexport FOO="$(cat v.txt 2>/dev/null)"\n');
    const h = await waitFor(() => hello(sb), (x) => x.watcher === 'degraded', 5000);
    expect(h.watcher).toBe('degraded');
    const genFile = join(sb.runtimeDir, 'generation');
    expect(readFileSync(genFile, 'utf8')).toMatch(/^\d+\+poll\n$/);
    writeFileSync(join(dir, 'v.txt'), 'changed');
    const r = await exportAt(sb, dir, env, null);
    expect(r.outcome.change.set.FOO).toBe('changed');
    expect(sb.envd(['daemon', 'logs']).stdout).toContain('inotify watch limit');
    // Retries keep failing while the limit holds: still degraded, still the same daemon.
    await new Promise((res) => setTimeout(res, 800));
    expect((await hello(sb)).watcher).toBe('degraded');

    setInotifyLimit(h.pid, 100_000);
    const back = await waitFor(() => hello(sb), (x) => x.watcher === 'on' && x.watchPending === 0 && x.watched > 0, 5000);
    expect(back.watcher).toBe('on');
    expect(back.pid).toBe(h.pid);
    expect(readFileSync(genFile, 'utf8')).toMatch(/^\d+\n$/);
    expect(sb.envd(['daemon', 'logs']).stdout).toContain('file watcher recovered');
    // Watching for real again: an edit moves the generation with no request at all.
    const g0 = await readGeneration(sb);
    writeFileSync(join(dir, 'v.txt'), 'again');
    expect(await waitFor(() => readGeneration(sb), (g) => g > g0, 3000)).toBeGreaterThan(g0);
  });
});

describe('restart', () => {
  it('gives shells already inside a project a no-op, without duplicated PATH entries, and still reverts', async () => {
    const sb = sandbox();
    startDaemon(sb);
    const { dir, env } = await loadedProject(sb, 'p', 'PATH_add bin\nexport X=1\n');
    const origPath = sb.env.PATH ?? '';
    expect(env.PATH).toBe(`${join(dir, 'bin')}:${origPath}`);
    const before = await hello(sb);
    const g0 = await readGeneration(sb);
    const r = sb.envd(['daemon', 'restart']);
    expect(r.status, r.stderr).toBe(0);
    const after = await hello(sb);
    expect(after.pid).not.toBe(before.pid);
    expect(await readGeneration(sb)).toBeGreaterThan(g0);

    const again = await exportAt(sb, dir, env, 200);
    expect(again.outcome.kind).toBe('noop');
    expect(again.outcome.change).toEqual({ set: {}, unset: [] });

    const out = sb.mkdir('outside');
    const leave = await exportAt(sb, out, { ...env, PWD: out }, 200);
    expect(leave.outcome.kind).toBe('unloaded');
    const left = applied(env, leave.outcome);
    expect(left.PATH).toBe(origPath);
    expect(left.X).toBeUndefined();
  });
});
