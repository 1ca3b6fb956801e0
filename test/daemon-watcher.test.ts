// The dependency watcher with real inotify watches on real files: one watch per directory
// and none per file; idle directories are really unwatched (no events, inotify watches
// released) while others stay; a directory removed and made again is watched again at once; a
// project's dependencies stay watched while shells use it; and a real daemon tells shells
// (a generation bump) when it stops watching.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DependencyWatcher } from '../src/daemon/watcher.js';
import { ProtocolClient } from '../src/protocol/client.js';
import type { HelloInfo } from '../src/protocol/messages.js';
import type { ExportOutcome } from '../src/engine/types.js';
import { Sandbox } from './helpers/sandbox.js';
import { connectAs } from './helpers/daemon-client.js';
import { readGeneration } from './helpers/daemon-sandbox.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Inodes this process holds inotify watches on (from /proc/self/fdinfo). */
function inotifyInodes(): Set<number> {
  const out = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (!target.includes('inotify')) continue;
    let info = '';
    try { info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'); } catch { continue; }
    for (const m of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) out.add(parseInt(m[1] ?? '0', 16));
  }
  return out;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'envd-watch-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

function watcher(idleMs: number, onDegraded?: () => void): { w: DependencyWatcher; changed: string[]; unwatched: string[] } {
  const changed: string[] = [];
  const unwatched: string[] = [];
  const w = new DependencyWatcher({
    log: pino({ level: 'silent' }),
    enabled: true,
    debounceMs: 20,
    idleMs,
    onChange: (paths) => changed.push(...paths),
    onUnwatched: (dirs) => unwatched.push(...dirs),
    markers: () => ['.envrc'],
    ...(onDegraded === undefined ? {} : { onDegraded }),
  });
  cleanups.push(() => w.close());
  return { w, changed, unwatched };
}

describe.runIf(process.platform === 'linux')('DependencyWatcher (real inotify, real files)', () => {
  it('an idle directory synced with an active one is really unwatched', async () => {
    const root = tree();
    for (const d of ['a', 'b']) { mkdirSync(join(root, d)); writeFileSync(join(root, d, '.envrc'), 'export X=1\n'); }
    const a = join(root, 'a');
    const b = join(root, 'b');
    const { w, changed, unwatched } = watcher(400);
    // One sync adds both directories.
    w.sync([join(a, '.envrc'), join(b, '.envrc')], []);
    await until(() => w.count === 2, 5000, 'both watches ready');
    const inoB = [statSync(b).ino];
    expect(inoB.every((i) => inotifyInodes().has(i))).toBe(true);

    // Requests keep coming from a; b sees none and idles out at a sweep (every second).
    const keepA = setInterval(() => w.touch(a), 50);
    cleanups.push(() => clearInterval(keepA));
    await until(() => unwatched.includes(b), 5000, 'b unwatched');
    expect(unwatched).not.toContain(a);
    await sleep(100);
    // Its directory: no watch left.
    const live = inotifyInodes();
    expect(inoB.filter((i) => live.has(i))).toEqual([]);
    expect(live.has(statSync(a).ino)).toBe(true);

    writeFileSync(join(b, '.envrc'), 'export X=2\n');
    writeFileSync(join(a, '.envrc'), 'export X=2\n');
    await until(() => changed.includes(join(a, '.envrc')), 3000, 'the edit in a');
    await sleep(200);
    expect(changed).not.toContain(join(b, '.envrc'));

    // A request from b wakes it: edits there are seen again.
    w.touch(b);
    await until(() => w.count === 2, 5000, 'b watched again');
    writeFileSync(join(b, '.envrc'), 'export X=3\n');
    await until(() => changed.includes(join(b, '.envrc')), 3000, 'the edit in b after waking');
  });

  it('one inotify watch per directory, none per file: writes to other entries are not reported, the dependency is', async () => {
    const root = tree();
    const p = join(root, 'p');
    mkdirSync(p);
    writeFileSync(join(p, '.envrc'), 'export X=1\n');
    for (let i = 0; i < 200; i++) writeFileSync(join(p, `other-${i}.txt`), 'x');
    const { w, changed } = watcher(60_000);
    w.sync([join(p, '.envrc')], []);
    await until(() => w.count === 1 && w.pending === 0, 5000, 'the watch ready');
    const live = inotifyInodes();
    expect(live.has(statSync(p).ino)).toBe(true);
    expect(live.has(statSync(join(p, '.envrc')).ino)).toBe(false);
    // A build, an editor, a shell's history: entries come and go next to the .envrc.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200; i++) writeFileSync(join(p, `other-${i}.txt`), `x${round}`);
      writeFileSync(join(p, `new-${round}`), '');
      renameSync(join(p, `new-${round}`), join(p, `moved-${round}`));
      rmSync(join(p, `moved-${round}`));
    }
    await sleep(200);
    expect(changed).toEqual([]);
    writeFileSync(join(p, '.envrc'), 'export X=2\n');
    await until(() => changed.includes(join(p, '.envrc')), 3000, 'the edit');
    expect(changed.every((c) => c === join(p, '.envrc'))).toBe(true);
  });

  it('a watched directory removed and made again: its files are reported, and it is watched again as soon as its watched parent sees it made', async () => {
    const root = tree();
    const p = join(root, 'p');
    mkdirSync(p);
    writeFileSync(join(p, '.envrc'), 'export X=1\n');
    writeFileSync(join(p, 'env.sh'), '# v1\n');
    // The parent's marker too, as the daemon's walk up has it: the parent is watched.
    const deps = [join(root, '.envrc'), join(p, '.envrc'), join(p, 'env.sh')];
    const { w, changed } = watcher(60_000);
    w.sync(deps, []);
    await until(() => w.count === 3 && w.pending === 0, 5000, 'the watch ready');
    const oldIno = statSync(p).ino;
    rmSync(p, { recursive: true });
    await until(() => deps.slice(1).every((d) => changed.includes(d)), 3000, 'the files of the removed directory');
    expect(inotifyInodes().has(oldIno)).toBe(false);
    // Made again (a fresh clone, say), with no sync in between: watched at once, and the
    // files written before its watch was there are reported.
    changed.length = 0;
    mkdirSync(p);
    writeFileSync(join(p, '.envrc'), 'export X=2\n');
    writeFileSync(join(p, 'env.sh'), '# v2\n');
    await until(() => w.count === 3 && w.pending === 0, 5000, 'the new directory watched');
    expect(inotifyInodes().has(statSync(p).ino)).toBe(true);
    await until(() => changed.includes(join(p, '.envrc')), 3000, 'the new directory\'s files');
    await sleep(100);
    changed.length = 0;
    writeFileSync(join(p, 'env.sh'), '# v3\n');
    await until(() => changed.includes(join(p, 'env.sh')), 3000, 'an edit in the new directory');
  });

  // As root every directory can be watched: the user pass (scripts/test-as-user.sh) runs it.
  it.runIf(process.getuid?.() !== 0)('a directory on the way up that this user may not read is skipped quietly: not degraded, the project below still watched', async () => {
    const root = tree();
    const locked = join(root, 'locked');
    const p = join(locked, 'p');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, '.envrc'), 'export X=1\n');
    chmodSync(locked, 0o311);
    cleanups.push(() => chmodSync(locked, 0o755));
    const degraded: string[] = [];
    const { w, changed } = watcher(60_000, () => degraded.push('degraded'));
    w.sync([join(locked, '.envrc'), join(p, '.envrc')], []);
    await until(() => w.count === 1 && w.pending === 0, 5000, 'the project watched');
    expect(w.state).toBe('on');
    expect(degraded).toEqual([]);
    writeFileSync(join(p, '.envrc'), 'export X=2\n');
    await until(() => changed.includes(join(p, '.envrc')), 3000, 'the edit below the locked directory');
  });

  it('a missing dependency that is created as a directory is reported (nested pin files such as .config/mise.toml)', async () => {
    const root = tree();
    writeFileSync(join(root, '.envrc'), 'use go\n');
    const { w, changed } = watcher(60_000);
    w.sync([join(root, '.envrc'), join(root, '.config')], []);
    await until(() => w.count === 2 && w.pending === 0, 5000, 'the watch ready');
    await sleep(100);
    mkdirSync(join(root, '.config'));
    await until(() => changed.includes(join(root, '.config')), 3000, 'the new directory');
    // Next evaluation watches one level deeper: the file inside it.
    w.sync([join(root, '.envrc'), join(root, '.config/mise.toml')], []);
    await until(() => w.count === 2 && w.pending === 0, 5000, 'the nested watch ready');
    await sleep(100);
    writeFileSync(join(root, '.config/mise.toml'), '[tools]\ngo = "1.22"\n');
    await until(() => changed.includes(join(root, '.config/mise.toml')), 3000, 'the nested file');
  });

  it('resolves a dependency once, and again only after a change is seen on it (a retargeted link)', async () => {
    const root = tree();
    for (const d of ['a', 'b', 'c']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'a', '.envrc'), 'export X=1\n');
    writeFileSync(join(root, 'a', 'one.sh'), '# one\n');
    writeFileSync(join(root, 'b', 'two.sh'), '# two\n');
    const link = join(root, 'c', '.envrc');
    symlinkSync(join(root, 'a', 'one.sh'), link);
    const deps = [join(root, 'a', '.envrc'), link];
    const { w, changed } = watcher(60_000);
    w.sync(deps, []);
    await until(() => w.pending === 0 && w.count === 3, 5000, 'the watches ready');
    // Both paths and the link's target: three.
    expect(w.resolvedLookups).toBe(3);
    // The same list again (another project evaluated, a re-run on entry): nothing resolved.
    w.sync([...deps], []);
    expect(w.resolvedLookups).toBe(3);

    // The link now points elsewhere: seen on its name, resolved again, its new target watched.
    await sleep(100);
    symlinkSync(join(root, 'b', 'two.sh'), `${link}.new`);
    renameSync(`${link}.new`, link);
    await until(() => changed.includes(link), 3000, 'the retargeted link');
    w.sync([...deps], []);
    expect(w.resolvedLookups).toBe(5);
    await until(() => w.pending === 0 && w.count === 3, 5000, 'the new target watched');
    await sleep(100);
    writeFileSync(join(root, 'b', 'two.sh'), '# two, edited\n');
    await until(() => changed.includes(join(root, 'b', 'two.sh')), 3000, 'an edit of the new target');
  });

  it("a project's dependencies outside cwd's path stay watched while requests use them", async () => {
    const root = tree();
    const p = join(root, 'p');
    mkdirSync(join(p, 'config'), { recursive: true });
    mkdirSync(join(root, 'shared'));
    const deps = [join(p, '.envrc'), join(p, 'config', 'env.sh'), join(root, 'shared', 'common.sh')];
    for (const f of deps) writeFileSync(f, '# v1\n');
    const { w, changed, unwatched } = watcher(400);
    w.sync(deps, []);
    await until(() => w.count === 3, 5000, 'watches ready');
    // Requests from the project root, answered with an environment that depends on all three.
    const keep = setInterval(() => w.touch(p, deps), 50);
    cleanups.push(() => clearInterval(keep));
    await sleep(1800); // past the idle time and at least one sweep
    expect(unwatched).toEqual([]);
    writeFileSync(join(p, 'config', 'env.sh'), '# v2\n');
    writeFileSync(join(root, 'shared', 'common.sh'), '# v2\n');
    await until(() => changed.includes(deps[1] ?? '') && changed.includes(deps[2] ?? ''), 3000, 'both edits');
  });
});

