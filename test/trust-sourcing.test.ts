import { describe, expect, it } from 'vitest';
import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { allowIn, Sandbox, sandboxEachTest } from './helpers/sandbox.js';
import { step } from './helpers/steps.js';

// Files an approved .envrc pulls in, through the real
// binary and a real daemon.

let sb: Sandbox;
let env: Record<string, string>;
sandboxEachTest((s, e) => { sb = s; env = e; });

const allow = (dir: string): void => allowIn(sb, dir);

function linesWith(text: string, needle: string): number {
  return text.split('\n').filter((l) => l.includes(needle)).length;
}

describe('sourcing', () => {
  it('source_env <(cmd) runs what the approved file produced', () => {
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env <(echo export X=1)\nsource_env <(printf "export Y=%s\\n" "$PWD")\n');
    allow(p);
    const s = step(sb, p, env);
    expect(s.stderr).not.toMatch(/refusing|blocked|does not exist/);
    expect(s.env.X).toBe('1');
    expect(s.env.Y).toBe(p);
  });

  it("a sourced symlink into /dev/fd is refused: there it would name one of envd's own descriptors", () => {
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env local.sh\nexport A=1\n');
    symlinkSync('/dev/fd/0', join(p, 'local.sh'));
    allow(p);
    const s = step(sb, p, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toContain("names one of envd's own descriptors");
  });

  it('a sourced symlink retargeted at other content is blocked, said once', () => {
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env local.sh\n');
    sb.write('p/a.sh', 'export V=a\n');
    sb.write('p/b.sh', 'export V=b\n');
    symlinkSync('a.sh', join(p, 'local.sh'));
    allow(p);
    const s1 = step(sb, p, env);
    expect(s1.env.V).toBe('a');
    // Retarget atomically, as `ln -sfn` users and deploy tools do.
    symlinkSync('b.sh', join(p, 'local.tmp'));
    renameSync(join(p, 'local.tmp'), join(p, 'local.sh'));
    const s2 = step(sb, p, s1.env);
    expect(s2.env.V).toBeUndefined();
    expect(linesWith(s2.stderr, 'since the approval')).toBe(1);
    expect(s2.stderr).toContain(`local.sh changed since the approval. Run 'envd allow' to approve its content`);
  });

  it('a file sourced for the first time after the approval is blocked, said once', () => {
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env_if_exists local.sh\nexport BASE=1\n');
    allow(p);
    const s1 = step(sb, p, env);
    expect(s1.env.BASE).toBe('1');
    sb.write('p/local.sh', 'export SNEAKY=1\n');
    const s2 = step(sb, p, s1.env);
    expect(s2.env.SNEAKY).toBeUndefined();
    expect(linesWith(s2.stderr, 'is new since the approval')).toBe(1);
  });

  it('deleting a file source_env_if_exists loads keeps the environment loaded; bringing it back changed is blocked', () => {
    const p = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env_if_exists local.sh\ndotenv_if_exists\nexport BASE=1\n');
    const local = sb.write('p/local.sh', 'export L=1\n');
    const dot = sb.write('p/.env', 'D=1\n');
    allow(p);
    const s1 = step(sb, p, env);
    expect([s1.env.BASE, s1.env.L, s1.env.D]).toEqual(['1', '1', '1']);

    rmSync(local);
    rmSync(dot);
    const s2 = step(sb, p, s1.env);
    expect(s2.stderr).not.toMatch(/blocked/);
    expect(s2.env.BASE).toBe('1');
    expect(s2.env.L).toBeUndefined();
    expect(s2.env.D).toBeUndefined();

    // Back with the approved content: fine.
    sb.write('p/local.sh', 'export L=1\n');
    const s3 = step(sb, p, s2.env);
    expect(s3.env.L).toBe('1');

    // Back with other content: needs an approval.
    rmSync(local);
    const s4 = step(sb, p, s3.env);
    expect(s4.env.BASE).toBe('1');
    sb.write('p/local.sh', 'export L=evil\n');
    const s5 = step(sb, p, s4.env);
    expect(s5.env.L).toBeUndefined();
    expect(s5.env.BASE).toBeUndefined();
    expect(s5.stderr).toContain("local.sh changed since the approval. Run 'envd allow'");
    allow(p);
    expect(step(sb, p, s5.env).env.L).toBe('evil');
  });
});
