import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox, which, type RunResult } from './helpers/sandbox.js';
import { haveStrace, processCalls } from './helpers/strace.js';
import { canSwitchUsers, mustAccount, TEST_USER } from './helpers/users.js';

// bin/envd's front door (docs/architecture.md, "Front door"): `hook`, `completion`,
// `export` and `exec` answered without Node, through the real binary and a real daemon.
// Each test runs the front door with a PATH that has no `node`: whatever it answers, Node
// did not; where it must hand over to Node, that shows as exit 127 (node: not found).

const NODE_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup();
});

function box(opts: ConstructorParameters<typeof Sandbox>[0] = {}): Sandbox {
  const sb = new Sandbox(opts);
  sandboxes.push(sb);
  return sb;
}

/** A directory of the tools the front door uses, and no node. */
function noNodePath(sb: Sandbox): string {
  const dir = sb.path('no-node');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const tool of ['sh', 'bash', 'cat', 'stat', 'mkfifo', 'env', 'readlink', 'dirname', 'od', 'printf', 'true', 'setpriv']) {
    const p = which(tool);
    if (p !== null) symlinkSync(p, join(dir, tool));
  }
  return dir;
}

/** The CLI in Node, as the front door would run it. */
function viaNode(sb: Sandbox, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): RunResult {
  return sb.run(process.execPath, [NODE_MAIN, ...args], opts);
}

/** Run a bash script; the files it writes are read back as bytes. */
function bytesOf(path: string): string {
  return readFileSync(path).toString('hex');
}

