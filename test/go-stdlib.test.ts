import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from './helpers/sandbox.js';
import { fakeGoroot, symlink } from './fixtures/go/sdk.js';

// stdlib/40-go.sh in real bash with the real core stdlib; only the RPC to envd is replaced
// by a function that answers like the daemon would, so these tests pin the shell side.

let sb: Sandbox;
let proj: string;
let goroot: string;

beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  proj = sb.mkdir('proj');
  goroot = fakeGoroot(sb.path('sdk/go1.22.12'), '1.22.12');
});
afterEach(() => {
  sb.cleanup();
});

interface Run {
  status: number | null;
  vars: Record<string, string | null>;
  stderr: string;
  rpc: string[];
}

const SHOWN = ['GOROOT', 'GOPATH', 'GOBIN', 'GOCACHE', 'GOTOOLCHAIN', 'PATH'];

/** Run `body` after loading the stdlib with a stub RPC; report the variables after it. */
function runStdlib(body: string, opts: { cache?: string; env?: Record<string, string | undefined>; rpc?: string } = {}): Run {
  const rpc = opts.rpc ?? `__envd_reply=(${JSON.stringify(goroot)} 1.22.12 "$PWD/go.mod"); return 0`;
  const script = [
    `. ${JSON.stringify(join(ROOT, 'stdlib/00-core.sh'))}`,
    `. ${JSON.stringify(join(ROOT, 'stdlib/40-go.sh'))}`,
    `__envd_rpc() { printf '%s\\0' "$@" >>"$RPC_LOG"; printf '\\n' >>"$RPC_LOG"; ${rpc}; }`,
    'cd "$PROJ" || exit 99',
    body,
    'st=$?',
    `for v in ${SHOWN.join(' ')}; do if [[ -v $v ]]; then printf '%s=%s\\0' "$v" "\${!v}"; else printf '%s\\0' "$v"; fi; done`,
    'exit "$st"',
  ].join('\n');
  const rpcLog = sb.path('rpc.log');
  sb.write(rpcLog, '');
  const env: Record<string, string | undefined> = {
    PROJ: proj,
    RPC_LOG: rpcLog,
    __ENVD_GO_CACHE: opts.cache,
    __ENVD_CACHE_DIR: sb.path('cache/envd'),
    GOROOT: undefined,
    GOPATH: undefined,
    GOBIN: undefined,
    GOCACHE: undefined,
    GOTOOLCHAIN: undefined,
    ...opts.env,
  };
  const r = sb.shell('bash', script, { env });
  const vars: Record<string, string | null> = {};
  for (const rec of r.stdout.split('\0').filter((x) => x !== '')) {
    const eq = rec.indexOf('=');
    if (eq < 0) vars[rec] = null; else vars[rec.slice(0, eq)] = rec.slice(eq + 1);
  }
  const rpcCalls = sb.run('cat', [rpcLog]).stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\0').filter((x) => x !== '').join(' '));
  return { status: r.status, vars, stderr: r.stderr, rpc: rpcCalls };
}

