import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVD_BIN, ROOT, Sandbox, parseJsonExport } from './helpers/sandbox.js';
import { symlink } from './fixtures/go/sdk.js';

// The asdf + direnv recipe, unchanged, against the real Go 1.19, 1.21 and 1.22 SDKs laid
// out as asdf installs them (~/.asdf/installs/golang/X.Y.Z/go), with a .tool-versions
// pinning each. Needs the Debian packages golang-1.19-go, golang-1.21-go and golang-1.22-go
// (bookworm-backports); skipped with a notice without them, unless ENVD_REQUIRE_GO=1.

const SDKS = ['/usr/lib/go-1.19', '/usr/lib/go-1.21', '/usr/lib/go-1.22'];
const missing = SDKS.filter((d) => !existsSync(join(d, 'bin', 'go')));
const required = process.env.ENVD_REQUIRE_GO === '1';
if (missing.length > 0 && !required) {
  process.stderr.write(`[envd tests] SKIPPED: use asdf tests need ${missing.join(', ')} (apt-get install golang-1.19-go golang-1.21-go golang-1.22-go)\n`);
}

const RECIPE = [
  'use asdf',
  'export GOPATH="${HOME}/go-${ASDF_CURRENT_VERSION}"',
  'echo "✅ Go ${ASDF_CURRENT_VERSION} activated for $(basename $PWD)"',
  '',
].join('\n');

/** The version in an SDK's VERSION file (`go1.22.12` → `1.22.12`). */
function versionOf(goroot: string): string {
  return (readFileSync(join(goroot, 'VERSION'), 'utf8').split('\n')[0] ?? '').replace(/^go/, '');
}

