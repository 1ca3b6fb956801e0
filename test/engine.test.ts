import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Sandbox } from './helpers/sandbox.js';
import { step, userVars } from './helpers/steps.js';

let sb: Sandbox;
let env: Record<string, string>;

beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  env = { ...sb.env, PATH: '/usr/local/bin:/usr/bin:/bin' };
});
afterEach(() => sb.cleanup());

function allow(dir: string, path?: string): void {
  const r = sb.envd(path === undefined ? ['allow'] : ['allow', path], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
}

describe('load and leave', () => {
  it('exports on enter, keeps state in subdirectories, restores exactly on leave', () => {
    const p = sb.mkdir('p/sub');
    const proj = join(sb.root, 'p');
    sb.write('p/.envrc', 'export A=1\nexport EMPTY=\nexport WAS_EMPTY=now-set\nunset GONE\nPATH_add bin\n');
    env.WAS_EMPTY = '';
    env.GONE = 'here';
    const before = { ...env };
    allow(proj);

    const s1 = step(sb, proj, env);
    expect(s1.stderr).toContain(`envd: loading ${proj}/.envrc`);
    expect(s1.env.A).toBe('1');
    expect(s1.env.EMPTY).toBe('');
    expect(s1.env.WAS_EMPTY).toBe('now-set');
    expect(s1.env.GONE).toBeUndefined();
    expect(s1.env.PATH).toBe(`${proj}/bin:/usr/local/bin:/usr/bin:/bin`);
    expect(s1.env.DIRENV_FILE).toBe(join(proj, '.envrc'));
    expect(s1.env.DIRENV_DIR).toBe('-' + proj);
    expect(s1.stderr).toMatch(/envd: export \+A \+EMPTY -GONE ~PATH ~WAS_EMPTY/);

    const s2 = step(sb, p, s1.env);
    expect(s2.change).toEqual({});
    expect(s2.stderr).toBe('');

    const s3 = step(sb, sb.root, s2.env);
    expect(s3.stderr).toContain('envd: unloading');
    expect(s3.env).toEqual(before);
    expect('EMPTY' in s3.env).toBe(false);
    expect(s3.env.WAS_EMPTY).toBe('');
    expect(s3.env.GONE).toBe('here');
  });

  it("keeps the user's own PATH additions and values on leave", () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'PATH_add bin\nexport MODE=project\n');
    allow(proj);
    const s1 = step(sb, proj, env);
    const edited = { ...s1.env, PATH: `/mine:${s1.env.PATH ?? ''}`, MODE: 'changed-by-hand' };
    const s2 = step(sb, sb.root, edited);
    expect(s2.env.PATH).toBe('/mine:/usr/local/bin:/usr/bin:/bin');
    expect(s2.env.MODE).toBe('changed-by-hand');
  });

  it('switches projects in one step without leaking the first one', () => {
    const a = sb.mkdir('a');
    const b = sb.mkdir('b');
    sb.write('a/.envrc', 'export ONLY_A=1\nexport SHARED=a\nPATH_add abin\n');
    sb.write('b/.envrc', 'export ONLY_B=1\nexport SHARED=b\nPATH_add bbin\n');
    allow(a);
    allow(b);
    const s1 = step(sb, a, env);
    const s2 = step(sb, b, s1.env);
    expect(s2.env.ONLY_A).toBeUndefined();
    expect(s2.env.ONLY_B).toBe('1');
    expect(s2.env.SHARED).toBe('b');
    expect(s2.env.PATH).toBe(`${b}/bbin:/usr/local/bin:/usr/bin:/bin`);
    const s3 = step(sb, sb.root, s2.env);
    expect(userVars(s3.env)).toEqual(userVars(env));
  });

  it('a child process inheriting the state gets a no-op (no doubled PATH)', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'PATH_add bin\n');
    allow(proj);
    const s1 = step(sb, proj, env);
    const child = step(sb, proj, s1.env);
    expect(child.change).toEqual({});
    // A re-evaluation (file touched) still yields the same single PATH entry.
    const t = new Date(Date.now() + 5000);
    utimesSync(join(proj, '.envrc'), t, t);
    const again = step(sb, proj, s1.env);
    expect(again.env.PATH).toBe(`${proj}/bin:/usr/local/bin:/usr/bin:/bin`);
  });

  it('works in real bash through eval "$(envd export bash)"', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', `export Q="it's \\"quoted\\" \\$HOME"\nexport NL=$'a\\nb'\n`);
    allow(proj);
    const script = `cd ${proj} && eval "$(envd export bash 2>/dev/null)" && printf '%s|' "$Q" "$NL" && cd / && eval "$(envd export bash 2>/dev/null)" && printf '%s' "\${Q-unset}"`;
    const r = sb.shell('bash', script, { env: { PATH: `${join(sb.root, '..')}:${env.PATH ?? ''}:${join(process.cwd(), 'bin')}` } });
    expect(r.stdout).toBe(`it's "quoted" $HOME|a\nb|unset`);
  });

  it('variables named __proto__, constructor, toString… load and revert exactly in real bash', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export __proto__=p constructor=c toString=t\nunset valueOf hasOwnProperty\n');
    allow(proj);
    const show = `printf '%s|' "\${__proto__-unset}" "\${constructor-unset}" "\${toString-unset}" "\${valueOf-unset}" "\${hasOwnProperty-unset}"`;
    const script = `export constructor=mine valueOf=v0; ${show}; cd ${proj} && eval "$(envd export bash)" && ${show} && cd / && eval "$(envd export bash)" && ${show}`;
    const r = sb.shell('bash', script, { env: { PATH: `${env.PATH ?? ''}:${join(process.cwd(), 'bin')}` } });
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toBe('unset|mine|unset|v0|unset|' + 'p|c|t|unset|unset|' + 'unset|mine|unset|v0|unset|');
  });
});

