import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
  it('every bump changes the mtime second or the inode, also many in one second', () => {
    const file = join(dir, 'generation');
    const errors: string[] = [];
    const g = new Generation(file, (m) => errors.push(m));
    const seen = (): string => { const st = statSync(file); return `${Math.floor(st.mtimeMs / 1000)}:${st.ino}`; };
    let last = seen();
    for (let i = 0; i < 50; i++) {
      const n = g.bump();
      expect(readFileSync(file, 'utf8')).toBe(`${n}\n`);
      const now = seen();
      expect(now, `bump ${i}`).not.toBe(last);
      last = now;
    }
    expect(errors).toEqual([]);
  });
});
