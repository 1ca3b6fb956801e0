/**
 * ResultCache on its own: no bash, no daemon. Runs are plain functions returning results
 * whose fingerprints are of real files in a temporary directory, so validity is judged by
 * the same stats a request makes. The cache seen through the daemon is in
 * engine-cache.test.ts and daemon-engine.test.ts.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compactResult, ResultCache } from '../src/engine/cache.js';
import type { EvalResult } from '../src/engine/evaluate.js';
import { fingerprint } from '../src/engine/fingerprint.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'envd-cache-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

/** A file on disk, written now. */
function file(name: string, content = 'x\n'): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Move a file's mtime and content so its fingerprint no longer matches. */
function edit(p: string): void {
  writeFileSync(p, 'edited, longer\n');
  const t = new Date(Date.now() - 10_000);
  utimesSync(p, t, t);
}

function loaded(deps: string[], value = '1', kind: EvalResult['kind'] = 'loaded'): EvalResult {
  return { kind, env: null, delta: { A: value }, output: [], detail: '', deps: deps.map((p) => fingerprint(p)), sourced: {} };
}

/** A run that counts its calls and can be held open until released. */
function counted(result: () => EvalResult): { run: () => Promise<EvalResult>; calls: () => number; hold: () => () => void } {
  let n = 0;
  let gate: Promise<void> | null = null;
  return {
    run: async () => {
      n++;
      if (gate !== null) await gate;
      return result();
    },
    calls: () => n,
    hold: () => {
      let release = (): void => undefined;
      gate = new Promise<void>((r) => { release = r; });
      return () => { gate = null; release(); };
    },
  };
}

const target = (hash: string) => ({ dir: '/p', realFile: '/p/.envrc', hash, kind: 'envrc' });

