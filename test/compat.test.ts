// direnv compatibility scenarios, run in real bash, zsh and fish through a `direnv` shim
// (a script named direnv that runs `bin/envd direnv "$@"`): each step is a `cd` followed by what
// direnv's hook does, `eval "$(direnv export SHELL)"` (fish: `| source`), or a plain
// command. Variables are written to files from inside the shell and compared byte for
// byte, so quoting in every shell is part of what is tested.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { quoteBash, quoteFish } from '../src/env/quote.js';
import { ENVD_BIN, linkTool, sandbox, write, type Sandbox } from './fixtures/stdlib/harness.js';
import { haveShell, ROOT, SHELLS, type Shell } from './helpers/sandbox.js';
import { DIRENV_COMPAT_VERSION, envdVersion } from '../src/version.js';

type Step =
  | { cd: string }
  | { prompt: true }
  | { run: string }
  | { save: string; names: string[] };

let boxes: Sandbox[] = [];
afterEach(() => {
  for (const b of boxes) b.cleanup();
  boxes = [];
});

function box(opts: { daemon?: boolean } = {}): Sandbox {
  const sb = sandbox(opts);
  boxes.push(sb);
  write(join(sb.root, 'bin', 'direnv'), `#!/bin/sh\nexec ${quoteBash(ENVD_BIN)} direnv "$@"\n`, 0o755);
  return sb;
}

function q(shell: Shell, s: string): string {
  return shell === 'fish' ? quoteFish(s) : quoteBash(s);
}

function applyExport(shell: Shell, log: string): string {
  return shell === 'fish'
    ? `direnv export fish 2>>${q(shell, log)} | source`
    : `eval "$(direnv export ${shell} 2>>${q(shell, log)})"`;
}

function saveVar(shell: Shell, name: string, file: string): string {
  const f = q(shell, file);
  if (shell === 'fish') {
    // fish keeps *PATH variables as lists; join them back the way they are exported.
    const value = name.endsWith('PATH') ? `(string join : -- $${name} | string collect)` : `"$${name}"`;
    return `if set -q ${name}; printf '%s' ${value} > ${f}; end`;
  }
  return `if [ -n "\${${name}+x}" ]; then printf '%s' "$${name}" > ${f}; fi`;
}

