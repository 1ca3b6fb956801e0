import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox } from './helpers/sandbox.js';
import { fakeGoroot } from './fixtures/go/sdk.js';

// gvm's `.gvmrc` and the `.golang-version` file, through the real binary: `envd go which`
// says what they select and why, `use go` follows them, and `[go] auto` treats them as pins.

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/go.js'))) throw new Error(`dist/ is not built: run 'npm run build' before these tests (${ENVD_BIN} loads dist/cli/main.js)`);
});

interface Which {
  goroot: string;
  version: string;
  source: string;
  wanted: string;
  reason: string;
  consulted: string[];
  warnings: string[];
  error?: { code: string; message: string };
}

let sb: Sandbox;
let env: Record<string, string>;
let proj: string;
beforeEach(() => {
  sb = new Sandbox({ daemon: false });
  env = { ENVD_GO_SYSTEM_ROOTS: sb.path('sys/usr/lib/go-*'), PATH: `${sb.mkdir('empty')}:/usr/bin:/bin` };
  fakeGoroot(sb.path('sys/usr/lib/go-1.19'), '1.19.8');
  fakeGoroot(sb.path('sys/usr/lib/go-1.22'), '1.22.12');
  fakeGoroot(join(sb.home, '.gvm/gos/go1.21.5'), '1.21.5');
  proj = sb.mkdir('home/work/proj');
});
afterEach(() => {
  sb.cleanup();
});

function which(dir = proj): Which {
  const r = sb.envd(['go', 'which', '--json', '--dir', dir], { env });
  return JSON.parse(r.stdout) as Which;
}

describe('.gvmrc', () => {
  it('`gvm use goX.Y.Z` pins that release, explained by envd go which', () => {
    sb.write(join(proj, '.gvmrc'), 'gvm use go1.21.5\n');
    const w = which();
    expect(w.version).toBe('1.21.5');
    expect(w.source).toBe('gvm');
    expect(w.reason).toBe('~/work/proj/.gvmrc');
    expect(w.consulted).toContain(join(proj, '.gvmrc'));
    const text = sb.envd(['go', 'which', '--dir', proj], { env });
    expect(text.stdout).toBe(join(sb.home, '.gvm/gos/go1.21.5') + '\n');
    expect(text.stderr).toContain('wanted: 1.21.5 (~/work/proj/.gvmrc)');
  });

  it('with --default, a line prefix (goX.Y), comments and other lines; the last gvm use wins', () => {
    sb.write(join(proj, '.gvmrc'), '# project Go\nexport FOO=1\ngvm use go1.19 --default\ngvm use --default go1.22 # canary\n');
    expect(which().version).toBe('1.22.12');
    sb.write(join(proj, '.gvmrc'), 'gvm use go1.19 --default\n');
    expect(which().version).toBe('1.19.8');
  });

  it('`gvm use system`, or no gvm use line, pins nothing: the next source decides', () => {
    sb.write(join(proj, '.tool-versions'), 'golang 1.19.8\n');
    sb.write(join(proj, '.gvmrc'), 'gvm use system\n');
    expect(which().reason).toBe('golang entry of ~/work/proj/.tool-versions');
    sb.write(join(proj, '.gvmrc'), 'echo hello\n');
    expect(which().version).toBe('1.19.8');
  });

  it('a pkgset (gvm pkgset use, or go1.X@set) is named in a warning pointing at layout go', () => {
    sb.write(join(proj, '.gvmrc'), 'gvm use go1.21.5\ngvm pkgset use billing\n');
    expect(which().warnings).toEqual(["gvm pkgset 'billing' in ~/work/proj/.gvmrc is not applied; add 'layout go' to the .envrc for a per-project GOPATH"]);
    sb.write(join(proj, '.gvmrc'), 'gvm use go1.21.5@api\n');
    const w = which();
    expect(w.version).toBe('1.21.5');
    expect(w.warnings[0]).toContain("gvm pkgset 'api'");
  });

  it('a version that is not Go is one CONFIG_INVALID line naming the file', () => {
    sb.write(join(proj, '.gvmrc'), 'gvm use banana\n');
    const r = sb.envd(['go', 'which', '--dir', proj], { env });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("envd: ~/work/proj/.gvmrc: gvm use 'banana' is not a Go version (expected e.g. 1.22.5, 1.22 or go1.22.5)");
  });

  it('a FIFO named .gvmrc (or .golang-version) is never opened: it pins nothing and nothing hangs', () => {
    sb.run('mkfifo', [join(proj, '.gvmrc'), join(proj, '.golang-version')]);
    const r = sb.envd(['go', 'which', '--dir', proj, '--json'], { env, timeoutMs: 10_000 });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Which).version).toBe('1.22.12');
    sb.write(join(sb.home, '.config/envd/envd.toml'), '[go]\nauto = true\n');
    const e = sb.envd(['export', 'json'], { env, cwd: proj, timeoutMs: 10_000 });
    expect(e.status, e.stderr).toBe(0);
  });
});

