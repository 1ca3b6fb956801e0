import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, sandboxEachTest } from './helpers/sandbox.js';
import { step } from './helpers/steps.js';
import { contentHash, openAllowlist } from '../src/allowlist/index.js';
import { loadConfig } from '../src/config/config.js';
import { resolvePaths } from '../src/config/paths.js';

// An approval is for the place where the file is evaluated. Through the
// real binary and a real daemon (the CLI asks it), as root and as a normal user.

let sb: Sandbox;
let env: Record<string, string>;
sandboxEachTest((s, e) => { sb = s; env = e; });

function envd(cwd: string, ...args: string[]): string {
  const r = sb.envd(args, { cwd, env: { PWD: cwd } });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

/** p/.envrc, approved, and evil/.envrc -> ../p/.envrc (made by anyone who can write evil/). */
function approvedWithSymlinkElsewhere(): { p: string; evil: string } {
  const p = sb.mkdir('p');
  const evil = sb.mkdir('evil');
  sb.mkdir('p/bin');
  sb.mkdir('evil/bin');
  sb.write('p/.envrc', 'PATH_add bin\nexport WHERE=$PWD\n');
  envd(p, 'allow');
  symlinkSync('../p/.envrc', join(evil, '.envrc'));
  return { p, evil };
}

describe('29: an approval is for the place where the file is evaluated', () => {
  it('a symlink elsewhere to an approved .envrc is blocked there', () => {
    const { p, evil } = approvedWithSymlinkElsewhere();
    const inP = step(sb, p, env);
    expect(inP.env.WHERE).toBe(p);
    const s = step(sb, evil, env);
    expect(s.env.WHERE).toBeUndefined();
    expect(s.env.PATH).toBe(env.PATH);
    expect(s.stderr).toContain(`is blocked. Run 'envd allow' to approve its content`);
  });

  it('the cache never serves one directory\'s result to another', () => {
    const { p, evil } = approvedWithSymlinkElsewhere();
    envd(evil, 'allow');
    // evil/ first, so a cache shared with p/ would hand p/ evil's PATH.
    const inEvil = step(sb, evil, env);
    expect(inEvil.env.WHERE).toBe(evil);
    expect(inEvil.env.PATH?.split(':')[0]).toBe(join(evil, 'bin'));
    const inP = step(sb, p, env);
    expect(inP.env.WHERE).toBe(p);
    expect(inP.env.PATH?.split(':')[0]).toBe(join(p, 'bin'));
    expect(inP.env.PATH).not.toContain(evil);
    // And again, now that both are cached.
    expect(step(sb, evil, env).env.PATH?.split(':')[0]).toBe(join(evil, 'bin'));
    expect(step(sb, p, env).env.PATH).not.toContain(evil);
  });

  it('envd allow in the symlinked place approves that place only', () => {
    const p = sb.mkdir('p');
    const evil = sb.mkdir('evil');
    sb.write('p/.envrc', 'export WHERE=$PWD\n');
    symlinkSync('../p/.envrc', join(evil, '.envrc'));
    envd(evil, 'allow');
    expect(step(sb, evil, env).env.WHERE).toBe(evil);
    const s = step(sb, p, env);
    expect(s.env.WHERE).toBeUndefined();
    expect(s.stderr).toContain('is blocked');
  });

  it('envd deny in the symlinked place denies that place, not the file it points to', () => {
    const { p, evil } = approvedWithSymlinkElsewhere();
    envd(evil, 'allow');
    expect(step(sb, evil, env).env.WHERE).toBe(evil);
    envd(evil, 'deny');
    const s = step(sb, evil, env);
    expect(s.env.WHERE).toBeUndefined();
    expect(s.stderr).toContain('is blocked');
    expect(step(sb, p, env).env.WHERE).toBe(p);
  });

  it('a symlinked directory is the same place: one approval covers both spellings, each evaluated as itself', () => {
    const real = sb.mkdir('real');
    sb.mkdir('real/bin');
    sb.write('real/.envrc', 'PATH_add bin\nexport WHERE=$PWD\n');
    const link = join(sb.root, 'link');
    symlinkSync(real, link);
    envd(link, 'allow');
    const inLink = step(sb, link, env);
    expect(inLink.env.WHERE).toBe(link);
    expect(inLink.env.PATH?.split(':')[0]).toBe(join(link, 'bin'));
    const inReal = step(sb, real, env);
    expect(inReal.env.WHERE).toBe(real);
    expect(inReal.env.PATH?.split(':')[0]).toBe(join(real, 'bin'));
  });

  it('a record made before places (real path of a file that is not a symlink) still approves it', async () => {
    const p = sb.mkdir('old');
    const rc = sb.write('old/.envrc', 'export OLD=1\n');
    const paths = resolvePaths(sb.env);
    const real = realpathSync(rc);
    const store = openAllowlist(paths, loadConfig(paths).config);
    store.allow(real, contentHash(real, readFileSync(real)));
    expect(step(sb, p, env).env.OLD).toBe('1');
  });

  it('a symlink to an approved file inside the same directory is a new approval of that name', () => {
    const p = sb.mkdir('same');
    sb.write('same/shared.envrc', 'export SAME=1\n');
    mkdirSync(join(p, 'sub'));
    symlinkSync('shared.envrc', join(p, '.envrc'));
    envd(p, 'allow', join(p, 'shared.envrc'));
    // shared.envrc is approved as itself; .envrc -> shared.envrc is its own name.
    expect(step(sb, p, env).stderr).toContain('is blocked');
    envd(p, 'allow');
    expect(step(sb, join(p, 'sub'), env).env.SAME).toBe('1');
  });
});