describe('ResultCache', () => {
  it('keys ignore what differs between terminals, and nothing else', () => {
    const c = new ResultCache();
    const base = { PATH: '/bin', HOME: '/h' };
    const k = c.key(target('a'), base);
    expect(c.key(target('a'), { ...base, PWD: '/x', OLDPWD: '/y', SHLVL: '3', _: 'z', TMUX_PANE: '%1', COLUMNS: '80' })).toBe(k);
    expect(c.key(target('a'), { ...base, PATH: '/usr/bin' })).not.toBe(k);
    expect(c.key(target('b'), base)).not.toBe(k);
    expect(c.key({ ...target('a'), dir: '/q' }, base)).not.toBe(k);
  });

  it('shares one copy of equal bases, without per-terminal names', () => {
    const c = new ResultCache();
    const one = c.internBase({ PATH: '/bin', PWD: '/a' });
    const two = c.internBase({ PATH: '/bin', PWD: '/b', SHLVL: '2' });
    expect(two).toBe(one);
    expect(one).toEqual({ PATH: '/bin' });
  });

  it('a second start for a running key joins it; the result is cached and reported', async () => {
    const env = file('.envrc');
    let settled = 0;
    const c = new ResultCache({ onSettled: () => { settled++; } });
    const r = counted(() => loaded([env]));
    const release = r.hold();
    const first = c.start('k', r.run);
    const second = c.start('k', r.run);
    expect(second).toBe(first);
    release();
    await first;
    expect(r.calls()).toBe(1);
    expect(settled).toBe(1);
    expect(c.get('k')?.delta).toEqual({ A: '1' });
    expect(c.size).toBe(1);
  });

  it('startFresh waits for the running evaluation and runs again', async () => {
    const env = file('.envrc');
    const c = new ResultCache();
    let value = 'old';
    const r = counted(() => loaded([env], value));
    const release = r.hold();
    const running = c.start('k', r.run);
    const fresh = c.startFresh('k', r.run);
    value = 'new';
    release();
    await running;
    expect((await fresh).delta).toEqual({ A: 'new' });
    expect(r.calls()).toBe(2);
    expect(c.get('k')?.delta).toEqual({ A: 'new' });
  });

  it('a blocked result is reported but not cached; a failed run leaves no entry', async () => {
    const env = file('.envrc');
    const c = new ResultCache();
    expect((await c.start('b', () => Promise.resolve(loaded([env], '1', 'blocked')))).kind).toBe('blocked');
    expect(c.get('b')).toBeNull();
    await expect(c.start('e', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(c.get('e')).toBeNull();
    expect(c.size).toBe(0);
  });

  it('an entry whose file changed is dropped on lookup', async () => {
    const env = file('.envrc');
    const c = new ResultCache();
    await c.start('k', () => Promise.resolve(loaded([env])));
    const v = c.version;
    edit(env);
    expect(c.get('k')).toBeNull();
    expect(c.size).toBe(0);
    expect(c.version).toBeGreaterThan(v);
  });

  it('keeps the most recently used entries', async () => {
    const env = file('.envrc');
    const c = new ResultCache({ max: 2 });
    await c.start('a', () => Promise.resolve(loaded([env], 'a')));
    await c.start('b', () => Promise.resolve(loaded([env], 'b')));
    expect(c.get('a')).not.toBeNull(); // a is now the most recent
    await c.start('c', () => Promise.resolve(loaded([env], 'c')));
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeNull();
    expect(c.get('a')?.delta).toEqual({ A: 'a' });
    expect(c.get('c')?.delta).toEqual({ A: 'c' });
  });

  it('invalidate drops what depends on a changed path and re-runs it when the env file is unchanged', async () => {
    const env = file('.envrc');
    const lib = file('lib.sh');
    const other = file('other.envrc');
    const c = new ResultCache();
    const r = counted(() => loaded([env, lib]));
    await c.start('k', r.run);
    await c.start('o', () => Promise.resolve(loaded([other])));
    expect(c.dependencies().sort()).toEqual([env, lib, other].sort());

    edit(lib);
    c.invalidate([lib]);
    expect(c.get('o')).not.toBeNull();
    await c.idle();
    expect(r.calls()).toBe(2); // run again in the background, with lib.sh's new fingerprint
    expect(c.get('k')).not.toBeNull();

    // A change to the directory above a dependency counts too.
    c.invalidate([dir]);
    await c.idle();
    expect(r.calls()).toBe(3);

    // The env file itself changed: its approval may not hold, so nothing runs.
    edit(env);
    c.invalidate([env]);
    await c.idle();
    expect(r.calls()).toBe(3);
    expect(c.get('k')).toBeNull();
  });

  it('a run whose dependency changed while it ran is handed out, not kept, and run again; its files stay listed meanwhile', async () => {
    const env = file('.envrc');
    const lib = file('lib.sh');
    const c = new ResultCache();
    let runs = 0;
    let gate: Promise<void> | null = null;
    let release = (): void => undefined;
    // Like evaluate.ts: the fingerprints are taken before the run reads anything.
    const run = async (): Promise<EvalResult> => {
      runs++;
      const r = loaded([env, lib], String(runs));
      if (gate !== null) await gate;
      return r;
    };
    await c.start('k', run);
    expect(c.get('k')).not.toBeNull();

    gate = new Promise<void>((r) => { release = r; });
    edit(lib);
    c.invalidate([lib]);
    expect(runs).toBe(2);
    // While it runs again, what it depended on is still listed (the daemon keeps watching it).
    expect(c.dependencies().sort()).toEqual([env, lib].sort());
    writeFileSync(lib, 'edited again while the run was held, longer still\n');
    gate = null;
    release();
    // The second run landed out of date: not kept, a third starts by itself and is kept.
    for (let i = 0; i < 5 && runs < 3; i++) await c.idle();
    await c.idle();
    expect(runs).toBe(3);
    expect(c.get('k')?.delta?.A).toBe('3');
  });

  it('a run whose env file changed while it ran is handed out, not kept, and not run again', async () => {
    const env = file('.envrc');
    const c = new ResultCache();
    let runs = 0;
    // Like an extension that rewrites the .envrc: the fingerprints were taken before.
    const run = async (): Promise<EvalResult> => {
      runs++;
      const r = loaded([env]);
      await Promise.resolve();
      edit(env);
      return r;
    };
    expect((await c.start('k', run)).delta).toEqual({ A: '1' });
    for (let i = 0; i < 5; i++) await c.idle();
    expect(runs).toBe(1);
    expect(c.get('k')).toBeNull();
    // Still listed (watched) until the file's new content has a result.
    expect(c.dependencies()).toEqual([env]);
  });

  it('a result dropped because its env file changed keeps its files listed until that file has a result again', async () => {
    const env = file('.envrc');
    const lib = file('lib.sh');
    const c = new ResultCache({ max: 2 });
    await c.start('k', () => Promise.resolve(loaded([env, lib])));
    edit(env);
    c.invalidate([env]);
    expect(c.size).toBe(0);
    // Shells in the project still depend on these: the daemon keeps watching them.
    expect(c.dependencies().sort()).toEqual([env, lib].sort());
    // The new content's result (another key) takes over; nothing lingers beside it.
    const other = file('other.sh');
    await c.start('k2', () => Promise.resolve(loaded([env, other])));
    expect(c.dependencies().sort()).toEqual([env, other].sort());
    // Bounded: at most `max` dropped results linger.
    for (const name of ['a', 'b', 'c']) {
      const f = file(`${name}.envrc`);
      await c.start(name, () => Promise.resolve(loaded([f])));
      edit(f);
      c.invalidate([f]);
    }
    expect(c.dependencies().filter((p) => p.endsWith('.envrc') && p !== env)).toHaveLength(2);
  });

  it('a file that changes during every run stops the re-runs after two', async () => {
    const env = file('.envrc');
    const log = file('log.txt');
    const c = new ResultCache();
    let runs = 0;
    const run = async (): Promise<EvalResult> => {
      runs++;
      const r = loaded([env, log]);
      await new Promise((done) => setTimeout(done, 5));
      writeFileSync(log, `run ${runs} ${'x'.repeat(runs)}\n`);
      return r;
    };
    await c.start('k', run);
    for (let i = 0; i < 10; i++) await c.idle();
    expect(runs).toBe(3);
    expect(c.get('k')).toBeNull();
    // Still listed (watched): the next change is seen, and the next request runs it.
    expect(c.dependencies().sort()).toEqual([env, log].sort());
  });

  it('clear drops everything and moves the version', async () => {
    const c = new ResultCache();
    await c.start('k', () => Promise.resolve(loaded([file('.envrc')])));
    const v = c.version;
    c.clear();
    expect(c.size).toBe(0);
    expect(c.version).toBeGreaterThan(v);
  });

  it('compactResult keeps only what the evaluation changed, per-terminal names never', () => {
    const r: EvalResult = { kind: 'loaded', env: { PATH: '/bin', A: '2', PWD: '/elsewhere' }, output: [], detail: '', deps: [], sourced: {} };
    const c = compactResult(r, { PATH: '/bin', B: 'gone', PWD: '/p' });
    expect(c.env).toBeNull();
    expect({ ...c.delta }).toEqual({ A: '2', B: null });
  });
});