describe('trust', () => {
  it('blocks a new file with the exact approving command, then loads after allow', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    const s1 = step(sb, proj, env);
    expect(s1.stderr).toContain(`is blocked. Run 'envd allow' to approve its content`);
    expect(s1.env.A).toBeUndefined();
    expect(s1.status).toBe(1);
    // Blocked again at the next prompt: said once, not re-said.
    const s2 = step(sb, proj, s1.env);
    expect(s2.stderr).toBe('');
    allow(proj);
    expect(step(sb, proj, s2.env).env.A).toBe('1');
  });

  it('4: a file sourced for the first time after the approval is blocked', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env_if_exists .envrc.local\nexport BASE=1\n');
    allow(proj);
    const s1 = step(sb, proj, env);
    expect(s1.env.BASE).toBe('1');
    sb.write('p/.envrc.local', 'export SNEAKY=1\n');
    const s2 = step(sb, proj, s1.env);
    expect(s2.env.SNEAKY).toBeUndefined();
    expect(s2.stderr).toMatch(/\.envrc\.local is new since the approval/);
  });

  it('4: [trust] sourced_files = "follow" gives direnv\'s looser behaviour', () => {
    sb.write('home/.config/envd/envd.toml', '[trust]\nsourced_files = "follow"\n');
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'source_env .envrc.local\n');
    const local = sb.write('p/.envrc.local', 'export V=1\n');
    allow(proj);
    const s1 = step(sb, proj, env);
    writeFileSync(local, 'export V=2\n');
    expect(step(sb, proj, s1.env).env.V).toBe('2');
  });

  it('5: a flipped bit in the allowlist trusts nothing and says why; nothing crashes', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    allow(proj);
    const list = join(sb.home, '.local/share/envd/allowlist.json');
    const buf = readFileSync(list);
    const i = buf.indexOf(Buffer.from('"hash"')) + 12;
    buf[i] = (buf[i] ?? 0) ^ 0x01;
    writeFileSync(list, buf);
    const s = step(sb, proj, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr.split('\n').filter((l) => l.startsWith('envd:')).length).toBeGreaterThan(0);
    expect(s.stderr).toMatch(/allowlist/i);
    expect(s.status).not.toBe(null);
  });

  it('5: a key file readable by others trusts nothing', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    allow(proj);
    chmodSync(join(sb.home, '.local/share/envd/signing.key'), 0o644);
    const s = step(sb, proj, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toMatch(/chmod/);
  });

  it('6: an .envrc writable by others is refused (more in trust-permissions.test.ts)', () => {
    const proj = sb.mkdir('p');
    const rc = sb.write('p/.envrc', 'export A=1\n');
    allow(proj);
    chmodSync(rc, 0o646);
    const s = step(sb, proj, env);
    expect(s.env.A).toBeUndefined();
    expect(s.stderr).toMatch(/writable/);
  });

  it('8: deny wins at the next prompt; allow again restores', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    allow(proj);
    const s1 = step(sb, proj, env);
    expect(s1.env.A).toBe('1');
    for (const alias of ['deny', 'block', 'revoke', 'disallow']) {
      expect(sb.envd([alias], { cwd: proj }).status).toBe(0);
    }
    const s2 = step(sb, proj, s1.env);
    expect(s2.env.A).toBeUndefined();
    expect(s2.stderr).toContain('is blocked');
    for (const alias of ['permit', 'grant']) expect(sb.envd([alias], { cwd: proj }).status).toBe(0);
    expect(step(sb, proj, s2.env).env.A).toBe('1');
  });

  it('8: concurrent allows from many processes all persist', async () => {
    const dirs = Array.from({ length: 8 }, (_, i) => sb.mkdir(`c${i}`));
    dirs.forEach((d, i) => sb.write(`c${i}/.envrc`, `export N=${i}\n`));
    const results = await Promise.all(dirs.map((d) => sb.envdAsync(['allow'], { cwd: d })));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    dirs.forEach((d, i) => expect(step(sb, d, env).env.N).toBe(String(i)));
  });

  it('allow follows symlinks to the real file', () => {
    const real = sb.mkdir('real');
    sb.write('real/.envrc', 'export R=1\n');
    symlinkSync(real, join(sb.root, 'link'));
    allow(join(sb.root, 'link'));
    expect(step(sb, real, env).env.R).toBe('1');
    expect(step(sb, join(sb.root, 'link'), env).env.R).toBe('1');
  });
});

