import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowIn, Sandbox, sandboxEachTest } from './helpers/sandbox.js';
import { step } from './helpers/steps.js';

// An approval binds exact content at one place. Through the real
// binary, with a real daemon (the CLI asks it) and without one (in-process), as root and,
// in the user pass, as a normal user under umask 002.

let sb: Sandbox;
let env: Record<string, string>;
const allow = (dir: string): void => allowIn(sb, dir);

/** The stderr lines that carry envd's words (not the file's own output). */
function envdLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes('envd:'));
}

for (const daemon of [true, false]) {
  describe(`an approval binds exact content at one place (${daemon ? 'daemon' : 'in-process'})`, () => {
    sandboxEachTest((s, e) => { sb = s; env = e; }, { daemon });
    it('1: a one-byte edit with size and mtime put back is blocked, with one message naming the command', () => {
      const p = sb.mkdir('p');
      const rc = sb.write('p/.envrc', 'export A=1\n');
      allow(p);
      const s1 = step(sb, p, env);
      expect(s1.env.A).toBe('1');
      const st = statSync(rc, { bigint: true });
      const ref = sb.path('mtime-ref');
      expect(sb.run('touch', ['-r', rc, ref]).status).toBe(0);
      writeFileSync(rc, 'export A=2\n');
      expect(sb.run('touch', ['-r', ref, rc]).status).toBe(0);
      const after = statSync(rc, { bigint: true });
      expect(after.size).toBe(st.size);
      expect(after.mtimeNs).toBe(st.mtimeNs);
      const s2 = step(sb, p, s1.env);
      expect(s2.env.A).toBeUndefined();
      const blocked = envdLines(s2.stderr).filter((l) => l.includes('blocked'));
      expect(blocked).toHaveLength(1);
      expect(blocked[0]).toContain(`${rc} is blocked. Run 'envd allow' to approve its content`);
      // Not said again at the next prompt, nor when another file's approval moves the
      // allowlist (nothing is loaded: no 'unloading' either); loads once approved.
      expect(step(sb, p, s2.env).stderr).toBe('');
      sb.write('other/.envrc', 'export B=1\n');
      allow(sb.path('other'));
      expect(step(sb, p, s2.env).stderr).toBe('');
      allow(p);
      expect(step(sb, p, s2.env).env.A).toBe('2');
    });

    it('2: a byte-for-byte copy in another directory is blocked there', () => {
      const a = sb.mkdir('a');
      const b = sb.mkdir('b');
      sb.write('a/.envrc', 'export A=1\n');
      allow(a);
      copyFileSync(join(a, '.envrc'), join(b, '.envrc'));
      expect(step(sb, a, env).env.A).toBe('1');
      const s = step(sb, b, env);
      expect(s.env.A).toBeUndefined();
      expect(s.stderr).toContain(`${join(b, '.envrc')} is blocked. Run 'envd allow'`);
    });

    it('3: the bytes that were hashed are the bytes evaluated: a swap during the run never runs', () => {
      const p = sb.mkdir('p');
      const rc = sb.write('p/.envrc', 'export GOOD=1\n');
      allow(p);
      // A user extension runs before the .envrc's bytes: it swaps the file on disk (and
      // counts its runs).
      const runs = sb.path('runs');
      sb.write('home/.config/envd/envdrc', `echo run >> ${JSON.stringify(runs)}\nprintf 'export EVIL=1\\n' > ${JSON.stringify(rc)}\n`);
      const s1 = step(sb, p, env);
      expect(s1.env.GOOD).toBe('1');
      expect(s1.env.EVIL).toBeUndefined();
      // The run saw its env file change under it: its result is handed out, not kept, and
      // the old bytes are not run again (the file's new content needs its own approval).
      // A daemon that is told to stop finishes what it runs first.
      if (daemon) expect(sb.envd(['daemon', 'stop']).status).toBe(0);
      expect(readFileSync(runs, 'utf8')).toBe('run\n');
      expect(readFileSync(rc, 'utf8')).toBe('export EVIL=1\n');
      // What is on disk now is new content: blocked, never served from a cache.
      const s2 = step(sb, p, s1.env);
      expect(s2.env.EVIL).toBeUndefined();
      expect(s2.env.GOOD).toBeUndefined();
      expect(s2.stderr).toContain('is blocked');
    });

    it('4: files pulled in by source_env, source_up and dotenv are approved with the .envrc; editing one blocks', () => {
      sb.write('.envrc', 'export UP=1\n');
      const p = sb.mkdir('p');
      sb.write('p/.envrc', 'source_up\nsource_env .envrc.local\ndotenv\n');
      const up = sb.path('.envrc');
      const local = sb.write('p/.envrc.local', 'export FROM_LOCAL=1\n');
      const dot = sb.write('p/.env', 'FROM_DOTENV=yes\n');
      allow(p);
      const s1 = step(sb, p, env);
      expect([s1.env.UP, s1.env.FROM_LOCAL, s1.env.FROM_DOTENV]).toEqual(['1', '1', 'yes']);

      for (const [file, text] of [[local, 'export FROM_LOCAL=evil\n'], [dot, 'FROM_DOTENV=evil\n'], [up, 'export UP=evil\n']] as const) {
        writeFileSync(file, text);
        const s = step(sb, p, s1.env);
        expect(s.env.FROM_LOCAL).toBeUndefined();
        expect(s.env.UP).toBeUndefined();
        const blocked = envdLines(s.stderr).filter((l) => l.includes('blocked'));
        expect(blocked).toHaveLength(1);
        expect(blocked[0]).toContain(`${file} changed since the approval. Run 'envd allow' to approve its content`);
        allow(p);
        expect(step(sb, p, s.env).stderr).not.toContain('blocked');
      }
    });

    it('7: a whitelist prefix covers whole path components only', () => {
      const good = sb.mkdir('w/proj');
      const evil = sb.mkdir('w/proj-evil');
      sb.mkdir('w/projX');
      sb.write('w/proj/.envrc', 'export W=1\n');
      sb.write('w/proj-evil/.envrc', 'export W=evil\n');
      sb.write('w/projX/.envrc', 'export W=x\n');
      sb.write('home/.config/envd/envd.toml', `[whitelist]\nprefix = [${JSON.stringify(good)}]\n`);
      expect(step(sb, good, env).env.W).toBe('1');
      for (const dir of [evil, sb.path('w/projX')]) {
        const s = step(sb, dir, env);
        expect(s.env.W).toBeUndefined();
        expect(s.stderr).toContain('is blocked');
      }
    });
  });
}