function project(sb: Sandbox, name = 'p'): string {
  const dir = sb.mkdir(name);
  // A space, a newline, a quote and bytes that are not UTF-8: each must arrive exactly.
  sb.write(`${name}/.envrc`, "export FOO='a b'\nexport NL=$'x\\ny'\nexport Q=\"it's\"\nexport RAW=$'\\xff\\xfe'\n");
  const r = sb.envd(['allow'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

function startDaemon(sb: Sandbox): number {
  const r = sb.envd(['daemon', 'start']);
  expect(r.status, r.stderr).toBe(0);
  return Number(readFileSync(join(sb.runtimeDir, 'hook.pid'), 'utf8').trim());
}

describe('hook and completion', () => {
  // Every shell's hook; completion for the shells that have one (src/shells/names.ts).
  for (const [shell, verbs] of [['bash', ['hook', 'completion']], ['zsh', ['hook', 'completion']], ['fish', ['hook', 'completion']], ['elvish', ['hook']], ['tcsh', ['hook']], ['nushell', ['hook']]] as const) {
    it(`${shell}: the CLI's exact bytes (${verbs.join(' and ')}), with no node on PATH, also through a symlink (an npm bin link)`, () => {
      const sb = box();
      const bare = noNodePath(sb);
      const link = sb.path('link-bin', 'envd');
      mkdirSync(sb.path('link-bin'));
      symlinkSync(ENVD_BIN, link);
      for (const verb of verbs) {
        const want = viaNode(sb, [verb, shell]);
        expect(want.status, want.stderr).toBe(0);
        for (const bin of [ENVD_BIN, link]) {
          const got = sb.run(bin, [verb, shell], { env: { PATH: bare } });
          expect(got.stderr).toBe('');
          expect(got.status).toBe(0);
          expect(got.stdout).toBe(want.stdout);
        }
      }
    });
  }

  it.runIf(haveStrace)('through npm\'s bin links (global and local layout): the CLI\'s bytes, hook and export, and no process started', () => {
    const sb = box();
    const bare = noNodePath(sb);
    // npm's layouts: PREFIX/bin/envd -> ../lib/node_modules/envd/bin/envd, and
    // node_modules/.bin/envd -> ../envd/bin/envd (the package itself a link here, as npm link makes it).
    mkdirSync(sb.path('prefix', 'lib', 'node_modules'), { recursive: true });
    mkdirSync(sb.path('prefix', 'bin'));
    symlinkSync(ROOT, sb.path('prefix', 'lib', 'node_modules', 'envd'));
    symlinkSync('../lib/node_modules/envd/bin/envd', sb.path('prefix', 'bin', 'envd'));
    mkdirSync(sb.path('proj', 'node_modules', '.bin'), { recursive: true });
    symlinkSync(ROOT, sb.path('proj', 'node_modules', 'envd'));
    symlinkSync('../envd/bin/envd', sb.path('proj', 'node_modules', '.bin', 'envd'));
    const dir = project(sb);
    startDaemon(sb);
    expect(sb.envd(['export', 'json'], { cwd: dir, env: { PATH: bare } }).status).toBe(0);
    const sh = join(sb.runtimeDir, 'sh');
    for (let i = 0; i < 100 && !existsSync(join(sh, 'door-7.env')); i++) spawnSync('sleep', ['0.05']);
    const strace = which('strace') ?? 'strace';
    for (const bin of [sb.path('prefix', 'bin', 'envd'), sb.path('proj', 'node_modules', '.bin', 'envd')]) {
      const want = viaNode(sb, ['hook', 'bash']);
      for (const args of [['hook', 'bash'], ['export', 'json']]) {
        const trace = sb.path(`npm-${args[0] ?? ''}.trace`);
        const got = sb.run(strace, ['-f', '-qq', '-e', 'trace=process', '-o', trace, bin, ...args], { cwd: dir, env: { PATH: bare } });
        expect(got.status, got.stderr).toBe(0);
        if (args[0] === 'hook') expect(got.stdout).toBe(want.stdout);
        else expect(JSON.parse(got.stdout)).toMatchObject({ FOO: 'a b' });
        expect(processCalls(trace).filter((l) => !l.includes('execve(')).concat(processCalls(trace).filter((l) => l.includes('execve(')).slice(1)), `${bin} ${args.join(' ')}`).toEqual([]);
      }
    }
  });

  it('a config file can change the names the hook looks for: Node reads it', () => {
    const sb = box();
    sb.write('home/.config/envd/envd.toml', '[global]\nload_dotenv = true\n');
    const r = sb.envd(['hook', 'bash']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("_envd_kdef='.envrc:.env'");
    expect(r.stdout).toBe(viaNode(sb, ['hook', 'bash']).stdout);
    // Without node, the front door does not guess.
    expect(sb.envd(['hook', 'bash'], { env: { PATH: noNodePath(sb) } }).status).toBe(127);
  });

  it('usage errors are the CLI\'s', () => {
    const sb = box();
    for (const args of [['hook'], ['hook', 'powershell'], ['completion', 'bash', 'x'], ['completion', 'tcsh']]) {
      const r = sb.envd(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(viaNode(sb, args).stderr);
    }
  });
});

describe('export through a running daemon', () => {
  it('bash, zsh, fish and json: the bytes and status the CLI gives, with no node on PATH', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const bare = noNodePath(sb);
    // DIRENV_WATCHES holds whole-second mtimes, written one second early while a file's
    // second is not over ("racily clean", docs/architecture.md): one evaluation first
    // (it records what it read), then past that second, so both answers see the same files.
    expect(sb.shell('bash', `"$NODE" "$MAIN" export json >/dev/null && sleep 1.2`, { cwd: dir, env: { NODE: process.execPath, MAIN: NODE_MAIN } }).status).toBe(0);
    for (const format of ['bash', 'zsh', 'fish', 'json']) {
      const front = sb.path(`front.${format}`);
      const node = sb.path(`node.${format}`);
      const a = sb.shell('bash', `"$ENVD" export ${format} > ${front}`, { cwd: dir, env: { ENVD: ENVD_BIN, PATH: bare } });
      expect(a.status, a.stderr).toBe(0);
      const b = sb.shell('bash', `"$NODE" "$MAIN" export ${format} > ${node}`, { cwd: dir, env: { NODE: process.execPath, MAIN: NODE_MAIN } });
      expect(b.status, b.stderr).toBe(0);
      expect(bytesOf(front), format).toBe(bytesOf(node));
      expect(a.stderr).toBe(b.stderr);
    }
    // Applied by bash, every value is the bytes the .envrc exported.
    const r = sb.shell('bash', `eval "$("$ENVD" export bash)"; printf '%s' "$FOO|$NL|$Q|$RAW" | od -An -tx1`, { cwd: dir, env: { ENVD: ENVD_BIN, PATH: bare } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.replace(/\s+/g, '')).toBe(Buffer.from('a b|x\ny|it\'s|').toString('hex') + 'fffe');
  });

  it('elvish, tcsh and nushell (also with --budget, as their hooks call it): the CLI\'s bytes and status, with no node on PATH', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const bare = noNodePath(sb);
    expect(sb.shell('bash', `"$NODE" "$MAIN" export json >/dev/null && sleep 1.2`, { cwd: dir, env: { NODE: process.execPath, MAIN: NODE_MAIN } }).status).toBe(0);
    for (const format of ['elvish', 'tcsh', 'nushell']) {
      for (const extra of ['', ' --budget 200']) {
        const front = sb.path(`front.${format}`);
        const node = sb.path(`node.${format}`);
        const a = sb.shell('bash', `"$ENVD" export ${format}${extra} > ${front}`, { cwd: dir, env: { ENVD: ENVD_BIN, PATH: bare } });
        expect(a.status, a.stderr).toBe(0);
        const b = sb.shell('bash', `"$NODE" "$MAIN" export ${format}${extra} > ${node}`, { cwd: dir, env: { NODE: process.execPath, MAIN: NODE_MAIN } });
        expect(b.status, b.stderr).toBe(0);
        expect(bytesOf(front), format + extra).toBe(bytesOf(node));
        expect(a.stderr).toBe(b.stderr);
      }
    }
    // tcsh holds the bytes that are not UTF-8 as they are: the answer carries them raw.
    expect(readFileSync(sb.path('front.tcsh')).includes(Buffer.from([0x27, 0xff, 0xfe, 0x27]))).toBe(true);
    // Arguments the front door does not take exactly go to Node.
    for (const args of [['export', 'tcsh', '--budget'], ['export', 'tcsh', '--budget', '1e3'], ['export', 'tcsh', '200']]) {
      expect(sb.envd(args, { cwd: dir, env: { PATH: bare } }).status, args.join(' ')).toBe(127);
    }
  });

  it('--budget: a slow file answers within the daemon\'s budget (nothing yet, status 0), as through Node', () => {
    const sb = box();
    const dir = sb.mkdir('slow');
    const release = sb.path('release');
    sb.write('slow/.envrc', `while [ ! -e '${release}' ]; do sleep 0.05; done\nexport S_VAR=s\n`);
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    startDaemon(sb);
    const bare = noNodePath(sb);
    try {
      const a = sb.envd(['export', 'tcsh', '--budget', '200'], { cwd: dir, env: { PATH: bare }, timeoutMs: 20_000 });
      expect(a.status, a.stderr).toBe(0);
      expect(a.stdout).not.toContain('S_VAR');
      expect(existsSync(release)).toBe(false);
    } finally {
      sb.write('release', '');
    }
  });

  it('a blocked project: messages on stderr, nothing on stdout, status 1, as the CLI', () => {
    const sb = box();
    const dir = project(sb);
    expect(sb.envd(['deny'], { cwd: dir }).status).toBe(0);
    startDaemon(sb);
    const a = sb.envd(['export', 'json'], { cwd: dir, env: { PATH: noNodePath(sb) } });
    const b = viaNode(sb, ['export', 'json'], { cwd: dir });
    expect(b.status).toBe(1);
    expect(a.status).toBe(1);
    expect(a.stderr).toBe(b.stderr);
    // The allowlist's mtime (in DIRENV_WATCHES, with DIRENV_DIFF) can move between the two.
    const state = (text: string): Record<string, string> => {
      const o = JSON.parse(text) as Record<string, string>;
      delete o.DIRENV_WATCHES;
      delete o.DIRENV_DIFF;
      return o;
    };
    expect(state(a.stdout)).toEqual(state(b.stdout));
    expect(Object.keys(JSON.parse(a.stdout) as object)).toEqual(Object.keys(JSON.parse(b.stdout) as object));
  });

  it('a stopped daemon cannot hang it: it hands over to Node', () => {
    const sb = box();
    const dir = project(sb);
    const pid = startDaemon(sb);
    process.kill(pid, 'SIGSTOP');
    try {
      const r = sb.envd(['export', 'json'], { cwd: dir, env: { PATH: noNodePath(sb) }, timeoutMs: 20_000 });
      expect(r.status).toBe(127);
      expect(r.stdout).toBe('');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('a runtime dir others can write to is not used (nothing is created in it)', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const sh = join(sb.runtimeDir, 'sh');
    const before = readdirSync(sh).sort();
    chmodSync(sb.runtimeDir, 0o755);
    try {
      const r = sb.envd(['export', 'json'], { cwd: dir, env: { PATH: noNodePath(sb) } });
      expect(r.status).toBe(127);
      expect(readdirSync(sh).sort()).toEqual(before);
    } finally {
      chmodSync(sb.runtimeDir, 0o700);
    }
  });

  it('a daemon of another version: the CLI decides (it replaces an older one)', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const r = sb.envd(['export', 'json'], { cwd: dir, env: { PATH: noNodePath(sb), ENVD_TEST_VERSION: '99.0.0' } });
    expect(r.status).toBe(127);
    expect(r.stdout).toBe('');
  });

  it('an environment bash cannot carry (a name that is no identifier): export sends it as given (the CLI\'s bytes), exec goes to Node', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    // The .envrc reads it back through env(1): the evaluation got the entry as it was.
    sb.write('p/.envrc', 'export SEEN="$(env | while IFS= read -r l; do case $l in A.B=*) printf %s "$l" ;; esac; done)"\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    const bare = noNodePath(sb);
    // DIRENV_WATCHES (and DIRENV_DIFF, which holds it) records a file's mtime one second
    // early while its second is not over ("racily clean", docs/architecture.md): one
    // evaluation first, then past that second, so both answers see the same files.
    expect(sb.shell('bash', `"$NODE" "$MAIN" export json >/dev/null && sleep 1.2`, { cwd: dir, env: { NODE: process.execPath, MAIN: NODE_MAIN } }).status).toBe(0);
    const front = sb.run('env', ['A.B=1 2', ENVD_BIN, 'export', 'json'], { cwd: dir, env: { PATH: bare } });
    const node = sb.run('env', ['A.B=1 2', process.execPath, NODE_MAIN, 'export', 'json'], { cwd: dir });
    expect(front.status, front.stderr).toBe(0);
    expect(node.status, node.stderr).toBe(0);
    expect(JSON.parse(front.stdout), front.stdout + front.stderr).toMatchObject({ SEEN: "A.B=1 2" });
    expect(front.stdout).toBe(node.stdout);
    const x = sb.run('env', ['A.B=1', ENVD_BIN, 'exec', dir, 'true'], { env: { PATH: bare } });
    expect(x.status).toBe(127);
  });

  it.runIf(haveStrace)('once the daemon has made its door pairs, export starts no process (and frees the pair after)', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const sh = join(sb.runtimeDir, 'sh');
    const bare = noNodePath(sb);
    // The first asks for them (with a pair of its own: one mkfifo).
    expect(sb.envd(['export', 'json'], { cwd: dir, env: { PATH: bare } }).status).toBe(0);
    const made = (): boolean => readdirSync(sh).filter((f) => /^door-[0-7]\.(req|res|env)$/.test(f)).length === 24;
    for (let i = 0; i < 100 && !made(); i++) spawnSync('sleep', ['0.05']);
    expect(made()).toBe(true);
    const trace = sb.path('door.trace');
    const strace = which('strace') ?? 'strace';
    const r = sb.run(strace, ['-f', '-qq', '-e', 'trace=process', '-o', trace, ENVD_BIN, 'export', 'json'], { cwd: dir, env: { PATH: bare } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ FOO: 'a b' });
    expect(processCalls(trace).filter((l) => !l.includes(`execve("${ENVD_BIN}"`))).toEqual([]);
    // Its claim is gone once it is done (the daemon empties the released lock), and the
    // door files are owner-only.
    const locks = (): string[] => readdirSync(sh).filter((f) => f.endsWith('.lock') && statSync(join(sh, f)).size > 0);
    for (let i = 0; i < 100 && locks().length > 0; i++) spawnSync('sleep', ['0.02']);
    expect(locks()).toEqual([]);
    expect(readdirSync(sh).filter((f) => /^door-[0-7]\.lock$/.test(f))).toHaveLength(8);
    for (const f of readdirSync(sh).filter((n) => n.startsWith('door-'))) expect((statSync(join(sh, f)).mode & 0o777).toString(8), f).toBe('600');
  });

  it('eight front doors at once and again: each gets its own answer', async () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const bare = noNodePath(sb);
    expect(sb.envd(['export', 'json'], { cwd: dir, env: { PATH: bare } }).status).toBe(0);
    for (let round = 0; round < 3; round++) {
      const runs = Array.from({ length: 12 }, (_, i) => new Promise<{ code: number | null; out: string; i: number }>((resolve) => {
        const c = spawn('env', [`WHO=${i}`, ENVD_BIN, 'export', 'json'], { cwd: dir, env: { ...sb.env, PATH: bare } });
        let out = '';
        c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        c.on('close', (code) => resolve({ code, out, i }));
      }));
      for (const r of await Promise.all(runs)) {
        expect(r.code, `run ${r.i}`).toBe(0);
        expect(JSON.parse(r.out), `run ${r.i}`).toMatchObject({ FOO: 'a b' });
      }
    }
  });

  it('door pairs in a runtime dir that others can now read are refused by the daemon: Node decides', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const bare = noNodePath(sb);
    expect(sb.envd(['export', 'json'], { cwd: dir, env: { PATH: bare } }).status).toBe(0);
    const sh = join(sb.runtimeDir, 'sh');
    for (let i = 0; i < 100 && !existsSync(join(sh, 'door-7.env')); i++) spawnSync('sleep', ['0.05']);
    chmodSync(sb.runtimeDir, 0o755);
    try {
      const r = sb.envd(['export', 'json'], { cwd: dir, env: { PATH: bare } });
      expect(r.status).toBe(127);
      expect(r.stdout).toBe('');
    } finally {
      chmodSync(sb.runtimeDir, 0o700);
    }
  });

  it('without XDG_RUNTIME_DIR, under LANG=C and umask 002: the pair it makes is owner-only', () => {
    const sb = box({ xdgRuntime: false, lang: 'C' });
    const dir = project(sb);
    startDaemon(sb);
    const r = sb.shell('bash', 'umask 002; exec "$ENVD" export json', { cwd: dir, env: { ENVD: ENVD_BIN, PATH: noNodePath(sb) } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ FOO: 'a b', Q: "it's" });
    const sh = join(sb.runtimeDir, 'sh');
    const files = readdirSync(sh);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect((statSync(join(sh, f)).mode & 0o777).toString(8), f).toBe('600');
  });
});

describe('exec through a running daemon', () => {
  it('runs the command with the directory\'s environment (exact bytes), its status, no node on PATH', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const out = sb.path('exec.out');
    const r = sb.run(ENVD_BIN, ['exec', dir, 'bash', '-c', `printf '%s' "$FOO|$NL|$Q|$RAW" > ${out}; exit 3`], { env: { PATH: noNodePath(sb) } });
    expect(r.status, r.stderr).toBe(3);
    expect(bytesOf(out)).toBe(Buffer.from('a b|x\ny|it\'s|').toString('hex') + 'fffe');
  });

  it('finds the command on the PATH the directory gives', () => {
    const sb = box();
    const dir = sb.mkdir('tools');
    sb.write('tools/bin/hello', '#!/bin/sh\nprintf "hello %s" "$1"\n', 0o755);
    sb.write('tools/.envrc', 'PATH_add bin\n');
    expect(sb.envd(['allow'], { cwd: dir }).status).toBe(0);
    startDaemon(sb);
    const r = sb.run(ENVD_BIN, ['exec', dir, 'hello', 'there'], { env: { PATH: noNodePath(sb) } });
    expect(r.stdout, r.stderr).toBe('hello there');
    expect(r.status).toBe(0);
  });

  it('keeps SHLVL as given (a number, unset, not a number) and the umask, as the CLI does', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    const bare = noNodePath(sb);
    const script = 'printf "%s %s" "${SHLVL-unset}" "$(umask)"';
    for (const lvl of ['SHLVL=7', '-u SHLVL', 'SHLVL=x1']) {
      const front = sb.shell('bash', `umask 027; exec env ${lvl} "$ENVD" exec ${dir} bash --norc -c '${script}'`, { env: { ENVD: ENVD_BIN, PATH: bare } });
      const node = sb.shell('bash', `umask 027; exec env ${lvl} "$NODE" "$MAIN" exec ${dir} bash --norc -c '${script}'`, { env: { NODE: process.execPath, MAIN: NODE_MAIN } });
      expect(front.status, front.stderr).toBe(0);
      expect(front.stdout, lvl).toBe(node.stdout);
      expect(front.stdout.endsWith(' 0027')).toBe(true);
    }
  });

  it('a blocked directory: the CLI\'s messages and status 1, the command not run', () => {
    const sb = box();
    const dir = project(sb);
    expect(sb.envd(['deny'], { cwd: dir }).status).toBe(0);
    startDaemon(sb);
    const marker = sb.path('ran');
    const a = sb.run(ENVD_BIN, ['exec', dir, 'sh', '-c', `: > ${marker}`], { env: { PATH: noNodePath(sb) } });
    const b = viaNode(sb, ['exec', dir, 'sh', '-c', `: > ${marker}`]);
    expect(a).toEqual(b);
    expect(a.status).toBe(1);
    expect(spawnSync('test', ['-e', marker]).status).toBe(1);
  });

  it('what the front door does not handle (a missing directory or command) is the CLI\'s answer', () => {
    const sb = box();
    const dir = project(sb);
    startDaemon(sb);
    for (const args of [['exec', sb.path('nope'), 'true'], ['exec', dir, 'no-such-command-here'], ['exec', dir]]) {
      const a = sb.envd(args);
      const b = viaNode(sb, args);
      expect(a.status, args.join(' ')).toBe(b.status);
      expect(a.stderr.replace(/pid [0-9]+/, 'pid N')).toBe(b.stderr.replace(/pid [0-9]+/, 'pid N'));
    }
  });
});

describe.runIf(canSwitchUsers())('as a normal user', () => {
  it('export and exec through the front door, umask 002, no XDG_RUNTIME_DIR', () => {
    const sb = box({ user: mustAccount(TEST_USER), xdgRuntime: false });
    const dir = project(sb);
    startDaemon(sb);
    const bare = noNodePath(sb);
    const r = sb.envd(['export', 'json'], { cwd: dir, env: { PATH: bare } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ FOO: 'a b' });
    const e = sb.envd(['exec', dir, 'sh', '-c', 'printf %s "$FOO"'], { env: { PATH: bare } });
    expect(e.stdout, e.stderr).toBe('a b');
  });
});