describe('bad input', () => {
  it('16: shell-owned and invalid names are never emitted; a warning says so', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export PS1=x SHELLOPTS2=ok\nexport UID_OK=1\nexport BASHOPTS=x 2>/dev/null\nexport ENVD_DIR=/evil\nexport DIRENV_FILE=/evil\n');
    allow(proj);
    const s = step(sb, proj, env);
    expect(s.change.PS1).toBeUndefined();
    expect(s.change.BASHOPTS).toBeUndefined();
    expect(s.env.DIRENV_DIR).toBe('-' + proj);
    expect(s.env.DIRENV_FILE).toBe(join(proj, '.envrc'));
    expect(s.env.UID_OK).toBe('1');
    // PS1 goes silently, as in direnv; envd's own names are refused out loud.
    expect(s.stderr).not.toContain('not exporting PS1');
    expect(s.stderr).toContain('not exporting ENVD_DIR');
  });

  it('18/19: a non-UTF-8 value is exact in shell code and refused by name in JSON; a value over 128 KiB is refused with a warning', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', "export BAD=$'\\xff\\xfe'\nexport BIG=$(head -c 140000 /dev/zero | tr '\\0' x)\nexport FINE=1\n");
    allow(proj);
    const s = step(sb, proj, env);
    expect(s.env.FINE).toBe('1');
    expect(s.env.BAD).toBeUndefined();
    expect(s.env.BIG).toBeUndefined();
    expect(s.stderr).toContain('not exporting BAD: the value is not UTF-8, which JSON cannot carry');
    expect(s.stderr).toMatch(/not exporting BIG: the value is 140000 bytes; at most \d+ fit/);
    const sh = sb.envd(['export', 'bash'], { cwd: proj, env: { ...env, PWD: proj } });
    expect(sh.stdout).toContain("export BAD=$'\\xff\\xfe';");
  });

  it('24: a non-zero exit applies nothing, is said once and not re-run until it changes', () => {
    const proj = sb.mkdir('p');
    const counter = join(sb.root, 'runs');
    sb.write('p/.envrc', `echo run >> ${counter}\nexport PARTIAL=1\nexit 3\n`);
    allow(proj);
    const s1 = step(sb, proj, env);
    expect(s1.env.PARTIAL).toBeUndefined();
    expect(s1.stderr).toMatch(/failed \(exit status 3\)/);
    const s2 = step(sb, proj, s1.env);
    expect(s2.stderr).toBe('');
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
  });

  it('24: garbage on stdout goes to stderr; 100 MB of output keeps memory bounded', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'printf "\\033[31mgarbage\\n"\nhead -c 100000000 /dev/zero\nexport OK=1\n');
    allow(proj);
    const s = step(sb, proj, env);
    expect(s.env.OK).toBe('1');
    expect(s.stderr).toContain('garbage');
    expect(s.stderr).toMatch(/more bytes of output not shown/);
    expect(s.stderr.length).toBeLessThan(200_000);
  });

  it('23: a hanging .envrc is killed with its whole process group at the timeout', () => {
    sb.write('home/.config/envd/envd.toml', '[global]\neval_timeout = "1s"\n');
    const proj = sb.mkdir('p');
    const marker = `envd-orphan-${process.pid}-${Date.now()}`;
    sb.write('p/.envrc', `(exec -a ${marker} sleep 300) &\nexec -a ${marker}-main sleep 300\n`);
    allow(proj);
    const t0 = Date.now();
    const s = step(sb, proj, env);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(s.stderr).toMatch(/timed out after 1s/);
    const ps = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
    expect(ps.stdout.trim()).toBe('');
  });

  it('23: a background child holding stdout does not hold the evaluation', () => {
    const proj = sb.mkdir('p');
    const marker = `envd-holder-${process.pid}-${Date.now()}`;
    sb.write('p/.envrc', `(exec -a ${marker} sleep 300) &\nexport DONE=1\n`);
    allow(proj);
    const t0 = Date.now();
    const s = step(sb, proj, env);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.env.DONE).toBe('1');
    const ps = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
    expect(ps.stdout.trim()).toBe('');
  });
});

