import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/config.js';
import { resolvePaths } from '../src/config/paths.js';
import {
  DEFAULT_SYSTEM_ROOTS,
  discoverGoSdks,
  expandPattern,
  sdkRoots,
  sdkWatchDirs,
  systemSourceOf,
  type DiscoveryInput,
} from '../src/go/discover.js';
import { createGoProvider } from '../src/go/provider.js';
import type { GoSdk } from '../src/go/types.js';
import { Sandbox } from './helpers/sandbox.js';
import { fakeGoroot, symlink } from './fixtures/go/sdk.js';

let sb: Sandbox;
/** A PATH with no go on it, so the host's SDKs never leak into these tests. */
let emptyPath: string;

beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  emptyPath = sb.mkdir('empty-bin');
});
afterEach(() => {
  sb.cleanup();
});

function input(env: Record<string, string | undefined> = {}, sdkDirs: string[] = []): DiscoveryInput {
  return {
    env: { HOME: sb.home, PATH: emptyPath, ENVD_GO_SYSTEM_ROOTS: '', ...env },
    home: sb.home,
    sdkDirs,
  };
}

function brief(sdks: GoSdk[]): string[] {
  return sdks.map((s) => `${s.version} ${s.source} ${s.root.startsWith(sb.root) ? s.root.slice(sb.root.length) : s.root}`);
}

