import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Generation } from '../src/daemon/generation.js';

const dir = mkdtempSync(join(tmpdir(), 'ev-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The tcsh hook cannot read the generation file without a process: it sees a new number
 * only as a new mtime second or a new inode (shells/tcsh/hook.tcsh, `-M` and `-I`).
 */
describe('generation file', () => {
  it('every bump changes the mtime second or the inode, also many in one second', async () => {
    const file = join(dir, 'generation');
    const errors: string[] = [];
    const g = new Generation(file, (m) => errors.push(m));
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
});
