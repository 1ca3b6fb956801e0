// The internal/compat verbs (src/cli/compat.ts): dump, apply_dump, show_dump, dotenv,
// fetchurl, watch*, current, edit, reload. Run through the real binary (or, until a verb
// is registered in main.ts, its function directly; see harness.verb). Dumps are checked
// against the installed direnv in both directions when it is present.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvrc, sandbox, verb, write, type Sandbox } from './fixtures/stdlib/harness.js';
import { decodeGzenv, encodeGzenv } from '../src/eval/dump-codec.js';

let sb: Sandbox;
beforeEach(() => { sb = sandbox(); });
afterEach(() => sb.cleanup());

const hasDirenv = spawnSync('sh', ['-c', 'command -v direnv']).status === 0;
const AWKWARD: Record<string, string> = {
  NL: 'a\nb\n', Q: 'it\'s "q"', DOLLAR: '$(x) `y` ${HOME}', BS: 'end\\', U8: 'héllo ✓ 日本', EMPTY: '', ESC: '\x1b[31m',
};

describe('dump', () => {
  it('gzenv is zlib JSON in URL-safe base64 and round-trips', () => {
    const r = verb(sb, 'dump', [], { env: AWKWARD });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[A-Za-z0-9_-]+=*$/);
    const env = decodeGzenv(r.stdout);
    expect(env).toMatchObject(AWKWARD);
    expect(decodeGzenv(encodeGzenv(AWKWARD))).toEqual(AWKWARD);
  });

  it('json, bash and a target file (argument or DIRENV_DUMP_FILE_PATH)', () => {
    const json = verb(sb, 'dump', ['json'], { env: { X: '1' } });
    expect(JSON.parse(json.stdout)).toMatchObject({ X: '1' });
    const bash = verb(sb, 'dump', ['bash'], { env: AWKWARD });
    const back = spawnSync('bash', ['--noprofile', '--norc', '-c', `${bash.stdout}\nprintf '%s\\0' "$NL" "$Q" "$DOLLAR" "$BS" "$U8" "$EMPTY" "$ESC"`], { encoding: 'utf8' });
    expect(back.stdout.split('\0').slice(0, 7)).toEqual([AWKWARD.NL, AWKWARD.Q, AWKWARD.DOLLAR, AWKWARD.BS, AWKWARD.U8, AWKWARD.EMPTY, AWKWARD.ESC]);
    const file = sb.path('out.dump');
    expect(verb(sb, 'dump', ['gzenv', file], { env: { Y: '2' } }).stdout).toBe('');
    expect(decodeGzenv(readFileSync(file, 'utf8'))).toMatchObject({ Y: '2' });
    const viaEnv = sb.path('env.dump');
    write(viaEnv, 'old content that is longer than nothing at all, to check truncation '.repeat(50));
    verb(sb, 'dump', [], { env: { Z: '3', DIRENV_DUMP_FILE_PATH: viaEnv } });
    const got = decodeGzenv(readFileSync(viaEnv, 'utf8'));
    expect(got.Z).toBe('3');
    expect(got.DIRENV_DUMP_FILE_PATH).toBeUndefined();
    expect(verb(sb, 'dump', ['yaml']).status).toBe(2);
  });

  it.runIf(hasDirenv)('direnv reads envd dumps and envd reads direnv dumps', () => {
    const ours = verb(sb, 'dump', [], { env: AWKWARD }).stdout;
    const shown = spawnSync('direnv', ['show_dump', ours], { encoding: 'utf8' });
    expect(JSON.parse(shown.stdout)).toMatchObject(AWKWARD);
    const theirs = spawnSync('direnv', ['dump'], { env: { ...AWKWARD, PATH: '/usr/bin:/bin' }, encoding: 'utf8' }).stdout;
    expect(decodeGzenv(theirs)).toMatchObject(AWKWARD);
    const file = write(sb.path('theirs.dump'), theirs);
    const show = verb(sb, 'show_dump', [file]);
    expect(JSON.parse(show.stdout)).toMatchObject(AWKWARD);
  });

  it('apply_dump prints bash that turns this environment into the dumped one', () => {
    const file = write(sb.path('d'), encodeGzenv({ ...AWKWARD, PATH: '/usr/bin:/bin', PWD: '/ignored', ENVD_DIR: '/ignored' }));
    const r = verb(sb, 'apply_dump', [file], { env: { STALE: '1', NL: 'old' } });
    expect(r.status, r.stderr).toBe(0);
    const back = spawnSync('bash', ['--noprofile', '--norc', '-c', `${r.stdout}\nprintf '%s\\0' "\${STALE-unset}" "$NL" "$Q" "$DOLLAR" "$BS" "$ESC" "$PWD"`], { encoding: 'utf8', cwd: sb.root, env: { ...sb.env, STALE: '1' } });
    expect(back.stdout.split('\0').slice(0, 7)).toEqual(['unset', AWKWARD.NL, AWKWARD.Q, AWKWARD.DOLLAR, AWKWARD.BS, AWKWARD.ESC, sb.root]);
    expect(r.stdout).not.toContain('ENVD_DIR');
    const bad = write(sb.path('bad'), 'not a dump');
    expect(verb(sb, 'apply_dump', [bad]).status).toBe(1);
    expect(verb(sb, 'apply_dump', [sb.path('missing')]).stderr).toContain('does not exist');
  });

  it('show_dump accepts the dump text or a file; rejects garbage', () => {
    const text = encodeGzenv({ A: '1' });
    expect(JSON.parse(verb(sb, 'show_dump', [text]).stdout)).toEqual({ A: '1' });
    expect(verb(sb, 'show_dump', ['%%%']).status).toBe(1);
  });
});