describe('Go SDK discovery, one layout per manager', () => {
  it('finds nothing in an empty home with no system roots', () => {
    expect(discoverGoSdks(input())).toEqual([]);
  });

  it('system roots: /usr/local/go, Debian /usr/lib/go-*, Homebrew cellars (ENVD_GO_SYSTEM_ROOTS)', () => {
    fakeGoroot(sb.path('sys/usr/local/go'), '1.20');
    fakeGoroot(sb.path('sys/usr/lib/go-1.19'), '1.19.8', { versionFile: 'go1.19.8' });
    fakeGoroot(sb.path('sys/usr/lib/go-1.22'), '1.22.12');
    fakeGoroot(sb.path('sys/opt/homebrew/Cellar/go/1.21.5/libexec'), '1.21.5');
    fakeGoroot(sb.path('sys/usr/local/Cellar/go/1.18.10/libexec'), '1.18.10');
    const roots = [
      sb.path('sys/usr/local/go'),
      sb.path('sys/usr/lib/go-*'),
      sb.path('sys/opt/homebrew/Cellar/go/*/libexec'),
      sb.path('sys/usr/local/Cellar/go/*/libexec'),
    ].join(':');
    expect(brief(discoverGoSdks(input({ ENVD_GO_SYSTEM_ROOTS: roots })))).toEqual([
      '1.22.12 debian /sys/usr/lib/go-1.22',
      '1.21.5 homebrew /sys/opt/homebrew/Cellar/go/1.21.5/libexec',
      '1.20 usr-local /sys/usr/local/go',
      '1.19.8 debian /sys/usr/lib/go-1.19',
      '1.18.10 homebrew /sys/usr/local/Cellar/go/1.18.10/libexec',
    ]);
  });

  it('golang.org/dl: ~/sdk/go1.X.Y (gotip without a VERSION is skipped)', () => {
    fakeGoroot(join(sb.home, 'sdk/go1.22.5'), '1.22.5');
    fakeGoroot(join(sb.home, 'sdk/go1.21.0'), '1.21.0');
    mkdirSync(join(sb.home, 'sdk/gotip/bin'), { recursive: true });
    mkdirSync(join(sb.home, 'sdk/other'), { recursive: true });
    expect(brief(discoverGoSdks(input()))).toEqual([
      '1.22.5 sdk /home/sdk/go1.22.5',
      '1.21.0 sdk /home/sdk/go1.21.0',
    ]);
  });

  it('gvm: ~/.gvm/gos/goX.Y.Z, and $GVM_ROOT', () => {
    fakeGoroot(join(sb.home, '.gvm/gos/go1.20.14'), '1.20.14');
    expect(brief(discoverGoSdks(input()))).toEqual(['1.20.14 gvm /home/.gvm/gos/go1.20.14']);
    fakeGoroot(sb.path('gvm-elsewhere/gos/go1.17.13'), '1.17.13');
    expect(brief(discoverGoSdks(input({ GVM_ROOT: sb.path('gvm-elsewhere') })))).toEqual(['1.17.13 gvm /gvm-elsewhere/gos/go1.17.13']);
  });

  it('asdf: ~/.asdf/installs/golang/X.Y.Z/go, and $ASDF_DATA_DIR', () => {
    fakeGoroot(join(sb.home, '.asdf/installs/golang/1.21.5/go'), '1.21.5');
    mkdirSync(join(sb.home, '.asdf/installs/golang/1.21.5/packages'), { recursive: true });
    expect(brief(discoverGoSdks(input()))).toEqual(['1.21.5 asdf /home/.asdf/installs/golang/1.21.5/go']);
    fakeGoroot(sb.path('asdf-data/installs/golang/1.22.1/go'), '1.22.1');
    expect(brief(discoverGoSdks(input({ ASDF_DATA_DIR: sb.path('asdf-data') })))).toEqual(['1.22.1 asdf /asdf-data/installs/golang/1.22.1/go']);
  });

  it('mise: ~/.local/share/mise/installs/go/X.Y.Z (alias symlinks deduped), $MISE_DATA_DIR, and the asdf-plugin layout', () => {
    const real = fakeGoroot(join(sb.home, '.local/share/mise/installs/go/1.22.3'), '1.22.3');
    symlink(real, join(sb.home, '.local/share/mise/installs/go/1.22'));
    symlink(real, join(sb.home, '.local/share/mise/installs/go/latest'));
    fakeGoroot(sb.path('mise-data/installs/go/1.18.10'), '1.18.10');
    fakeGoroot(join(sb.home, '.local/share/mise/installs/golang/1.19.2/go'), '1.19.2');
    expect(brief(discoverGoSdks(input({ MISE_DATA_DIR: sb.path('mise-data') })))).toEqual([
      '1.22.3 mise /home/.local/share/mise/installs/go/1.22.3',
      '1.19.2 mise /home/.local/share/mise/installs/golang/1.19.2/go',
      '1.18.10 mise /mise-data/installs/go/1.18.10',
    ]);
  });

  it('goenv: ~/.goenv/versions/X.Y.Z, and $GOENV_ROOT', () => {
    fakeGoroot(join(sb.home, '.goenv/versions/1.21.1'), '1.21.1');
    fakeGoroot(sb.path('goenv-root/versions/1.16.15'), '1.16.15');
    expect(brief(discoverGoSdks(input()))).toEqual(['1.21.1 goenv /home/.goenv/versions/1.21.1']);
    expect(brief(discoverGoSdks(input({ GOENV_ROOT: sb.path('goenv-root') })))).toEqual(['1.16.15 goenv /goenv-root/versions/1.16.15']);
  });

  it('toolchains the go command downloaded: ~/go/pkg/mod, $GOPATH and $GOMODCACHE', () => {
    fakeGoroot(join(sb.home, 'go/pkg/mod/golang.org/toolchain@v0.0.1-go1.22.1.linux-amd64'), '1.22.1');
    mkdirSync(join(sb.home, 'go/pkg/mod/golang.org/x/mod@v0.14.0'), { recursive: true });
    expect(brief(discoverGoSdks(input()))).toEqual(['1.22.1 toolchain-cache /home/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.22.1.linux-amd64']);
    fakeGoroot(sb.path('gp/pkg/mod/golang.org/toolchain@v0.0.1-go1.21.4.linux-amd64'), '1.21.4');
    expect(brief(discoverGoSdks(input({ GOPATH: `${sb.path('gp')}:${sb.path('other')}` })))).toEqual([
      '1.21.4 toolchain-cache /gp/pkg/mod/golang.org/toolchain@v0.0.1-go1.21.4.linux-amd64',
    ]);
    fakeGoroot(sb.path('modcache/golang.org/toolchain@v0.0.1-go1.23rc1.linux-amd64'), '1.23rc1');
    expect(brief(discoverGoSdks(input({ GOPATH: sb.path('gp'), GOMODCACHE: sb.path('modcache') })))).toEqual([
      '1.23rc1 toolchain-cache /modcache/golang.org/toolchain@v0.0.1-go1.23rc1.linux-amd64',
    ]);
  });

  it('the go on PATH: symlink resolved, GOROOT = parent of bin; a shim adds nothing', () => {
    const root = fakeGoroot(sb.path('opt/custom-go'), '1.21.9');
    symlink(join(root, 'bin/go'), sb.path('usr/bin/go'));
    expect(brief(discoverGoSdks(input({ PATH: `${emptyPath}:${sb.path('usr/bin')}` })))).toEqual(['1.21.9 path /opt/custom-go']);
    // A version manager's shim is a script with no GOROOT around it.
    sb.write('shims/go', '#!/bin/sh\nexec goenv exec go "$@"\n', 0o755);
    expect(discoverGoSdks(input({ PATH: `${sb.path('shims')}:${sb.path('usr/bin')}` }))).toEqual([]);
    // Not executable: not what a shell would run.
    sb.write('noexec/go', 'x', 0o644);
    expect(brief(discoverGoSdks(input({ PATH: `${sb.path('noexec')}:${sb.path('usr/bin')}` })))).toEqual(['1.21.9 path /opt/custom-go']);
  });

  it('[go] sdk_dirs: a GOROOT, or a directory of GOROOTs, ~ expanded', () => {
    fakeGoroot(join(sb.home, 'toolchains/go-a'), '1.20.3');
    fakeGoroot(join(sb.home, 'toolchains/go-b'), '1.21.2');
    fakeGoroot(sb.path('single'), '1.22.0');
    writeFileSync(join(sb.home, 'toolchains/README'), 'not a goroot');
    expect(brief(discoverGoSdks(input({}, ['~/toolchains', sb.path('single'), sb.path('missing')])))).toEqual([
      '1.22.0 config /single',
      '1.21.2 config /home/toolchains/go-b',
      '1.20.3 config /home/toolchains/go-a',
    ]);
  });

  it('dedupes by real path: the first (most specific) source names it', () => {
    const real = fakeGoroot(sb.path('sys/usr/lib/go-1.22'), '1.22.12');
    symlink(real, sb.path('sys/usr/lib/go'));
    symlink(join(real, 'bin/go'), sb.path('usr/bin/go'));
    symlink(real, join(sb.home, 'sdk/go1.22.12'));
    const sdks = discoverGoSdks(input({
      ENVD_GO_SYSTEM_ROOTS: `${sb.path('sys/usr/lib/go-*')}:${sb.path('sys/usr/lib/go')}`,
      PATH: sb.path('usr/bin'),
    }, [sb.path('sys/usr/lib')]));
    expect(brief(sdks)).toEqual(['1.22.12 sdk /sys/usr/lib/go-1.22']);
  });

  it('sorts newest first, pre-releases below their release', () => {
    for (const v of ['1.21rc2', '1.21.0', '1.20', '1.22.1', '1.20.1', '1.21.13']) fakeGoroot(join(sb.home, `sdk/go${v}`), v);
    expect(discoverGoSdks(input()).map((s) => s.version)).toEqual(['1.22.1', '1.21.13', '1.21.0', '1.21rc2', '1.20.1', '1.20']);
  });

  it('skips trees that are not usable SDKs: no bin/go, devel builds, empty VERSION', () => {
    fakeGoroot(join(sb.home, 'sdk/go1.22.0'), '1.22.0', { noBinary: true });
    fakeGoroot(join(sb.home, 'sdk/go-devel'), '1.23', { versionFile: 'devel go1.23-1234abcd Mon Jan 1\n' });
    fakeGoroot(join(sb.home, 'sdk/go-empty'), '1.23', { versionFile: '' });
    fakeGoroot(join(sb.home, 'sdk/go1.21.1'), '1.21.1');
    expect(discoverGoSdks(input()).map((s) => s.version)).toEqual(['1.21.1']);
  });

  it('reads VERSION only: the SDK binaries are never run', () => {
    const root = fakeGoroot(join(sb.home, 'sdk/go1.22.2'), '1.22.2');
    const marker = sb.path('ran');
    sb.write(join(root, 'bin/go'), `#!/bin/sh\ntouch ${marker}\n`, 0o755);
    discoverGoSdks(input({ PATH: join(root, 'bin') }));
    expect(sb.run('test', ['-e', marker]).status).toBe(1);
  });
});