describe('.golang-version', () => {
  it('pins like .go-version', () => {
    sb.write(join(proj, '.golang-version'), '1.19\n');
    const w = which();
    expect(w.version).toBe('1.19.8');
    expect(w.reason).toBe('~/work/proj/.golang-version');
  });

  it('order: the nearest directory with a version file wins; within one, .go-version > .golang-version > .gvmrc', () => {
    sb.write(join(sb.home, 'work/.go-version'), '1.22\n');
    sb.write(join(proj, '.gvmrc'), 'gvm use go1.19\n');
    expect(which().version).toBe('1.19.8');
    sb.write(join(proj, '.golang-version'), '1.21\n');
    expect(which().reason).toBe('~/work/proj/.golang-version');
    sb.write(join(proj, '.go-version'), '1.22\n');
    expect(which().reason).toBe('~/work/proj/.go-version');
    // The toolchain line still comes first, and .tool-versions after.
    sb.write(join(proj, 'go.mod'), 'module x\n\ngo 1.19\n\ntoolchain go1.19.8\n');
    expect(which().reason).toBe('toolchain line of ~/work/proj/go.mod');
  });

  it('a missing .golang-version or .gvmrc is watched where the .envrc lives', () => {
    const w = which();
    expect(w.consulted).toContain(join(proj, '.golang-version'));
    expect(w.consulted).toContain(join(proj, '.gvmrc'));
  });
});

describe('use go and [go] auto follow them', () => {
  it('use go in an .envrc selects the .gvmrc version', () => {
    sb.write(join(proj, '.gvmrc'), 'gvm use go1.21.5 --default\n');
    sb.write(join(proj, '.envrc'), 'use go\n');
    expect(sb.envd(['allow', proj], { env }).status).toBe(0);
    const r = sb.envd(['exec', proj, 'go', 'version'], { env });
    expect(r.stdout).toBe('go version go1.21.5 linux/amd64\n');
  });

  it('[go] auto: a directory with only a .golang-version or a .gvmrc gets its Go', () => {
    sb.write(join(sb.home, '.config/envd/envd.toml'), '[go]\nauto = true\n');
    sb.write(join(proj, '.golang-version'), '1.19\n');
    const other = sb.mkdir('home/work/other');
    mkdirSync(other, { recursive: true });
    sb.write(join(other, '.gvmrc'), 'gvm use go1.21.5\n');
    const a = JSON.parse(sb.envd(['export', 'json'], { env, cwd: proj }).stdout) as Record<string, string>;
    expect(a.GOROOT).toBe(sb.path('sys/usr/lib/go-1.19'));
    const b = JSON.parse(sb.envd(['export', 'json'], { env, cwd: other }).stdout) as Record<string, string>;
    expect(b.GOROOT).toBe(join(sb.home, '.gvm/gos/go1.21.5'));
  });
});