describe.skipIf(missing.length > 0 && !required)('use asdf: the asdf-direnv recipe with real SDKs', () => {
  let sb: Sandbox;
  let env: Record<string, string>;
  const versions = new Map<string, string>();

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/go/asdf.js'))) throw new Error(`dist/ is not built: run 'npm run build' (${ENVD_BIN} loads dist/)`);
    if (missing.length > 0) throw new Error(`ENVD_REQUIRE_GO=1 but ${missing.join(', ')} not installed`);
    sb = new Sandbox({ daemon: false });
    // Only asdf's installs: the system copies stay out of discovery.
    env = { ENVD_GO_SYSTEM_ROOTS: sb.path('none/go-*'), PATH: `${sb.mkdir('empty')}:/usr/bin:/bin`, GOFLAGS: '', GOPROXY: 'off' };
    for (const root of SDKS) {
      const v = versionOf(root);
      versions.set(root, v);
      symlink(root, join(sb.home, '.asdf/installs/golang', v, 'go'));
      const name = `p${v.split('.').slice(0, 2).join('')}`;
      sb.write(`home/work/${name}/.tool-versions`, `golang ${v}\njq 1.7.1\npython 3.12.1\n`);
      sb.write(`home/work/${name}/.envrc`, RECIPE);
      expect(sb.envd(['allow', sb.path('home/work', name)], { env }).status).toBe(0);
    }
    // An installed asdf tool besides Go: its bin goes on PATH.
    sb.write('home/.asdf/installs/jq/1.7.1/bin/jq', '#!/bin/sh\necho jq-1.7.1\n', 0o755);
  });

  afterAll(() => {
    sb?.cleanup();
  });

  it.each([['/usr/lib/go-1.19', 'p119'], ['/usr/lib/go-1.21', 'p121'], ['/usr/lib/go-1.22', 'p122']])('%s: go version, GOROOT, ASDF_CURRENT_VERSION and the recipe\'s GOPATH', (root, name) => {
    const v = versions.get(root) ?? '';
    const proj = sb.path('home/work', name);
    const r = sb.envd(['exec', proj, 'bash', '-c', 'go version; go env GOROOT; echo "$ASDF_CURRENT_VERSION|$GOPATH|$GOTOOLCHAIN"; command -v jq'], { env, timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^go version go${v.replace(/\./g, '\\.')} `)),
      root,
      `${v}|${sb.home}/go-${v}|local`,
      join(sb.home, '.asdf/installs/jq/1.7.1/bin/jq'),
      '',
    ]);
    expect(r.stderr).toContain(`✅ Go ${v} activated for ${name}`);
    expect(r.stderr).toContain(`envd: using go ${v} from ${root}`);
    // One line for what asdf has not installed.
    expect(r.stderr.split('\n').filter((l) => l.includes('not installed'))).toEqual(["envd: use asdf: not installed under ~/.asdf: python 3.12.1 (run 'asdf install')"]);
  });

  it('switching projects switches Go; leaving restores the environment', () => {
    const before = { ...sb.env, ...env };
    const a = sb.envd(['export', 'json'], { env, cwd: sb.path('home/work/p119') });
    const inA = parseJsonExport(a.stdout);
    expect(inA.GOROOT).toBe('/usr/lib/go-1.19');
    expect(inA.ASDF_CURRENT_VERSION).toBe(versions.get('/usr/lib/go-1.19'));
    const b = sb.envd(['export', 'json'], { env: { ...env, ...inA } as Record<string, string>, cwd: sb.path('home/work/p122') });
    const inB = parseJsonExport(b.stdout);
    expect(inB.GOROOT).toBe('/usr/lib/go-1.22');
    expect(inB.PATH?.split(':').filter((p) => p.includes('go-1.19'))).toEqual([]);
    const out = sb.envd(['export', 'json'], { env: { ...env, ...inA, ...inB } as Record<string, string>, cwd: sb.home });
    const back = parseJsonExport(out.stdout);
    expect(back.GOROOT).toBeNull();
    expect(back.ASDF_CURRENT_VERSION).toBeNull();
    expect(back.PATH).toBe(before.PATH);
  });

  it("per tool, the nearest .tool-versions that lists it, then ~/.tool-versions (asdf's rule)", () => {
    sb.write('home/.tool-versions', `golang ${versions.get('/usr/lib/go-1.21') ?? ''}\n`);
    const proj = sb.mkdir('home/work/jqonly');
    sb.write('home/work/jqonly/.tool-versions', 'jq 1.7.1\n');
    sb.write('home/work/jqonly/.envrc', RECIPE);
    expect(sb.envd(['allow', proj], { env }).status).toBe(0);
    const r = sb.envd(['exec', proj, 'bash', '-c', 'go env GOROOT; command -v jq'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`/usr/lib/go-1.21\n${join(sb.home, '.asdf/installs/jq/1.7.1/bin/jq')}\n`);
    expect(r.stderr).not.toContain('not installed');
  });

  it('a Go that is not installed: use asdf fails naming the install command; the rest still loads', () => {
    const proj = sb.mkdir('home/work/future');
    sb.write('home/work/future/.tool-versions', 'golang 1.30.1\njq 1.7.1\n');
    sb.write('home/work/future/.envrc', 'use asdf || echo "asdf failed"\n');
    expect(sb.envd(['allow', proj], { env }).status).toBe(0);
    const r = sb.envd(['export', 'json'], { env, cwd: proj });
    expect(r.stderr).toContain('envd: use asdf: Go 1.30.1 is not installed (from golang entry of ~/work/future/.tool-versions); installed: ');
    expect(r.stderr).toContain('install it with: envd go install 1.30.1');
    expect(r.stderr).toContain('asdf failed');
    const vars = parseJsonExport(r.stdout);
    expect(vars.GOROOT).toBeUndefined();
    expect(vars.PATH).toContain(join(sb.home, '.asdf/installs/jq/1.7.1/bin'));
  });

  it("asdf-direnv's own use_asdf wins when a user extension defines it", () => {
    sb.write('home/.config/direnv/lib/use_asdf.sh', 'use_asdf() { export FROM_ASDF_DIRENV=1 ASDF_CURRENT_VERSION=theirs; }\n');
    try {
      const r = sb.envd(['export', 'json'], { env, cwd: sb.path('home/work/p122') });
      const vars = parseJsonExport(r.stdout);
      expect(vars.FROM_ASDF_DIRENV).toBe('1');
      expect(vars.GOROOT).toBeUndefined();
      expect(r.stderr).toContain('✅ Go theirs activated for p122');
    } finally {
      sb.run('rm', [sb.path('home/.config/direnv/lib/use_asdf.sh')]);
    }
  });
});