describe('system roots and watch roots', () => {
  it('uses the built-in system list unless ENVD_GO_SYSTEM_ROOTS replaces it', () => {
    const env = { HOME: sb.home, PATH: emptyPath };
    const patterns = (e: Record<string, string>): string[] => sdkRoots({ env: e, home: sb.home, sdkDirs: [] }).map((r) => r.pattern);
    for (const p of DEFAULT_SYSTEM_ROOTS) expect(patterns(env)).toContain(p);
    const replaced = patterns({ ...env, ENVD_GO_SYSTEM_ROOTS: '/x/go:/y/go-*' });
    for (const p of DEFAULT_SYSTEM_ROOTS) expect(replaced).not.toContain(p);
    expect(replaced).toEqual(expect.arrayContaining(['/x/go', '/y/go-*']));
  });

  it('labels system paths by shape', () => {
    expect(systemSourceOf('/usr/lib/go-1.22')).toBe('debian');
    expect(systemSourceOf('/usr/lib/go')).toBe('debian');
    expect(systemSourceOf('/usr/local/go')).toBe('usr-local');
    expect(systemSourceOf('/opt/homebrew/Cellar/go/1.22.5/libexec')).toBe('homebrew');
    expect(systemSourceOf('/snap/go/current')).toBe('system');
  });

  it('expands * within one path component only', () => {
    sb.mkdir('g/go-1.21/x');
    sb.mkdir('g/go-1.22');
    sb.mkdir('g/.go-hidden');
    sb.mkdir('g/other');
    expect(expandPattern(sb.path('g/go-*'))).toEqual([sb.path('g/go-1.21'), sb.path('g/go-1.22')]);
    expect(expandPattern(sb.path('g/*/x'))).toEqual([sb.path('g/go-1.21/x')]);
    expect(expandPattern('relative/*')).toEqual([]);
  });

  it('lists the directories a watcher needs', () => {
    const dirs = sdkWatchDirs(input({ ENVD_GO_SYSTEM_ROOTS: '/usr/lib/go-*:/usr/local/go' }, ['~/toolchains']));
    expect(dirs).toEqual(expect.arrayContaining([
      join(sb.home, 'sdk'),
      join(sb.home, '.gvm/gos'),
      join(sb.home, '.asdf/installs/golang'),
      join(sb.home, '.goenv/versions'),
      join(sb.home, 'go/pkg/mod/golang.org'),
      '/usr/lib',
      '/usr/local',
      join(sb.home, 'toolchains'),
    ]));
  });
});

