import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Generation } from '../src/daemon/generation.js';
import { ROOT, Sandbox } from './helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'ev-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How many of `n` changes (each made by `change(i)`) left `file` with a new inode. */
function renamesOver(file: string, n: number, change: (i: number) => void): number {
  let last = statSync(file).ino;
  let renamed = 0;
  for (let i = 0; i < n; i++) {
    change(i);
    const now = statSync(file).ino;
    if (now !== last) renamed++;
    last = now;
  }
  return renamed;
}

/**
 * The tcsh hook cannot read the generation file without a process: it sees a new number
 * only as a new mtime second or a new inode (shells/tcsh/hook.tcsh, `-M` and `-I`).
 */
describe('generation file', () => {
  it('every bump changes the mtime second or the inode, also many in one second', async () => {
    const file = join(dir, 'generation');
    const errors: string[] = [];
    const g = new Generation(file, (m) => errors.push(m), false);
    g.needNewInodes();
    const seen = (): string => { const st = statSync(file); return `${Math.floor(st.mtimeMs / 1000)}:${st.ino}`; };
    // The bytes are in place when bump() returns; a new inode (tcsh's signal within one
    // second) follows off the answer's path, in the thread pool: waited for here.
    const changed = async (last: string): Promise<string> => {
      for (let waited = 0; waited < 2000; waited += 2) {
        const now = seen();
        if (now !== last) return now;
        await new Promise((r) => setTimeout(r, 2));
      }
      return last;
    };
    let last = seen();
    for (let i = 0; i < 50; i++) {
      const n = g.bump();
      expect(readFileSync(file, 'utf8')).toBe(`${n}\n`);
      const now = await changed(last);
      expect(now, `bump ${i}`).not.toBe(last);
      expect(readFileSync(file, 'utf8'), `bump ${i}`).toBe(`${n}\n`);
      last = now;
    }
    expect(errors).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('within one second no state comes back: a hook that looked before several changes still sees one', () => {
    const file = join(dir, 'generation-distinct');
    const errors: string[] = [];
    const g = new Generation(file, (m) => errors.push(m), false);
    g.needNewInodes();
    const state = (): string => { const st = statSync(file); return `${Math.floor(st.mtimeMs / 1000)}:${st.ino}`; };
    const seen = new Set([state()]);
    for (let i = 0; i < 40; i++) {
      g.bump();
      const now = state();
      // ext4 hands a freed inode to the next new file: without the old files held, the
      // second change in a second brought the first state back.
      expect(seen.has(now), `bump ${i}: ${now} again`).toBe(false);
      seen.add(now);
    }
    expect(errors).toEqual([]);
  });

  it('bumps while a rename is under way end with the newest number in place, and no temp file', async () => {
    const file = join(dir, 'generation-burst');
    const errors: string[] = [];
    const g = new Generation(file, (m) => errors.push(m));
    let n = 0;
    for (let i = 0; i < 20; i++) {
      n = g.bump();
      if (i % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(readFileSync(file, 'utf8')).toBe(`${n}\n`);
    await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(file, 'utf8')).toBe(`${n}\n`);
    expect(readdirSync(dir).filter((f) => f.startsWith('.generation-burst'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('without a shell that needs them (tcsh), changes within one second keep the inode; with one, each gets a new one', () => {
    const file = join(dir, 'generation-plain');
    const g = new Generation(file, () => undefined, false);
    const ino = (): number => statSync(file).ino;
    // Several bumps; at least two of them fall within one second (the loop takes far less).
    const first = ino();
    for (let i = 0; i < 5; i++) g.bump();
    expect(ino()).toBe(first);
    g.needNewInodes();
    // Four of the five are in the same second as the one before (the fifth may start one).
    expect(renamesOver(file, 5, () => g.bump())).toBeGreaterThanOrEqual(4);
  });

  it('the daemon renames the file for same-second changes once tcsh has asked it something, not for the CLI asking for other formats', () => {
    const sb = new Sandbox();
    try {
      const a = sb.mkdir('a');
      sb.write('a/.envrc', 'export X=1\n');
      expect(sb.envd(['daemon', 'start']).status).toBe(0);
      // In the daemon's first seconds too: no tcsh was answered without it.
      const file = join(sb.runtimeDir, 'generation');
      const ino = (): number => statSync(file).ino;
      const before = ino();
      for (const verb of ['deny', 'allow', 'deny', 'allow']) expect(sb.envd([verb, a]).status).toBe(0);
      expect(ino()).toBe(before);
      // The CLI in Node (not bin/envd's front door) asking for JSON, and exec: not tcsh,
      // so changes keep the inode (a rename costs the daemon ~0.5 ms on each of them).
      for (const args of [['export', 'json'], ['exec', a, 'true']]) {
        const n = sb.run(process.execPath, [join(ROOT, 'dist', 'envd.cjs'), ...args], { cwd: a, env: { PWD: a } });
        expect(n.status, n.stderr).toBe(0);
      }
      for (const verb of ['deny', 'allow', 'deny', 'allow']) expect(sb.envd([verb, a]).status).toBe(0);
      expect(ino()).toBe(before);
      // tcsh's hook asks through bin/envd's front door: from now on, new inodes.
      const r = sb.envd(['export', 'tcsh'], { cwd: a, env: { PWD: a } });
      expect(r.status, r.stderr).toBe(0);
      const verbs = ['deny', 'allow', 'deny', 'allow'];
      expect(renamesOver(file, verbs.length, (i) => expect(sb.envd([verbs[i] ?? '', a]).status).toBe(0))).toBeGreaterThan(0);
    } finally {
      sb.cleanup();
    }
  }, 30_000);

  it('in its first seconds, a new inode for each same-second change only once a tcsh was answered without the daemon', () => {
    const file = join(dir, 'generation-starting');
    const marker = join(dir, 'tcsh-answered-starting');
    const g = new Generation(file, () => undefined, false, { marker, ms: 60_000 });
    const ino = (): number => statSync(file).ino;
    const first = ino();
    for (let i = 0; i < 5; i++) g.bump();
    expect(ino()).toBe(first);
    writeFileSync(marker, '');
    expect(renamesOver(file, 5, () => g.bump())).toBeGreaterThanOrEqual(4);
  });

  it('envd export tcsh answered without a daemon says so, and the daemon it starts renames same-second changes', async () => {
    const sb = new Sandbox();
    try {
      const a = sb.mkdir('a');
      sb.write('a/.envrc', 'export X=1\n');
      expect(sb.envd(['allow', a], { env: { ENVD_NO_DAEMON: '1' } }).status).toBe(0);
      expect(existsSync(join(sb.runtimeDir, 'daemon.sock'))).toBe(false);
      // bin/envd's front door finds no daemon: the CLI answers in-process, then starts one.
      const r = sb.envd(['export', 'tcsh'], { cwd: a, env: { PWD: a } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('X');
      expect(existsSync(join(sb.runtimeDir, 'tcsh-answered'))).toBe(true);
      const file = join(sb.runtimeDir, 'generation');
      for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((res) => setTimeout(res, 20));
      // Within the daemon's first seconds (allow and deny wait for it to answer).
      const verbs = ['allow', 'deny', 'allow', 'deny'];
      expect(renamesOver(file, verbs.length, (i) => expect(sb.envd([verbs[i] ?? '', a]).status).toBe(0))).toBeGreaterThan(1);
    } finally {
      sb.cleanup();
    }
  }, 30_000);
});