describe('dotenv', () => {
  it('prints a .env as bash, zsh, fish or json', () => {
    const dir = sb.mkdir('p');
    write(join(dir, '.env'), 'export A=1\nB: two words\nC="multi\nline"\nD=${A}-${MISSING:-dflt}\n# comment\n');
    const json = verb(sb, 'dotenv', ['json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual({ A: '1', B: 'two words', C: 'multi\nline', D: '1-dflt' });
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const code = verb(sb, 'dotenv', [shell, join(dir, '.env')]).stdout;
      const r = sb.shell(shell, shell === 'fish' ? `${code}\nprintf '%s|' "$A" "$B" "$C" "$D"` : `${code}\nprintf '%s|' "$A" "$B" "$C" "$D"`);
      expect(r.stdout, shell).toBe('1|two words|multi\nline|1-dflt|');
    }
    const missing = verb(sb, 'dotenv', ['bash', sb.path('nope.env')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });
});

describe('fetchurl', () => {
  let server: ChildProcess | undefined;
  afterEach(() => { server?.kill(); server = undefined; });

  async function serve(dir: string): Promise<number> {
    // A tiny HTTP server on 127.0.0.1 (random port) serving files from dir; 404 otherwise.
    const code = `const http=require('http'),fs=require('fs'),path=require('path');
const s=http.createServer((q,r)=>{const p=path.join(${JSON.stringify(dir)},decodeURIComponent(q.url));
if(q.url==='/redirect'){r.writeHead(302,{location:'/lib.sh'});return r.end();}
fs.readFile(p,(e,d)=>{if(e){r.writeHead(404);return r.end();}r.end(d);});});
s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port)+'\\n');});
setTimeout(()=>process.exit(0),60000);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    server = child;
    return new Promise((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('error', reject);
    });
  }

  it('prints the integrity, then the cached path; checks it; works offline from the cache', async () => {
    const srv = sb.mkdir('srv');
    write(join(srv, 'lib.sh'), 'export FETCHED=1\n');
    const port = await serve(srv);
    const url = `http://127.0.0.1:${port}/lib.sh`;
    const first = verb(sb, 'fetchurl', [url]);
    expect(first.status, first.stderr).toBe(0);
    const sri = first.stdout.trim();
    expect(sri).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    const second = verb(sb, 'fetchurl', [`http://127.0.0.1:${port}/redirect`, sri]);
    const path = second.stdout.trim();
    expect(path).toBe(join(sb.home, '.cache', 'envd', 'fetchurl', `sha256-${Buffer.from(sri.slice(7), 'base64').toString('hex')}`));
    expect(readFileSync(path, 'utf8')).toBe('export FETCHED=1\n');
    expect(statSync(path).mode & 0o777).toBe(0o500);
    server?.kill();
    // Cached by integrity: no network needed any more.
    expect(verb(sb, 'fetchurl', [url, sri]).stdout.trim()).toBe(path);
    const wrong = verb(sb, 'fetchurl', [`file://${join(srv, 'lib.sh')}`, `sha256-${Buffer.alloc(32, 1).toString('base64')}`]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('integrity mismatch');
  });

  it('reports 404, bad hashes, unsupported schemes', async () => {
    const port = await serve(sb.mkdir('srv'));
    expect(verb(sb, 'fetchurl', [`http://127.0.0.1:${port}/nope`]).stderr).toContain('answered 404');
    expect(verb(sb, 'fetchurl', ['file:///etc/hostname', 'bogus']).stderr).toContain('is not an integrity hash');
    expect(verb(sb, 'fetchurl', ['ftp://x/y']).stderr).toContain('unsupported URL scheme');
    expect(verb(sb, 'fetchurl', []).status).toBe(2);
  });
});

describe('watches, current, reload, edit', () => {
  it('watch and watch-dir print stdlib calls inside an evaluation and refuse outside', () => {
    const r = verb(sb, 'watch', ['bash', 'a file', '/abs/b'], { cwd: sb.root, env: { DIRENV_IN_ENVRC: '1' } });
    expect(r.stdout).toBe(`watch_file '${sb.root}/a file' '/abs/b'\n`);
    expect(verb(sb, 'watch-dir', ['bash', 'd'], { cwd: sb.root, env: { DIRENV_IN_ENVRC: '1' } }).stdout).toBe(`watch_dir '${sb.root}/d'\n`);
    const outside = verb(sb, 'watch', ['bash', 'x']);
    expect(outside.status).toBe(1);
    expect(outside.stderr).toContain('watch_file');
  });

  function loadedEnv(vars: Record<string, string | null>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(vars)) if (v !== null) env[k] = v;
    return env;
  }

  it('watch-print, watch-list and current read the loaded state', () => {
    const dir = sb.mkdir('p');
    write(join(dir, 'dep'), 'one');
    const r = loadEnvrc(sb, 'p', 'watch_file dep\nexport DEP=$(cat dep)\n');
    expect(r.vars.DEP).toBe('one');
    const env = loadedEnv(r.vars);
    expect(verb(sb, 'watch-print', [], { env }).stdout.split('\n')).toContain(join(dir, 'dep'));
    expect(verb(sb, 'current', [join(dir, 'dep')], { env }).status).toBe(0);
    write(join(dir, 'dep'), 'two');
    const stale = verb(sb, 'current', [join(dir, 'dep')], { env });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('changed');
    expect(verb(sb, 'watch-list', [], { env }).stdout).toContain(`~ ${join(dir, 'dep')}`);
    expect(JSON.parse(verb(sb, 'watch-list', ['--json'], { env }).stdout)).toContainEqual({ path: join(dir, 'dep'), recursive: false, exists: true, current: false });
    expect(verb(sb, 'watch-print', ['--null'], { env }).stdout.split('\0')).toContain(join(dir, 'dep'));
    const unknown = verb(sb, 'current', ['/nowhere'], { env });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('not watched');
  });

  it('an .envrc may call `eval "$("$direnv" watch bash FILE)"` as libraries written for direnv do', () => {
    const dir = sb.mkdir('p');
    write(join(dir, 'dep'), 'one');
    const r = loadEnvrc(sb, 'p', 'eval "$("$direnv" watch bash dep)"\n');
    expect(r.stderr).not.toContain('unknown command');
    const listed = verb(sb, 'watch-print', [], { env: loadedEnv(r.vars) });
    expect(listed.stdout.split('\n')).toContain(join(dir, 'dep'));
  });

  it('reload marks the env file changed so the next export evaluates again', () => {
    const dir = sb.mkdir('p');
    const r = loadEnvrc(sb, 'p', 'export T=$(date +%s%N)\n');
    const file = join(dir, '.envrc');
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    const before = statSync(file).mtimeMs;
    const rl = verb(sb, 'reload', [], { cwd: dir, env: { PWD: dir } });
    expect(rl.status, rl.stderr).toBe(0);
    expect(statSync(file).mtimeMs).toBeGreaterThan(before);
    expect(r.vars.T).toBeTruthy();
    expect(verb(sb, 'reload', [], { cwd: sb.mkdir('empty') }).status).toBe(1);
  });

  it('edit opens $EDITOR and approves the file only when it changed', () => {
    const dir = sb.mkdir('p');
    const editor = write(sb.path('bin', 'fake-editor'), '#!/bin/sh\necho "export EDITED=1" >> "$1"\n', 0o755);
    const r = verb(sb, 'edit', [], { cwd: dir, env: { EDITOR: editor, VISUAL: undefined } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, '.envrc'), 'utf8')).toBe('export EDITED=1\n');
    const loaded = sb.envd(['export', 'json'], { cwd: dir, env: { PWD: dir } });
    expect(JSON.parse(loaded.stdout)).toMatchObject({ EDITED: '1' });
    const noop = write(sb.path('bin', 'noop-editor'), '#!/bin/sh\nexit 0\n', 0o755);
    const same = verb(sb, 'edit', [dir], { env: { EDITOR: noop, VISUAL: undefined } });
    expect(same.stderr).toContain('unchanged');
    const failing = verb(sb, 'edit', [dir], { env: { EDITOR: 'false', VISUAL: undefined } });
    expect(failing.status).toBe(1);
    expect(existsSync(join(dir, '.envrc'))).toBe(true);
  });
});
