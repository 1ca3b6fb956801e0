import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';
import { step } from './helpers/steps.js';
import { createConnection } from 'node:net';

/** One request in the hook records format (docs/architecture.md), as the zsh hook sends it. */
function hookAsk(socket: string, cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolveAsk, reject) => {
    const c = createConnection(socket);
    const fields = ['ENVD-HOOK', '1', '7', 'zsh', '', cwd];
    for (const [k, v] of Object.entries(env)) fields.push(k, v);
    fields.push('');
    c.write(fields.map((f) => `${f}\0`).join(''));
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      got += d;
      if (got.includes('\0z\u00007\0')) { c.end(); resolveAsk(got); }
    });
    c.on('error', reject);
    setTimeout(() => { c.destroy(); reject(new Error(`no answer: ${JSON.stringify(got)}`)); }, 10_000).unref();
  });
}

let sb: Sandbox;
beforeEach(() => { sb = new Sandbox({ daemon: true }); });
afterEach(() => sb.cleanup());

describe('cached results across shells (daemon)', () => {
  it("a result cached for one shell never carries that shell's PWD/OLDPWD/SHLVL into another", () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    expect(sb.envd(['allow'], { cwd: proj }).status).toBe(0);
    const first = { ...sb.env, PATH: '/usr/bin:/bin', SHLVL: '1' };
    const s1 = step(sb, proj, first);
    expect(s1.env.A).toBe('1');
    // Another shell, with its own OLDPWD and SHLVL, hits the cache.
    const second = { ...sb.env, PATH: '/usr/bin:/bin', SHLVL: '3', OLDPWD: '/somewhere' };
    const s2 = step(sb, proj, second);
    expect(s2.env.A).toBe('1');
    expect(s2.change.OLDPWD).toBeUndefined();
    expect(s2.change.SHLVL).toBeUndefined();
    expect(s2.stderr).not.toMatch(/OLDPWD|SHLVL/);
    // And leaving restores that shell's own values.
    const s3 = step(sb, sb.root, s2.env);
    expect(s3.env.OLDPWD).toBe('/somewhere');
    expect(s3.env.SHLVL).toBe('3');
    expect(s3.env.A).toBeUndefined();
  });
});

describe('files created where a shell is (daemon)', () => {
  it('a new .envrc in the current directory bumps the generation and is seen at the next prompt', async () => {
    const dir = sb.mkdir('here/deeper');
    const env = { ...sb.env, PATH: '/usr/bin:/bin' };
    // Asked the way a prompt hook asks: hook records on the daemon's socket (the CLI
    // outside any project answers by itself without asking the daemon).
    expect(sb.envd(['daemon', 'start']).status).toBe(0);
    const first = await hookAsk(`${sb.env.XDG_RUNTIME_DIR}/envd/daemon.sock`, dir, env);
    expect(first).not.toContain('\0x\0');
    const s1 = step(sb, dir, env);
    expect(s1.change).toEqual({});
    const genFile = `${sb.env.XDG_RUNTIME_DIR}/envd/generation`;
    const { readFileSync } = await import('node:fs');
    const g1 = readFileSync(genFile, 'utf8');
    // Give the watcher a moment to establish, then create the file.
    await new Promise((r) => setTimeout(r, 500));
    sb.write('here/.envrc', 'export NEW=1\n');
    let g2 = g1;
    for (let i = 0; i < 50 && g2 === g1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      g2 = readFileSync(genFile, 'utf8');
    }
    expect(g2).not.toBe(g1);
    const s2 = step(sb, dir, s1.env);
    expect(s2.stderr).toContain("is blocked. Run 'envd allow'");
  });
});

describe("envd's own bookkeeping (daemon)", () => {
  it('recording the sourced files of a first evaluation does not bump the generation (no shell asks again)', async () => {
    const { readFileSync } = await import('node:fs');
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env_if_exists .envrc.local\nexport A=1\n');
    expect(sb.envd(['allow'], { cwd: proj }).status).toBe(0);
    const genFile = `${sb.env.XDG_RUNTIME_DIR}/envd/generation`;
    const env = { ...sb.env, PATH: '/usr/bin:/bin' };
    // The allow itself is news (a bump); let that settle first.
    step(sb, sb.root, env);
    await new Promise((r) => setTimeout(r, 800));
    const s1 = step(sb, proj, env);
    expect(s1.env.A).toBe('1');
    const g1 = readFileSync(genFile, 'utf8');
    // The allowlist write (recordSourced) lands and the watcher reports it meanwhile.
    await new Promise((r) => setTimeout(r, 1200));
    const list = readFileSync(`${sb.home}/.local/share/envd/allowlist.json`, 'utf8');
    expect(list).toContain('"sourced": {');
    expect(readFileSync(genFile, 'utf8')).toBe(g1);
  });
});