describe('use go', () => {
  it('asks envd for the version in $PWD and exports GOROOT, PATH, GOTOOLCHAIN=local, GOCACHE', () => {
    const r = runStdlib('use go 1.22', { env: { PATH: '/usr/bin:/bin' } });
    expect(r.status).toBe(0);
    expect(r.rpc).toEqual([`go 1.22 ${proj}`]);
    expect(r.vars.GOROOT).toBe(goroot);
    expect(r.vars.PATH).toBe(`${goroot}/bin:/usr/bin:/bin`);
    expect(r.vars.GOTOOLCHAIN).toBe('local');
    expect(r.vars.GOCACHE).toBe(join(proj, '.direnv/go-build'));
    expect(r.vars.GOPATH).toBeNull();
    expect(r.stderr).toContain('using go 1.22.12 from');
  });

  it('passes an empty version when none is given (envd reads the version files)', () => {
    const r = runStdlib('use go');
    expect(r.status).toBe(0);
    expect(r.rpc).toEqual([`go ${proj}`]);
  });

  it('puts GOROOT/bin first even when another Go is on PATH, without duplicates on repeat', () => {
    const r = runStdlib('use go; use go', { env: { PATH: `/usr/lib/go-1.19/bin:/usr/bin:${goroot}/bin` } });
    expect(r.vars.PATH).toBe(`${goroot}/bin:/usr/lib/go-1.19/bin:/usr/bin`);
  });

  it('[go] cache = "version": one cache per Go version under envd\'s cache dir', () => {
    const r = runStdlib('use go', { cache: 'version' });
    expect(r.vars.GOCACHE).toBe(sb.path('cache/envd/go-build/1.22.12'));
  });

  it('[go] cache = "shared": GOCACHE left alone (set stays set, unset stays unset)', () => {
    expect(runStdlib('use go', { cache: 'shared' }).vars.GOCACHE).toBeNull();
    expect(runStdlib('use go', { cache: 'shared', env: { GOCACHE: '/mine' } }).vars.GOCACHE).toBe('/mine');
  });

  it('defaults to the project cache when the engine passes no setting', () => {
    expect(runStdlib('use go', { cache: undefined }).vars.GOCACHE).toBe(join(proj, '.direnv/go-build'));
  });

  it('honours a direnv_layout_dir overridden in a direnvrc', () => {
    const r = runStdlib(`direnv_layout_dir() { echo ${JSON.stringify(sb.path('layouts/p'))}; }; use go`);
    expect(r.vars.GOCACHE).toBe(sb.path('layouts/p/go-build'));
  });

  it('exports nothing and fails when envd finds no SDK', () => {
    const r = runStdlib('use go 1.30', {
      env: { PATH: '/usr/bin:/bin' },
      rpc: 'log_error "Go 1.30.x is not installed (asked for explicitly); installed: 1.22.12; install it with: ..."; return 1',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('envd: Go 1.30.x is not installed');
    expect(r.vars).toMatchObject({ GOROOT: null, GOTOOLCHAIN: null, GOCACHE: null, PATH: '/usr/bin:/bin' });
  });

  it('refuses more than one version', () => {
    const r = runStdlib('use go 1.21 1.22');
    expect(r.status).not.toBe(0);
    expect(r.rpc).toEqual([]);
    expect(r.stderr).toContain('at most one version');
  });
});

describe('layout go', () => {
  it('puts the project GOPATH first, GOBIN there and on PATH, the project GOCACHE', () => {
    const r = runStdlib('layout go', { env: { GOPATH: '/home/u/go', PATH: '/usr/bin' } });
    expect(r.status).toBe(0);
    expect(r.vars.GOPATH).toBe(`${proj}/.direnv/go:/home/u/go`);
    expect(r.vars.GOBIN).toBe(`${proj}/.direnv/go/bin`);
    expect(r.vars.PATH).toBe(`${proj}/.direnv/go/bin:/usr/bin`);
    expect(r.vars.GOCACHE).toBe(`${proj}/.direnv/go-build`);
    // Nothing is created at load time: the go command makes these when it first needs them.
    expect(sb.run('test', ['-e', join(proj, '.direnv')]).status).toBe(1);
  });

  it('with GOPATH unset, the project entry alone', () => {
    expect(runStdlib('layout go').vars.GOPATH).toBe(`${proj}/.direnv/go`);
  });

  it('with use go: both orders give the same variables', () => {
    const a = runStdlib('use go; layout go', { env: { PATH: '/usr/bin' } });
    const b = runStdlib('layout go; use go', { env: { PATH: '/usr/bin' } });
    for (const v of ['GOROOT', 'GOPATH', 'GOBIN', 'GOCACHE', 'GOTOOLCHAIN']) expect(a.vars[v], v).toBe(b.vars[v]);
    expect(a.vars.PATH?.split(':').sort()).toEqual(b.vars.PATH?.split(':').sort());
  });

  it('[go] cache = "version" uses the version use go picked, else the Go on PATH', () => {
    expect(runStdlib('use go; layout go', { cache: 'version' }).vars.GOCACHE).toBe(sb.path('cache/envd/go-build/1.22.12'));
    const other = fakeGoroot(sb.path('sdk/go1.21.13'), '1.21.13');
    expect(runStdlib('layout go', { cache: 'version', env: { GOROOT: other } }).vars.GOCACHE).toBe(sb.path('cache/envd/go-build/1.21.13'));
    const old = fakeGoroot(sb.path('sdk/go1.19.8'), '1.19.8', { versionFile: 'go1.19.8' });
    expect(runStdlib('layout go', { cache: 'version', env: { PATH: `${old}/bin:/usr/bin:/bin` } }).vars.GOCACHE).toBe(sb.path('cache/envd/go-build/1.19.8'));
    // /usr/bin/go style symlink: bash asks go itself (GOTOOLCHAIN=local go env GOVERSION).
    sb.write(join(old, 'bin/go'), '#!/bin/sh\n[ "$GOTOOLCHAIN" = local ] && [ "$1 $2" = "env GOVERSION" ] && echo go1.19.8\n', 0o755);
    symlink(join(old, 'bin/go'), sb.path('usrbin/go'));
    expect(runStdlib('layout go', { cache: 'version', env: { PATH: `${sb.path('usrbin')}:/usr/bin:/bin` } }).vars.GOCACHE).toBe(sb.path('cache/envd/go-build/1.19.8'));
  });

  it('matches direnv\'s own layout_go for GOPATH and PATH', () => {
    const direnv = spawnSync('sh', ['-c', 'command -v direnv'], { encoding: 'utf8' });
    if (direnv.status !== 0) {
      process.stderr.write('[envd tests] SKIPPED: direnv is not installed; layout go is not compared with it\n');
      return;
    }
    const stdlib = spawnSync('direnv', ['stdlib'], { encoding: 'utf8' }).stdout;
    const lib = sb.write('direnv-stdlib.sh', stdlib);
    const theirs = sb.shell('bash', `. ${JSON.stringify(lib)}; cd "$PROJ"; layout_go; printf '%s\\n' "$GOPATH" "$PATH"`, {
      env: { PROJ: proj, GOPATH: '/home/u/go', PATH: '/usr/bin:/bin' },
    });
    const ours = runStdlib('layout go', { env: { GOPATH: '/home/u/go', PATH: '/usr/bin:/bin' } });
    expect(theirs.stdout).toBe(`${ours.vars.GOPATH}\n${ours.vars.PATH}\n`);
  });
});

describe('under strict_env (errexit, nounset, pipefail)', () => {
  it('use go and layout go work, in every cache mode', () => {
    for (const cache of ['project', 'version', 'shared']) {
      const r = runStdlib('strict_env; use go; layout go; unstrict_env', { cache, env: { PATH: '/usr/bin:/bin' } });
      expect(r.status, `${cache}: ${r.stderr}`).toBe(0);
      expect(r.vars.GOROOT).toBe(goroot);
    }
    const detect = runStdlib('strict_env; layout go; unstrict_env', { cache: 'version', env: { PATH: '/usr/bin:/bin' } });
    expect(detect.status, detect.stderr).toBe(0);
  });
});

describe('40-go.sh itself', () => {
  it('loads without running anything and passes shellcheck where installed', () => {
    // No command on PATH and `set -u`: loading must need neither.
    const load = sb.shell('bash', `PATH=${JSON.stringify(sb.mkdir('nothing-on-path'))}; set -u; . ${JSON.stringify(join(ROOT, 'stdlib/00-core.sh'))}; . ${JSON.stringify(join(ROOT, 'stdlib/40-go.sh'))}; declare -F use_go layout_go`);
    expect(load.status).toBe(0);
    expect(load.stdout).toBe('use_go\nlayout_go\n');
    const sc = spawnSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' });
    if (sc.status !== 0) {
      process.stderr.write('[envd tests] SKIPPED: shellcheck is not installed\n');
      return;
    }
    const r = spawnSync('shellcheck', ['-s', 'bash', join(ROOT, 'stdlib/40-go.sh')], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