describe.runIf(process.platform === 'linux')('daemon: unwatching an idle project', () => {
  it('bumps the generation so shells ask; a request wakes the watch and later edits are seen', async () => {
    const sb = new Sandbox();
    cleanups.push(() => sb.cleanup());
    const start = sb.envd(['daemon', 'start'], { env: { ENVD_WATCH_IDLE_MS: '600' } });
    expect(start.status, start.stderr).toBe(0);
    const dir = sb.mkdir('p');
    sb.write('p/lib/env.sh', 'export FROM_LIB=one\n');
    sb.write('p/.envrc', 'source_env lib/env.sh\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);

    const ask = async <T>(body: Parameters<ProtocolClient['request']>[0]): Promise<T> => {
      const c = await connectAs(sb);
      try {
        const reply = await c.request(body, 10_000);
        if (!('result' in reply)) throw new Error(`no result in ${JSON.stringify(reply)}`);
        return reply.result as T;
      } finally { c.close(); }
    };
    const hello = (): Promise<HelloInfo> => ask<HelloInfo>({ type: 'hello', client: { version: 't', protocol: 1, pid: process.pid, identity: null } });
    const gen = (): Promise<number> => readGeneration(sb);

    let env: Record<string, string> = { ...sb.env, PWD: dir };
    const first = await ask<ExportOutcome>({ type: 'export', req: { cwd: dir, env }, budgetMs: null });
    expect(first.change.set.FROM_LIB).toBe('one');
    env = { ...env, ...first.change.set };
    const watchedNow = async (): Promise<number> => (await hello()).watched;
    const deadline = Date.now() + 5000;
    while ((await watchedNow()) < 2 && Date.now() < deadline) await sleep(50);
    const g0 = await gen();

    // No requests: the project idles out, and the shells are told (generation moves).
    const idleBy = Date.now() + 6000;
    while ((await watchedNow()) > 0 && Date.now() < idleBy) await sleep(100);
    expect((await hello()).watched).toBe(0);
    expect(await gen()).toBeGreaterThan(g0);
    expect(readFileSync(sb.path('home', '.local', 'state', 'envd', 'daemon.log'), 'utf8')).toContain('directories unwatched');

    // The shell asks (as the bumped generation makes it): a no-op, and the watch is back,
    // for the sourced file in the subdirectory too.
    const again = await ask<ExportOutcome>({ type: 'export', req: { cwd: dir, env }, budgetMs: null });
    expect(again.kind).toBe('noop');
    const backBy = Date.now() + 5000;
    while ((await watchedNow()) < 2 && Date.now() < backBy) await sleep(50);
    expect((await hello()).watched).toBeGreaterThanOrEqual(2);
    const g1 = await gen();
    writeFileSync(join(dir, 'lib', 'env.sh'), 'export FROM_LIB=two\n');
    const seenBy = Date.now() + 5000;
    while ((await gen()) === g1 && Date.now() < seenBy) await sleep(50);
    expect(await gen()).toBeGreaterThan(g1);
  });
});
