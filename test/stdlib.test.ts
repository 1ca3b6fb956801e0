// Each stdlib function from stdlib/20-layouts.sh, 30-use.sh and 50-extras.sh, run in real
// bash through the real binary: write an .envrc, `envd allow`, `envd export json`.
// External tools (ruby, pipenv, conda, nix...) are small fakes on PATH that answer the
// way the real ones do; python's venv is the real one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { exportHere, fakeTool, linkTool, loadEnvrc, sandbox, write, type Sandbox } from './fixtures/stdlib/harness.js';

let sb: Sandbox;
beforeEach(() => { sb = sandbox(); });
afterEach(() => sb.cleanup());

const CACHEDIR_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';

function pathOf(vars: Record<string, string | null>, name = 'PATH'): string[] {
  return (vars[name] ?? '').split(':');
}

describe('layouts', () => {
  it('layout node / php put the project tool dirs first on PATH', () => {
    const r = loadEnvrc(sb, 'p', 'layout node\nlayout php\n');
    expect(r.status, r.stderr).toBe(0);
    const dir = sb.path('p');
    expect(pathOf(r.vars).slice(0, 2)).toEqual([`${dir}/vendor/bin`, `${dir}/node_modules/.bin`]);
  });

  it('layout julia points JULIA_PROJECT at the project', () => {
    const r = loadEnvrc(sb, 'p', 'layout julia\n');
    expect(r.vars.JULIA_PROJECT).toBe(sb.path('p'));
  });

  it('layout perl sets local::lib variables under the layout dir and tags it as a cache', () => {
    const r = loadEnvrc(sb, 'p', 'layout perl\n');
    const lib = sb.path('p', '.direnv', 'perl5');
    expect(r.vars.LOCAL_LIB_DIR).toBe(lib);
    expect(r.vars.PERL_MB_OPT).toBe(`--install_base '${lib}'`);
    expect(r.vars.PERL_MM_OPT).toBe(`INSTALL_BASE=${lib}`);
    expect(pathOf(r.vars, 'PERL5LIB')[0]).toBe(`${lib}/lib/perl5`);
    expect(r.vars.PERL_LOCAL_LIB_ROOT).toBe(lib);
    expect(pathOf(r.vars)[0]).toBe(`${lib}/bin`);
    expect(readFileSync(sb.path('p', '.direnv', 'CACHEDIR.TAG'), 'utf8').split('\n')[0]).toBe(CACHEDIR_SIGNATURE);
  });

  it('layout ruby: GEM_HOME per layout dir, binstubs on PATH (new and old RubyGems)', () => {
    fakeTool(sb, 'ruby', 'exit 0');
    const r = loadEnvrc(sb, 'p', 'layout ruby\n');
    const d = sb.path('p', '.direnv');
    expect(r.vars.GEM_HOME).toBe(`${d}/ruby`);
    expect(r.vars.BUNDLE_BIN).toBe(`${d}/bin`);
    expect(pathOf(r.vars).slice(0, 2)).toEqual([`${d}/bin`, `${d}/ruby/bin`]);

    fakeTool(sb, 'ruby', 'case "$*" in *RUBY_ENGINE*) printf "jruby-1.9.3";; *) exit 1;; esac');
    const old = loadEnvrc(sb, 'q', 'layout ruby\n');
    expect(old.vars.GEM_HOME).toBe(sb.path('q', '.direnv', 'ruby-jruby-1.9.3'));
  });

  it('layout python creates a venv once, activates it, and reuses it', () => {
    linkTool(sb, 'python3', '/usr/bin/python3');
    const r = loadEnvrc(sb, 'p', 'layout python3\n');
    expect(r.status, r.stderr).toBe(0);
    const venv = r.vars.VIRTUAL_ENV ?? '';
    // python-MAJOR.MINOR, as direnv 2.33-2.35 name it: a patch release keeps the venv.
    expect(venv).toMatch(new RegExp(`^${sb.path('p', '.direnv')}/python-3\\.\\d+$`));
    expect(existsSync(join(venv, 'bin', 'python'))).toBe(true);
    expect(pathOf(r.vars)[0]).toBe(`${venv}/bin`);
    expect(existsSync(sb.path('p', '.direnv', 'CACHEDIR.TAG'))).toBe(true);
    const py = spawnSync(join(venv, 'bin', 'python'), ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' });
    expect(py.stdout.trim()).toBe(venv);
    // `layout python` with no interpreter named falls back to python3 here (no `python`).
    const again = loadEnvrc(sb, 'p', 'layout python\n');
    expect(again.vars.VIRTUAL_ENV).toBe(venv);
    expect(again.stderr).not.toContain('creating');
  });

  it('layout python honours a relative VIRTUAL_ENV and an old .direnv/virtualenv', () => {
    linkTool(sb, 'python3', '/usr/bin/python3');
    const r = loadEnvrc(sb, 'p', 'export VIRTUAL_ENV=.venv\nlayout python python3\n');
    expect(r.vars.VIRTUAL_ENV).toBe(sb.path('p', '.venv'));
    mkdirSync(sb.path('q', '.direnv', 'virtualenv'), { recursive: true });
    const old = loadEnvrc(sb, 'q', 'layout python\n');
    expect(old.vars.VIRTUAL_ENV).toBe(sb.path('q', '.direnv', 'virtualenv'));
  });

  it('layout python reports an interpreter that cannot run', () => {
    const r = loadEnvrc(sb, 'p', 'layout python /nonexistent/python || export FAILED=1\n');
    expect(r.vars.FAILED).toBe('1');
    expect(r.stderr).toContain("layout python: cannot run '/nonexistent/python'");
  });

  it('layout pipenv: needs a Pipfile; uses the venv pipenv reports', () => {
    const venv = sb.path('venvs', 'p-abc');
    fakeTool(sb, 'pipenv', `case "$1" in --venv) [ -d "${venv}" ] && echo "${venv}" || exit 1;; install) mkdir -p "${venv}/bin";; esac`);
    const none = loadEnvrc(sb, 'p', 'layout pipenv\n');
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain('no Pipfile here');
    write(sb.path('p', 'Pipfile'), '[packages]\n');
    const r = exportHere(sb, sb.path('p'));
    expect(r.vars.VIRTUAL_ENV).toBe(venv);
    expect(r.vars.PIPENV_ACTIVE).toBe('1');
    expect(pathOf(r.vars)[0]).toBe(`${venv}/bin`);
  });

  it('layout pyenv builds a venv per listed version; the first leads PYENV_VERSION', () => {
    const root = sb.path('pyenv');
    for (const v of ['3.9.1', '3.12.0']) {
      // A fake interpreter: answers the version probe and makes a "venv" directory.
      write(join(root, 'versions', v, 'bin', 'python'), `#!/usr/bin/env bash
if [ "$1" = -c ]; then echo "${v} venv"; exit 0; fi
if [ "$1" = -m ]; then d="\${@: -1}"; mkdir -p "$d/bin"; exit 0; fi
exit 1
`, 0o755);
    }
    fakeTool(sb, 'pyenv', `[ "$1" = root ] && echo "${root}"`);
    const r = loadEnvrc(sb, 'p', 'layout pyenv 3.12.0 3.9.1\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars.PYENV_VERSION).toBe('3.12.0:3.9.1');
    const d = sb.path('p', '.direnv');
    expect(pathOf(r.vars).slice(0, 2)).toEqual([`${d}/python-3.12.0/bin`, `${d}/python-3.9.1/bin`]);
    const missing = loadEnvrc(sb, 'q', 'layout pyenv 2.7.18 || export FAILED=1\n');
    expect(missing.vars.FAILED).toBe('1');
    expect(missing.stderr).toContain('Python 2.7.18 is not installed');
  });

  it('layout anaconda: env name from environment.yml, activated through conda', () => {
    const envs = sb.path('conda', 'envs');
    fakeTool(sb, 'conda', `case "$1 $2" in
  "env list") printf '# conda environments:\\n#\\nbase  *  /opt/conda\\nmyenv     ${envs}/myenv\\n';;
  "shell.bash activate") printf 'export CONDA_PREFIX=%q\\nexport CONDA_DEFAULT_ENV=%q\\n' "$3" "\${3##*/}";;
  *) exit 1;;
esac`);
    mkdirSync(join(envs, 'myenv'), { recursive: true });
    const dir = sb.mkdir('p');
    write(join(dir, 'environment.yml'), 'name:   myenv  \ndependencies: []\n');
    const r = loadEnvrc(sb, 'p', 'layout anaconda\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars.CONDA_PREFIX).toBe(join(envs, 'myenv'));
    expect(r.vars.CONDA_DEFAULT_ENV).toBe('myenv');
    const prefix = loadEnvrc(sb, 'q', 'mkdir -p env\nlayout anaconda ./env\n');
    expect(prefix.vars.CONDA_PREFIX).toBe(sb.path('q', 'env'));
  });

  it('layout opam loads the local switch through opam env', () => {
    fakeTool(sb, 'opam', 'for a; do case $a in --switch=*) s=${a#--switch=};; esac; done; printf "export OPAM_SWITCH_PREFIX=%q\\n" "$s/_opam"');
    const none = loadEnvrc(sb, 'p', 'layout opam || export FAILED=1\n');
    expect(none.vars.FAILED).toBe('1');
    expect(none.stderr).toContain('opam switch create .');
    mkdirSync(sb.path('q', '_opam'), { recursive: true });
    const r = loadEnvrc(sb, 'q', 'layout opam\n');
    expect(r.vars.OPAM_SWITCH_PREFIX).toBe(sb.path('q', '_opam'));
  });

  it('the direnv_layout_dir variable moves layouts', () => {
    const r = loadEnvrc(sb, 'p', 'direnv_layout_dir=$PWD/custom\nlayout perl\n');
    expect(r.vars.LOCAL_LIB_DIR).toBe(sb.path('p', 'custom', 'perl5'));
    expect(existsSync(sb.path('p', 'custom', 'CACHEDIR.TAG'))).toBe(true);
  });

  it('a direnv_layout_dir override in the user direnvrc moves layouts', () => {
    sb.write('home/.config/direnv/direnvrc', 'direnv_layout_dir() { echo "$HOME/layouts/${PWD##*/}"; }\n');
    const r = loadEnvrc(sb, 'p', 'layout perl\n');
    expect(r.vars.LOCAL_LIB_DIR).toBe(join(sb.home, 'layouts', 'p', 'perl5'));
    expect(existsSync(join(sb.home, 'layouts', 'p', 'CACHEDIR.TAG'))).toBe(true);
  });
});

describe('use', () => {
  function nodeVersions(): string {
    const root = sb.path('node-versions');
    for (const v of ['16.20.2', '18.1.0', '18.12.0', '180.0.0', '20.11.1']) {
      write(join(root, `node-v${v}`, 'bin', 'node'), `#!/bin/sh\necho v${v}\n`, 0o755);
    }
    return root;
  }

  it('use node picks the highest installed match of a partial version and loads its prefix', () => {
    const root = nodeVersions();
    const r = loadEnvrc(sb, 'p', 'use node 18\n', { env: { NODE_VERSIONS: root } });
    expect(r.status, r.stderr).toBe(0);
    const prefix = join(root, 'node-v18.12.0');
    expect(pathOf(r.vars)[0]).toBe(`${prefix}/bin`);
    expect(pathOf(r.vars, 'LD_LIBRARY_PATH')[0]).toBe(`${prefix}/lib`);
    expect(r.stderr).toContain('using Node.js 18.12.0');
  });

  it('use node reads .nvmrc (with a v and CRLF), then .node-version', () => {
    const root = nodeVersions();
    const dir = sb.mkdir('p');
    write(join(dir, '.nvmrc'), 'v16\r\n');
    const r = loadEnvrc(sb, 'p', 'use node\n', { env: { NODE_VERSIONS: root } });
    expect(pathOf(r.vars)[0]).toBe(join(root, 'node-v16.20.2', 'bin'));
    expect(r.stderr).toContain('via .nvmrc');
    const q = sb.mkdir('q');
    write(join(q, '.node-version'), '20.11\n');
    const r2 = loadEnvrc(sb, 'q', 'use node\n', { env: { NODE_VERSIONS: root } });
    expect(pathOf(r2.vars)[0]).toBe(join(root, 'node-v20.11.1', 'bin'));
  });

  it('use node fails clearly without NODE_VERSIONS, a version, or a match', () => {
    const root = nodeVersions();
    const a = loadEnvrc(sb, 'a', 'use node 18 || export F=1\n');
    expect(a.vars.F).toBe('1');
    expect(a.stderr).toContain('set NODE_VERSIONS');
    const b = loadEnvrc(sb, 'b', 'use node || export F=1\n', { env: { NODE_VERSIONS: root } });
    expect(b.stderr).toContain('no .nvmrc or .node-version');
    const c = loadEnvrc(sb, 'c', 'use node 19 || export F=1\n', { env: { NODE_VERSIONS: root } });
    expect(c.stderr).toContain('Node.js 19 is not installed');
    const d = loadEnvrc(sb, 'd', 'echo "lts/*" > .nvmrc\nuse node || export F=1\n', { env: { NODE_VERSIONS: root } });
    expect(d.stderr).toContain('aliases such as lts/* are not supported');
  });

  it('use nodenv loads an installed version plus node_modules/.bin', () => {
    const root = sb.path('nodenv');
    write(join(root, 'versions', '20.1.0', 'bin', 'node'), '#!/bin/sh\n', 0o755);
    fakeTool(sb, 'nodenv', `[ "$1" = root ] && echo "${root}"`);
    const r = loadEnvrc(sb, 'p', 'use nodenv 20.1.0\n');
    expect(pathOf(r.vars).slice(0, 2)).toEqual([sb.path('p', 'node_modules', '.bin'), join(root, 'versions', '20.1.0', 'bin')]);
    const missing = loadEnvrc(sb, 'q', 'use nodenv 9.9.9 || export F=1\n');
    expect(missing.stderr).toContain('nodenv install 9.9.9');
  });

  it('use rbenv evaluates rbenv init', () => {
    fakeTool(sb, 'rbenv', '[ "$1 $2" = "init -" ] && echo "export RBENV_SHELL=bash; export PATH=\\"/rbenv/shims:\\$PATH\\""');
    const r = loadEnvrc(sb, 'p', 'use rbenv\n');
    expect(r.vars.RBENV_SHELL).toBe('bash');
    expect(pathOf(r.vars)[0]).toBe('/rbenv/shims');
  });

  it('use julia finds an exact or partial version in JULIA_VERSIONS', () => {
    const root = sb.path('julia');
    for (const v of ['1.9.4', '1.10.2']) write(join(root, `julia-${v}`, 'bin', 'julia'), '#!/bin/sh\n', 0o755);
    const r = loadEnvrc(sb, 'p', 'use julia 1.10\n', { env: { JULIA_VERSIONS: root } });
    expect(pathOf(r.vars)[0]).toBe(join(root, 'julia-1.10.2', 'bin'));
    const exact = loadEnvrc(sb, 'q', 'use julia 1.9.4\n', { env: { JULIA_VERSIONS: root } });
    expect(pathOf(exact.vars)[0]).toBe(join(root, 'julia-1.9.4', 'bin'));
    const none = loadEnvrc(sb, 'r', 'use julia 2 || export F=1\n', { env: { JULIA_VERSIONS: root } });
    expect(none.stderr).toContain('Julia 2 is not installed');
  });

  it('use flake evaluates nix print-dev-env with a profile in the layout dir and watches flake files', () => {
    fakeTool(sb, 'nix', 'prof=; while [ $# -gt 0 ]; do [ "$1" = --profile ] && prof=$2; shift; done; printf "export FLAKE_PROFILE=%q\\n" "$prof"');
    const r = loadEnvrc(sb, 'p', 'use flake\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars.FLAKE_PROFILE).toBe(sb.path('p', '.direnv', 'flake-profile'));
    expect(existsSync(sb.path('p', '.direnv', 'CACHEDIR.TAG'))).toBe(true);
  });

  it('use guix evaluates the search paths guix prints', () => {
    fakeTool(sb, 'guix', '[ "$1" = environment ] && echo "export GUIX_ARGS=\\"${*:2}\\""');
    const r = loadEnvrc(sb, 'p', 'use guix --ad-hoc hello\n');
    expect(r.vars.GUIX_ARGS).toBe('--ad-hoc hello --search-paths');
  });

  it('use vim adds the project vimrc to DIRENV_EXTRA_VIMRC', () => {
    const r = loadEnvrc(sb, 'p', 'use vim\n');
    expect(r.vars.DIRENV_EXTRA_VIMRC).toBe(sb.path('p', '.vimrc.local'));
  });

  it('rvm loads rvm from rvm_path and runs it', () => {
    const rvmPath = sb.path('rvm');
    write(join(rvmPath, 'scripts', 'rvm'), 'rvm() { export RVM_ARGS="$*"; }\n');
    const r = loadEnvrc(sb, 'p', 'rvm use 3.2.2\n', { env: { rvm_path: rvmPath } });
    expect(r.vars.RVM_ARGS).toBe('use 3.2.2');
    const missing = loadEnvrc(sb, 'q', 'rvm use 3 || export F=1\n', { env: { rvm_path: sb.path('nope') } });
    expect(missing.stderr).toContain('is rvm installed?');
  });
});

describe('helpers', () => {
  it('semver_search picks the highest whole-piece match', () => {
    const dir = sb.path('v');
    for (const v of ['1.4.0', '1.4.2', '1.40.0', '1.5.0', '2.0.0-rc1', '10.0.0']) mkdirSync(join(dir, `tool-${v}`), { recursive: true });
    const r = loadEnvrc(sb, 'p', [
      `D=${dir}`,
      'export A=$(semver_search "$D" tool- 1.4) B=$(semver_search "$D/" tool- 1) C=$(semver_search "$D" tool- "")',
      'export E=$(semver_search "$D" tool- 2) N=$(semver_search "$D" tool- 3; echo "rc=$?")',
      '',
    ].join('\n'));
    expect(r.vars).toMatchObject({ A: '1.4.2', B: '1.40.0', C: '10.0.0', E: '2.0.0-rc1', N: 'rc=0' });
  });

  it('load_prefix puts a prefix on every search path', () => {
    const r = loadEnvrc(sb, 'p', 'load_prefix ./pfx\n', { env: { MANPATH: '/usr/share/man' } });
    const pfx = sb.path('p', 'pfx');
    expect(pathOf(r.vars)[0]).toBe(`${pfx}/bin`);
    expect(pathOf(r.vars, 'CPATH')[0]).toBe(`${pfx}/include`);
    expect(pathOf(r.vars, 'LIBRARY_PATH')[0]).toBe(`${pfx}/lib`);
    expect(pathOf(r.vars, 'LD_LIBRARY_PATH')[0]).toBe(`${pfx}/lib`);
    expect(pathOf(r.vars, 'PKG_CONFIG_PATH')[0]).toBe(`${pfx}/lib/pkgconfig`);
    expect(pathOf(r.vars, 'MANPATH').slice(0, 3)).toEqual([`${pfx}/share/man`, `${pfx}/man`, '/usr/share/man']);
  });

  it('direnv_version compares with the direnv release envd stands in for', () => {
    const r = loadEnvrc(sb, 'p', [
      'direnv_version 2.21.3 && export OLD_OK=1',
      'direnv_version 2.32 && export SAME_OK=1',
      'direnv_version 99.0 || export TOO_NEW=1',
      'export V=$(direnv_version)',
      '',
    ].join('\n'));
    expect(r.vars).toMatchObject({ OLD_OK: '1', SAME_OK: '1', TOO_NEW: '1' });
    expect(r.vars.V).toMatch(/^2\.\d+\.\d+$/);
    expect(r.stderr).toContain('needs direnv 99.0 or later');
  });

  it('on_git_branch matches the current branch (name or regexp) and needs a repository', () => {
    const dir = sb.mkdir('p');
    const git = (...a: string[]): void => { spawnSync('git', ['-C', dir, ...a], { env: { ...sb.env, GIT_CONFIG_NOSYSTEM: '1' } }); };
    const outside = loadEnvrc(sb, 'p', 'on_git_branch || export NOT_GIT=1\n');
    expect(outside.vars.NOT_GIT).toBe('1');
    expect(outside.stderr).toContain('not inside a git repository');
    git('init', '-q', '-b', 'feature/x');
    const r = loadEnvrc(sb, 'p', [
      'on_git_branch && export ANY=1',
      'on_git_branch feature/x && export EXACT=1',
      'on_git_branch main || export NOT_MAIN=1',
      "on_git_branch -r '^feature/' && export RE=1",
      'on_git_branch -r || export NO_RE=1',
      '',
    ].join('\n'));
    expect(r.vars).toMatchObject({ ANY: '1', EXACT: '1', NOT_MAIN: '1', RE: '1', NO_RE: '1' });
  });

  it("realpath.* helpers behave like direnv's", () => {
    const r = loadEnvrc(sb, 'p', [
      'realpath.absolute ../x/./y//z/..; export A=$REPLY',
      'realpath.dirname /a/b/c/; export D=$REPLY',
      'realpath.dirname file; export D2=$REPLY',
      'realpath.basename /a/b/c/; export B=$REPLY',
      '',
    ].join('\n'));
    expect(r.vars).toMatchObject({ A: sb.path('x', 'y'), D: '/a/b', D2: '.', B: 'c' });
  });

  it("user extensions load in direnv's order and can add use_/layout_ functions", () => {
    // direnv: lib/*.sh first, then direnvrc, or ~/.direnvrc only when there is no direnvrc.
    sb.write('home/.config/direnv/lib/a.sh', 'ORDER+=" lib"\nuse_thing() { export THING="$1"; }\n');
    sb.write('home/.config/direnv/direnvrc', 'ORDER+=" direnvrc"\n');
    sb.write('home/.direnvrc', 'ORDER+=" home"\n');
    sb.write('home/.config/envd/lib/b.sh', 'ORDER+=" envd-lib"\n');
    sb.write('home/.config/envd/envdrc', 'ORDER+=" envdrc"\n');
    const r = loadEnvrc(sb, 'p', 'export ORDER\nuse thing 42\n');
    expect(r.vars.THING).toBe('42');
    expect(r.vars.ORDER).toBe(' lib direnvrc envd-lib envdrc');
  });

  it('the DIRENV_* variables scripts read are present during evaluation', () => {
    const r = loadEnvrc(sb, 'p', [
      'export SEEN_IN=$DIRENV_IN_ENVRC SEEN_DIR=$DIRENV_DIR SEEN_FILE=$DIRENV_FILE',
      'export SEEN_LAYOUT=$(direnv_layout_dir)',
      'export SEEN_BIN_OK=$([ -x "$direnv" ] && echo yes)',
      '',
    ].join('\n'));
    const dir = sb.path('p');
    expect(r.vars).toMatchObject({ SEEN_IN: '1', SEEN_DIR: `-${dir}`, SEEN_FILE: `${dir}/.envrc`, SEEN_LAYOUT: `${dir}/.direnv`, SEEN_BIN_OK: 'yes' });
    expect(r.vars.DIRENV_IN_ENVRC).toBeUndefined();
  });

  it('the stdlib runs no program while it loads (works with an empty PATH)', () => {
    // A PATH with nothing but node and bash (what envd runs): a program that the stdlib
    // ran while loading would not be found.
    const only = sb.mkdir('only-node');
    symlinkSync(process.execPath, join(only, 'node'));
    symlinkSync('/bin/bash', join(only, 'bash'));
    const r = loadEnvrc(sb, 'p', 'export LOADED=1\n', { env: { PATH: only } });
    expect(r.vars.LOADED).toBe('1');
    expect(r.stderr).not.toContain('command not found');
  });
});

describe('strict mode', () => {
  it('every function works under strict_env (errexit, nounset, pipefail)', () => {
    linkTool(sb, 'python3', '/usr/bin/python3');
    const nodes = sb.path('node-versions');
    // Goes first on PATH: it must still be a working node, since envd itself runs on it.
    write(join(nodes, 'node-v20.1.0', 'bin', 'node'), `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, 0o755);
    const lib = write(sb.path('srv', 'lib.sh'), 'export FROM_URL=1\n');
    const sri = `sha256-${createHash('sha256').update(readFileSync(lib)).digest('base64')}`;
    const dir = sb.mkdir('p');
    write(join(dir, 'child.sh'), '#!/bin/sh\nexport CHILD=1\nexec "$1" dump\n', 0o755);
    const r = loadEnvrc(sb, 'p', [
      'strict_env',
      'layout node', 'layout php', 'layout julia', 'layout perl', 'layout python3',
      'use node 20', 'use vim', 'load_prefix ./pfx',
      'V=$(semver_search "$NODE_VERSIONS" node-v 9)',
      'direnv_version 2.0',
      'on_git_branch || true',
      'realpath.absolute x; realpath.dirname x; realpath.basename x',
      `source_url 'file://${lib}' '${sri}'`,
      'direnv_load ./child.sh "$direnv"',
      'export REACHED_END=1',
      '',
    ].join('\n'), { env: { NODE_VERSIONS: nodes, MANPATH: '/usr/share/man' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars.REACHED_END, r.stderr).toBe('1');
  });

  it('a failing layout stops a strict .envrc', () => {
    const r = loadEnvrc(sb, 'p', 'strict_env\nlayout python /nonexistent/python\nexport REACHED_END=1\n');
    expect(r.vars.REACHED_END).toBeUndefined();
    expect(r.stderr).toContain("cannot run '/nonexistent/python'");
  });
});

describe('RPC-backed functions (src/eval/rpc-extras.ts)', () => {
  it('fetchurl prints the integrity, then the cached path; source_url runs checked content', () => {
    const script = write(sb.path('srv', 'lib.sh'), 'export FROM_URL="hello $((6*7))"\n');
    const url = `file://${script}`;
    const r = loadEnvrc(sb, 'p', `export SRI=$(fetchurl '${url}')\n`);
    expect(r.status, r.stderr).toBe(0);
    const sri = r.vars.SRI ?? '';
    expect(sri).toMatch(/^sha256-[A-Za-z0-9+/]+=*$/);
    const r2 = loadEnvrc(sb, 'q', `export P=$(fetchurl '${url}' '${sri}')\nsource_url '${url}' '${sri}'\n`);
    expect(r2.vars.FROM_URL).toBe('hello 42');
    expect(r2.vars.P?.startsWith(join(sb.home, '.cache', 'envd', 'fetchurl') + '/')).toBe(true);
    const bad = loadEnvrc(sb, 'r', `source_url '${url}' 'sha256-${Buffer.alloc(32).toString('base64')}' || export BAD=1\n`);
    expect(bad.vars.BAD).toBe('1');
    expect(bad.stderr).toContain('integrity mismatch');
    expect(bad.vars.FROM_URL).toBeUndefined();
    const nohash = loadEnvrc(sb, 's', `source_url '${url}' || export NOHASH=1\n`);
    expect(nohash.vars.NOHASH).toBe('1');
    expect(nohash.stderr).toContain('envd fetchurl');
  });

  it("direnv_load takes on a child's dumped environment, awkward values included", () => {
    const dir = sb.mkdir('p');
    write(join(dir, 'child.sh'), [
      '#!/usr/bin/env bash',
      "export NL=$'line1\\nline2' Q=\"it's \\\"quoted\\\"\" DOLLAR='$(touch /tmp/pwned) `x` ${HOME}'",
      "export BS='trailing\\' U8='héllo ✓ 日本' EMPTY='' SPACEY='  a  b  '",
      'unset DROP_ME',
      'exec "$1" dump',
      '',
    ].join('\n'), 0o755);
    const r = loadEnvrc(sb, 'p', 'export DROP_ME=1 KEEP=1\ndirenv_load ./child.sh "$direnv"\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars).toMatchObject({
      NL: 'line1\nline2', Q: 'it\'s "quoted"', DOLLAR: '$(touch /tmp/pwned) `x` ${HOME}',
      BS: 'trailing\\', U8: 'héllo ✓ 日本', EMPTY: '', SPACEY: '  a  b  ', KEEP: '1',
    });
    expect(r.vars.DROP_ME).toBeUndefined();
    const none = loadEnvrc(sb, 'q', 'direnv_load true || export NODUMP=1\n');
    expect(none.vars.NODUMP).toBe('1');
    expect(none.stderr).toContain('dumped no environment');
  });

  it('use nix takes on the environment of nix-shell --run "direnv dump"', () => {
    fakeTool(sb, 'nix-shell', 'while [ $# -gt 0 ]; do [ "$1" = --run ] && cmd=$2; shift; done; export IN_NIX_SHELL=impure buildInputs="a b"; eval "$cmd"');
    const r = loadEnvrc(sb, 'p', 'use nix\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars).toMatchObject({ IN_NIX_SHELL: 'impure', buildInputs: 'a b' });
  });

  it("direnv_apply_dump reads a dump written by direnv itself", () => {
    const dir = sb.mkdir('p');
    const hasDirenv = spawnSync('sh', ['-c', 'command -v direnv']).status === 0;
    if (hasDirenv) {
      const d = spawnSync('direnv', ['dump'], { env: { PATH: '/usr/bin:/bin', FROM_DIRENV: 'x y\nz', HOME: sb.home }, encoding: 'utf8' });
      write(join(dir, 'saved.dump'), d.stdout);
    } else {
      // Same bytes direnv writes: zlib'd JSON in URL-safe base64 (see src/eval/dump-codec.ts).
      write(join(dir, 'saved.dump'), 'eJyqVnLz91eyUkpKLFKqBQQAAP__GboD1A==');
    }
    const r = loadEnvrc(sb, 'p', 'direnv_apply_dump saved.dump\n');
    expect(r.status, r.stderr).toBe(0);
    if (hasDirenv) expect(r.vars.FROM_DIRENV).toBe('x y\nz'); else expect(r.vars.FOO).toBe('bar');
    const bad = loadEnvrc(sb, 'q', 'echo nonsense > d\ndirenv_apply_dump d || export BAD=1\n');
    expect(bad.vars.BAD).toBe('1');
    expect(bad.stderr).toContain('not an environment dump');
  });

  it('require_allowed stops until the file is approved, and again once it changes', () => {
    const dir = sb.mkdir('p');
    write(join(dir, 'extra.sh'), 'export EXTRA=1\n');
    const r = loadEnvrc(sb, 'p', 'require_allowed extra.sh && . ./extra.sh\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.vars.EXTRA).toBeUndefined();
    expect(r.vars.DIRENV_REQUIRED).toBe('extra.sh');
    expect(r.stderr).toContain("extra.sh requires approval. Run 'envd allow' to approve.");
    expect(sb.envd(['allow', 'extra.sh'], { cwd: dir }).status).toBe(0);
    expect(exportHere(sb, dir).vars.EXTRA).toBe('1');
    write(join(dir, 'extra.sh'), 'export EXTRA=2\n');
    const after = exportHere(sb, dir);
    expect(after.vars.EXTRA).not.toBe('2');
    expect(after.stderr).toMatch(/envd allow/);
    const missing = loadEnvrc(sb, 'q', 'require_allowed nope.sh || export MISSING=1\n');
    expect(missing.stderr).toContain('nope.sh requires approval');
    expect(missing.vars.MISSING).toBeUndefined();
  });
});