describe('config, dotenv, exec, status', () => {
  it('a bad config file gives one line naming file, line and key, and envd keeps working', () => {
    sb.write('home/.config/envd/envd.toml', '[global]\nload_dotenv = "yes"\n');
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    allow(proj);
    const s = step(sb, proj, env);
    expect(s.env.A).toBe('1');
    expect(s.stderr).toMatch(/envd\.toml:2: key 'global\.load_dotenv' must be true or false/);
    sb.write('home/.config/envd/envd.toml', '[global\n');
    const s2 = step(sb, proj, env);
    expect(s2.stderr).toMatch(/envd\.toml:1:\d+: invalid TOML/);
    expect(s2.env.A).toBe('1');
  });

  it('load_dotenv loads a .env without .envrc; .envrc wins in the same directory', () => {
    sb.write('home/.config/envd/envd.toml', '[global]\nload_dotenv = true\n');
    const d = sb.mkdir('d');
    sb.write('d/.env', 'export FROM=dotenv\nQUOTED="a b"\nEXPANDED=${FROM}-x\n');
    allow(d);
    const s = step(sb, d, env);
    expect(s.env.FROM).toBe('dotenv');
    expect(s.env.QUOTED).toBe('a b');
    expect(s.env.EXPANDED).toBe('dotenv-x');
    sb.write('d/.envrc', 'export FROM=envrc\n');
    allow(d);
    expect(step(sb, d, s.env).env.FROM).toBe('envrc');
  });

  it('strict_env in the config stops at the first failing command', () => {
    sb.write('home/.config/envd/envd.toml', '[global]\nstrict_env = true\n');
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'false\nexport AFTER=1\n');
    allow(proj);
    const s = step(sb, proj, env);
    expect(s.env.AFTER).toBeUndefined();
    expect(s.stderr).toMatch(/failed/);
  });

  it('envd exec runs a command with the directory\'s environment and its exit status', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export GREETING=hello\n');
    allow(proj);
    const r = sb.envd(['exec', proj, 'sh', '-c', 'printf %s "$GREETING"; exit 7']);
    expect(r.stdout).toBe('hello');
    expect(r.status).toBe(7);
    const blocked = sb.mkdir('q');
    sb.write('q/.envrc', 'export X=1\n');
    expect(sb.envd(['exec', blocked, 'true']).status).toBe(1);
  });

  it('envd status says what applies and why it is not allowed', () => {
    const proj = sb.mkdir('p');
    sb.write('p/.envrc', 'export A=1\n');
    const r = sb.envd(['status', '--json'], { cwd: proj });
    const info = JSON.parse(r.stdout) as { found: string; trust: string; trustDetail: string };
    expect(info.found).toBe(join(proj, '.envrc'));
    expect(info.trust).toBe('blocked');
    expect(info.trustDetail).toMatch(/envd allow/);
    allow(proj);
    const human = sb.envd(['status'], { cwd: proj });
    expect(human.stdout).toMatch(/trust: +allowed/);
  });

  it('envd stdlib prints the stdlib; hook-free export prints nothing outside projects', () => {
    const r = sb.envd(['stdlib']);
    expect(r.stdout).toContain('PATH_add()');
    expect(r.stdout).toContain('source_env()');
    const out = sb.envd(['export', 'bash'], { cwd: sb.root });
    expect(out.stdout).toBe('');
    expect(existsSync(sb.root)).toBe(true);
  });
});