/** Run the steps in one shell session; returns tag -> name -> value (undefined: unset). */
function runSteps(sb: Sandbox, shell: Shell, steps: Step[], env: Record<string, string | undefined> = {}): { vals: Record<string, Record<string, string | undefined>>; log: string } {
  const out = sb.mkdir(`out-${shell}`);
  const log = join(out, 'stderr.log');
  const lines: string[] = [];
  steps.forEach((s, i) => {
    if ('cd' in s) {
      lines.push(`cd ${q(shell, s.cd)}`, applyExport(shell, log));
    } else if ('prompt' in s) {
      lines.push(applyExport(shell, log));
    } else if ('run' in s) {
      const file = join(out, `cmd-${i}.sh`);
      writeFileSync(file, s.run + '\n');
      lines.push(`sh ${q(shell, file)} 2>>${q(shell, log)}`);
    } else {
      mkdirSync(join(out, s.save), { recursive: true });
      for (const n of s.names) lines.push(saveVar(shell, n, join(out, s.save, n)));
    }
  });
  const r = sb.shell(shell, lines.join('\n') + '\n', { cwd: sb.root, env, timeoutMs: 120_000 });
  const vals: Record<string, Record<string, string | undefined>> = {};
  for (const s of steps) {
    if (!('save' in s)) continue;
    const got: Record<string, string | undefined> = {};
    for (const n of s.names) {
      const f = join(out, s.save, n);
      got[n] = existsSync(f) ? readFileSync(f, 'utf8') : undefined;
    }
    vals[s.save] = got;
  }
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status}:\n${r.stdout}\n${r.stderr}\n${text}`);
  return { vals, log: text + r.stderr };
}

function allow(sb: Sandbox, file: string): void {
  const r = sb.run(join(sb.root, 'bin', 'direnv'), ['allow', file]);
  if (r.status !== 0) throw new Error(`direnv allow ${file}: ${r.stderr}`);
}

function project(sb: Sandbox, rel: string, envrc: string, approve = true): string {
  const file = sb.write(join(rel, '.envrc'), envrc);
  if (approve) allow(sb, file);
  return sb.path(rel);
}

const shells = SHELLS.filter((s) => haveShell(s));

describe.each(shells)('direnv shim in %s', (shell) => {
  it('inherits the nearest .envrc in subdirectories and restores PATH on leave', () => {
    const sb = box();
    const p = project(sb, 'proj', 'export A=1\nPATH_add bin\n');
    mkdirSync(join(p, 'sub', 'deeper'), { recursive: true });
    const outerPath = sb.env.PATH ?? '';
    const { vals, log } = runSteps(sb, shell, [
      { cd: p }, { save: 'in', names: ['A', 'PATH', 'DIRENV_DIR', 'DIRENV_FILE'] },
      { cd: join(p, 'sub', 'deeper') }, { save: 'deep', names: ['A', 'PATH'] },
      { cd: sb.root }, { save: 'out', names: ['A', 'PATH', 'DIRENV_DIR'] },
    ]);
    expect(vals.in).toEqual({ A: '1', PATH: `${p}/bin:${outerPath}`, DIRENV_DIR: `-${p}`, DIRENV_FILE: `${p}/.envrc` });
    expect(vals.deep).toEqual({ A: '1', PATH: `${p}/bin:${outerPath}` });
    expect(vals.out).toEqual({ A: undefined, PATH: outerPath, DIRENV_DIR: undefined });
    expect(log.match(/envd: loading/g)?.length).toBe(1);
    expect(log).toContain('unloading');
  });

  it('handles paths with spaces and $ in directory names', () => {
    const sb = box();
    const p = project(sb, 'we ird $HOME dir', 'export HERE="$PWD"\nPATH_add "b in"\n');
    const { vals } = runSteps(sb, shell, [{ cd: p }, { save: 'in', names: ['HERE', 'PATH'] }]);
    expect(vals.in?.HERE).toBe(p);
    expect(vals.in?.PATH?.split(':')[0]).toBe(`${p}/b in`);
  });

  it('keeps empty and unset apart, in and out', () => {
    const sb = box();
    const p = project(sb, 'p', 'export E=x U=y Z=\nunset W\n');
    const { vals } = runSteps(sb, shell, [
      { save: 'before', names: ['E', 'U', 'Z', 'W'] },
      { cd: p }, { save: 'in', names: ['E', 'U', 'Z', 'W'] },
      { cd: sb.root }, { save: 'out', names: ['E', 'U', 'Z', 'W'] },
    ], { E: '', U: undefined, W: 'w' });
    expect(vals.before).toEqual({ E: '', U: undefined, Z: undefined, W: 'w' });
    expect(vals.in).toEqual({ E: 'x', U: 'y', Z: '', W: undefined });
    expect(vals.out).toEqual(vals.before);
  });

  it('carries UTF-8 and awkward values exactly', () => {
    const sb = box();
    const p = project(sb, 'p', [
      "export U8='héllo wörld ✓ 日本語 🎉'",
      "export AWK=$'a\\nb\\tc \\'q\\' \"d\" $(x) `y` \\\\ %self -n \\e[31m'",
      "export DASH='-e'",
      '',
    ].join('\n'));
    const { vals } = runSteps(sb, shell, [{ cd: p }, { save: 'in', names: ['U8', 'AWK', 'DASH'] }]);
    expect(vals.in).toEqual({ U8: 'héllo wörld ✓ 日本語 🎉', AWK: 'a\nb\tc \'q\' "d" $(x) `y` \\ %self -n \x1b[31m', DASH: '-e' });
  });

  it('does not re-run a failing .envrc at every prompt', () => {
    const sb = box();
    const count = sb.path('count');
    const p = project(sb, 'p', `echo run >> ${quoteBash(count)}\nexport NOPE=1\nexit 3\n`);
    const { vals, log } = runSteps(sb, shell, [
      { cd: p }, { prompt: true }, { prompt: true }, { prompt: true },
      { save: 'in', names: ['NOPE'] },
    ]);
    expect(vals.in?.NOPE).toBeUndefined();
    expect(readFileSync(count, 'utf8')).toBe('run\n');
    expect(log).toMatch(/failed/);
  });

  it('follows symlinked directories and retargeted symlinks', () => {
    const sb = box();
    project(sb, 'real1', 'export WHICH=one\n');
    project(sb, 'real2', 'export WHICH=two\n');
    const link = sb.path('link');
    symlinkSync(sb.path('real1'), link);
    const { vals } = runSteps(sb, shell, [
      { cd: link }, { save: 'one', names: ['WHICH'] },
      { cd: sb.root },
      { run: `ln -sfn ${quoteBash(sb.path('real2'))} ${quoteBash(link)}` },
      { cd: link }, { save: 'two', names: ['WHICH'] },
    ]);
    expect(vals.one?.WHICH).toBe('one');
    expect(vals.two?.WHICH).toBe('two');
  });

  it('reloads when a file under a watch_dir changes', () => {
    const sb = box();
    const p = project(sb, 'p', 'watch_dir conf\nexport N="$(cat conf/sub/v)"\n');
    write(join(p, 'conf', 'sub', 'v'), '1');
    const { vals } = runSteps(sb, shell, [
      { cd: p }, { save: 'a', names: ['N'] },
      { run: `printf 22 > ${quoteBash(join(p, 'conf', 'sub', 'v'))}` },
      { prompt: true }, { save: 'b', names: ['N'] },
    ]);
    expect(vals.a?.N).toBe('1');
    expect(vals.b?.N).toBe('22');
  });

  it('.envrc wins over .env; a lone .env loads only with load_dotenv (direnv.toml is read)', () => {
    const sb = box();
    const both = project(sb, 'both', 'export SRC=envrc\n');
    write(join(both, '.env'), 'SRC=dotenv\n');
    const lone = sb.mkdir('lone');
    const env = write(join(lone, '.env'), 'export SRC=dotenv\nQ="a b"\nR=${Q:-x}-r\n');
    allow(sb, env);
    const off = runSteps(sb, shell, [{ cd: lone }, { save: 'lone', names: ['SRC'] }]);
    expect(off.vals.lone?.SRC).toBeUndefined();
    sb.write('home/.config/direnv/direnv.toml', '[global]\nload_dotenv = true\n');
    const { vals } = runSteps(sb, shell, [
      { cd: both }, { save: 'both', names: ['SRC'] },
      { cd: lone }, { save: 'lone', names: ['SRC', 'Q', 'R'] },
    ]);
    expect(vals.both?.SRC).toBe('envrc');
    expect(vals.lone).toEqual({ SRC: 'dotenv', Q: 'a b', R: 'a b-r' });
  });

  it('layout python gives the shell a working virtualenv', () => {
    const sb = box();
    linkTool(sb, 'python3', '/usr/bin/python3');
    const p = project(sb, 'p', 'layout python3\n');
    const { vals } = runSteps(sb, shell, [
      { cd: p }, { save: 'in', names: ['VIRTUAL_ENV'] },
      { run: `python3 -c 'import sys; print(sys.prefix, end="")' > ${quoteBash(join(p, 'prefix'))}` },
    ]);
    const venv = vals.in?.VIRTUAL_ENV ?? '';
    expect(venv.startsWith(`${p}/.direnv/python-3.`)).toBe(true);
    expect(readFileSync(join(p, 'prefix'), 'utf8')).toBe(venv);
  });

  it("direnv_load takes on a child's dump with awkward values", () => {
    const sb = box();
    const p = project(sb, 'p', 'export GONE=1\ndirenv_load ./child.sh\n');
    write(join(p, 'child.sh'), [
      '#!/usr/bin/env bash',
      "export NL=$'l1\\nl2\\n' Q=\"it's \\\"q\\\"\" DOLLAR='$(x) `y` ${HOME} %self' BS='end\\' ESC=$'\\e[0m' U8='✓ 日本'",
      'unset GONE',
      // The shim on PATH, as nix-shell and friends would find it.
      'exec direnv dump',
      '',
    ].join('\n'), 0o755);
    const { vals, log } = runSteps(sb, shell, [{ cd: p }, { save: 'in', names: ['NL', 'Q', 'DOLLAR', 'BS', 'ESC', 'U8', 'GONE'] }]);
    expect(vals.in, log).toEqual({ NL: 'l1\nl2\n', Q: 'it\'s "q"', DOLLAR: '$(x) `y` ${HOME} %self', BS: 'end\\', ESC: '\x1b[0m', U8: '✓ 日本', GONE: undefined });
  });

  it('accepts every allow and deny alias', () => {
    const sb = box();
    const p = project(sb, 'p', 'export A=1\n', false);
    const steps: Step[] = [{ cd: p }, { save: 'start', names: ['A'] }];
    const seq = ['permit', 'block', 'grant', 'revoke', 'allow', 'disallow', 'allow', 'deny'];
    for (const v of seq) steps.push({ run: `direnv ${v} .` }, { prompt: true }, { save: v + steps.length, names: ['A'] });
    const { vals } = runSteps(sb, shell, steps);
    const seen = Object.entries(vals).filter(([k]) => k !== 'start').map(([, v]) => v.A);
    expect(vals.start?.A).toBeUndefined();
    expect(seen).toEqual(['1', undefined, '1', undefined, '1', undefined, '1', undefined]);
  });

  it('require_allowed pins a file loaded by other means (direnv 2.37: a second allow approves it)', () => {
    const sb = box();
    const p = project(sb, 'p', 'require_allowed local.sh && . ./local.sh\n', false);
    write(join(p, 'local.sh'), 'export LOCAL=1\n');
    allow(sb, join(p, '.envrc'));
    const { vals, log } = runSteps(sb, shell, [
      { cd: p }, { save: 'a', names: ['LOCAL'] },
      { run: 'direnv allow' },
      { prompt: true }, { save: 'b', names: ['LOCAL'] },
      { run: "echo 'export LOCAL=2' > local.sh" },
      { prompt: true }, { save: 'c', names: ['LOCAL'] },
      { run: 'direnv allow local.sh' },
      { prompt: true }, { save: 'd', names: ['LOCAL'] },
    ]);
    expect(vals.a?.LOCAL).toBeUndefined();
    expect(log).toMatch(/local\.sh requires approval/);
    expect(vals.b?.LOCAL).toBe('1');
    expect(vals.c?.LOCAL).toBeUndefined();
    expect(vals.d?.LOCAL).toBe('2');
  });
});


describe('through the daemon (bash)', () => {
  it('loads, runs stdlib RPCs in the daemon (fetchurl, direnv_load) and unloads', () => {
    const sb = box({ daemon: true });
    const lib = write(sb.path('srv', 'lib.sh'), 'export FROM_URL=yes\n');
    const url = `file://${lib}`;
    const sri = `sha256-${createHash('sha256').update(readFileSync(lib)).digest('base64')}`;
    const p = project(sb, 'p', [
      `source_url ${quoteBash(url)} ${quoteBash(sri)}`,
      'direnv_load ./child.sh',
      '',
    ].join('\n'));
    write(join(p, 'child.sh'), "#!/bin/sh\nexport CHILD='a b'\nexec direnv dump\n", 0o755);
    const { vals, log } = runSteps(sb, 'bash', [
      { cd: p }, { save: 'in', names: ['FROM_URL', 'CHILD'] },
      { cd: sb.root }, { save: 'out', names: ['FROM_URL', 'CHILD'] },
    ]);
    expect(vals.in, log).toEqual({ FROM_URL: 'yes', CHILD: 'a b' });
    expect(vals.out).toEqual({ FROM_URL: undefined, CHILD: undefined });
  });
});

describe('direnv version through the shim', () => {
  it('stands in for the direnv release the stdlib answers for; envd version stays envd', () => {
    const sb = box();
    const shim = join(sb.root, 'bin', 'direnv');
    const v = sb.run(shim, ['version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toBe(`${DIRENV_COMPAT_VERSION}\n`);
    // What nix-direnv and friends check: "is direnv at least X".
    expect(sb.run(shim, ['version', '2.21.0']).status).toBe(0);
    const newer = sb.run(shim, ['version', '9.0.0']);
    expect(newer.status).toBe(1);
    expect(newer.stderr).toBe(`envd: this needs direnv 9.0.0 or later; envd stands in for direnv ${DIRENV_COMPAT_VERSION}\n`);
    expect(sb.envd(['version']).stdout).toBe(`${envdVersion()}\n`);
    // The stdlib's direnv_version says the same release.
    const stdlib = readFileSync(join(ROOT, 'stdlib', '50-extras.sh'), 'utf8');
    expect(stdlib).toContain(`__envd_x_direnv_compat=${DIRENV_COMPAT_VERSION}\n`);
  });
});
