import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox } from './helpers/sandbox.js';
import { fakeGoroot, symlink } from './fixtures/go/sdk.js';

// `envd go list` and `envd go which` through the real binary (bin/envd runs dist/: `npm
// run build` first). System roots point into the sandbox so the host's SDKs stay out.

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/go.js'))) throw new Error(`dist/ is not built: run 'npm run build' before these tests (${ENVD_BIN} loads dist/cli/main.js)`);
});

let sb: Sandbox;
let env: Record<string, string>;
beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  env = { ENVD_GO_SYSTEM_ROOTS: sb.path('sys/usr/lib/go-*'), PATH: `${sb.mkdir('empty')}:/usr/bin:/bin` };
  fakeGoroot(sb.path('sys/usr/lib/go-1.19'), '1.19.8', { versionFile: 'go1.19.8' });
  fakeGoroot(sb.path('sys/usr/lib/go-1.22'), '1.22.12');
  fakeGoroot(join(sb.home, 'sdk/go1.21.13'), '1.21.13');
  fakeGoroot(join(sb.home, '.local/share/mise/installs/go/1.22.5'), '1.22.5');
});
afterEach(() => {
  sb.cleanup();
});

describe('envd go list', () => {
  it('--json: version, path, source, newest first', () => {
    const r = sb.envd(['go', 'list', '--json'], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { version: '1.22.12', path: sb.path('sys/usr/lib/go-1.22'), source: 'debian' },
      { version: '1.22.5', path: join(sb.home, '.local/share/mise/installs/go/1.22.5'), source: 'mise' },
      { version: '1.21.13', path: join(sb.home, 'sdk/go1.21.13'), source: 'sdk' },
      { version: '1.19.8', path: sb.path('sys/usr/lib/go-1.19'), source: 'debian' },
    ]);
  });

  it('as a table, home shown as ~', () => {
    const r = sb.envd(['go', 'list'], { env });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/));
    expect(lines).toEqual([
      ['1.22.12', sb.path('sys/usr/lib/go-1.22'), 'debian'],
      ['1.22.5', '~/.local/share/mise/installs/go/1.22.5', 'mise'],
      ['1.21.13', '~/sdk/go1.21.13', 'sdk'],
      ['1.19.8', sb.path('sys/usr/lib/go-1.19'), 'debian'],
    ]);
  });

  it('includes [go] sdk_dirs from envd.toml and the go on PATH', () => {
    fakeGoroot(sb.path('custom/go-a'), '1.20.3');
    sb.write(join(sb.home, '.config/envd/envd.toml'), `[go]\nsdk_dirs = [${JSON.stringify(sb.path('custom'))}]\n`);
    const onPath = fakeGoroot(sb.path('opt/go-1.18'), '1.18.10');
    symlink(join(onPath, 'bin/go'), sb.path('bin/go'));
    const r = sb.envd(['go', 'list', '--json'], { env: { ...env, PATH: `${sb.path('bin')}:/usr/bin:/bin` } });
    const list = JSON.parse(r.stdout) as { version: string; source: string }[];
    expect(list.map((s) => `${s.version}/${s.source}`)).toEqual(['1.22.12/debian', '1.22.5/mise', '1.21.13/sdk', '1.20.3/config', '1.19.8/debian', '1.18.10/path']);
  });

  it('nothing installed: an empty list, and a hint for people', () => {
    const other = sb.mkdir('other-home');
    const none = { ENVD_GO_SYSTEM_ROOTS: '', HOME: other, XDG_DATA_HOME: join(other, '.local/share'), PATH: '/usr/bin:/bin' };
    expect(JSON.parse(sb.envd(['go', 'list', '--json'], { env: none }).stdout)).toEqual([]);
    const r = sb.envd(['go', 'list'], { env: none });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no Go SDKs found');
  });
});

describe('envd go which', () => {
  it('prints the GOROOT on stdout and why on stderr', () => {
    const proj = sb.mkdir('proj');
    sb.write('proj/go.mod', 'module m\n\ngo 1.21\n\ntoolchain go1.22.1\n');
    const r = sb.envd(['go', 'which'], { env, cwd: proj });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(sb.path('sys/usr/lib/go-1.22') + '\n');
    expect(r.stderr).toBe(`envd: go 1.22.12 (debian); wanted: 1.22.1 (toolchain line of ${proj}/go.mod)\n`);
  });

  it('takes a version and --dir', () => {
    sb.write('proj/.go-version', '1.19\n');
    expect(sb.envd(['go', 'which', '--dir', sb.path('proj')], { env }).stdout).toBe(sb.path('sys/usr/lib/go-1.19') + '\n');
    expect(sb.envd(['go', 'which', '1.22.5', '--dir', sb.path('proj')], { env }).stdout).toBe(join(sb.home, '.local/share/mise/installs/go/1.22.5') + '\n');
    expect(sb.envd(['go', 'which', 'go1.21'], { env }).stdout).toBe(join(sb.home, 'sdk/go1.21.13') + '\n');
    expect(sb.envd(['go', 'which', '--dir=proj'], { env, cwd: sb.root }).stdout).toBe(sb.path('sys/usr/lib/go-1.19') + '\n');
  });

  it('--json carries the whole resolution', () => {
    sb.write('proj/.tool-versions', 'golang 1.21.13\n');
    const r = sb.envd(['go', 'which', '--json', '--dir', sb.path('proj')], { env });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      goroot: join(sb.home, 'sdk/go1.21.13'),
      version: '1.21.13',
      source: 'sdk',
      wanted: '1.21.13',
      reason: `golang entry of ${sb.path('proj')}/.tool-versions`,
      consulted: expect.arrayContaining([sb.path('proj/.tool-versions')]) as unknown,
      warnings: [],
    });
  });

  it('not installed: exit 1, nothing on stdout, the one-line error', () => {
    sb.write('proj/.go-version', '1.23.4\n');
    const r = sb.envd(['go', 'which', '--dir', sb.path('proj')], { env });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`envd: Go 1.23.4 is not installed (from ${sb.path('proj')}/.go-version); installed: 1.22.12, 1.22.5, 1.21.13, 1.19.8; install it with: envd go install 1.23.4\n`);
  });

  it('warns when the pin is older than go.mod requires', () => {
    sb.write('proj/go.mod', 'module m\n\ngo 1.21\n');
    sb.write('proj/.go-version', '1.19\n');
    const r = sb.envd(['go', 'which', '--dir', sb.path('proj')], { env });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("envd: warning: go 1.19.8 is older than the 'go 1.21' line");
  });

  it('bad usage exits 2 with a hint', () => {
    expect(sb.envd(['go', 'which', 'banana'], { env }).status).toBe(2);
    expect(sb.envd(['go', 'which', '1.21', '1.22'], { env }).status).toBe(2);
    expect(sb.envd(['go', 'which', '--dir'], { env }).status).toBe(2);
    const nowhere = sb.envd(['go', 'which', '--dir', sb.path('nowhere')], { env });
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toContain('is not a directory');
    expect(sb.envd(['go', 'frobnicate'], { env }).stderr).toContain("unknown subcommand 'frobnicate'");
    expect(sb.envd(['go'], { env }).status).toBe(2);
    expect(sb.envd(['go', '--help'], { env }).status).toBe(0);
  });
});