describe('createGoProvider', () => {
  it('discovers on first use, caches, and rediscovers after refresh()', () => {
    const env = { HOME: sb.home, PATH: emptyPath, ENVD_GO_SYSTEM_ROOTS: '' };
    const provider = createGoProvider(resolvePaths(env), defaultConfig(), env);
    fakeGoroot(join(sb.home, 'sdk/go1.21.3'), '1.21.3');
    expect(provider.list().map((s) => s.version)).toEqual(['1.21.3']);
    fakeGoroot(join(sb.home, 'sdk/go1.22.4'), '1.22.4');
    expect(provider.list().map((s) => s.version)).toEqual(['1.21.3']);
    provider.refresh();
    expect(provider.list().map((s) => s.version)).toEqual(['1.22.4', '1.21.3']);
  });

  it('looks again before saying a version is not installed', () => {
    const env = { HOME: sb.home, PATH: emptyPath, ENVD_GO_SYSTEM_ROOTS: '' };
    const provider = createGoProvider(resolvePaths(env), defaultConfig(), env);
    fakeGoroot(join(sb.home, 'sdk/go1.21.3'), '1.21.3');
    expect(provider.list()).toHaveLength(1);
    fakeGoroot(join(sb.home, 'sdk/go1.22.4'), '1.22.4');
    expect(provider.resolve(sb.root, '1.22').sdk.version).toBe('1.22.4');
  });

  it('reads [go] sdk_dirs from the config', () => {
    const env = { HOME: sb.home, PATH: emptyPath, ENVD_GO_SYSTEM_ROOTS: '' };
    const config = defaultConfig();
    config.go.sdkDirs = ['~/my-gos'];
    fakeGoroot(join(sb.home, 'my-gos/a'), '1.20.7');
    const provider = createGoProvider(resolvePaths(env), config, env);
    expect(provider.list()).toEqual([{ version: '1.20.7', root: join(sb.home, 'my-gos/a'), source: 'config' }]);
  });
});
