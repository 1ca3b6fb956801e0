import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJsonExport, Sandbox } from './helpers/sandbox.js';
import { fakeGoroot } from './fixtures/go/sdk.js';

// `use go` through the real engine (envd export json), with fake SDKs so it runs anywhere:
// the RPC wiring, the [go] cache setting reaching bash, [go] auto, failures that apply
// nothing, and re-resolution when a version file changes or the missing SDK appears.

let sb: Sandbox;
let env: Record<string, string>;
let proj: string;

// Every test runs twice: in-process (ENVD_NO_DAEMON=1) and against a real daemon, whose
// SDK list and evaluation cache outlive a single command.
describe.each([['one-shot', false], ['daemon', true]] as const)('%s', (_mode, daemon) => {
  beforeEach(() => {
    sb = new Sandbox({ daemon });
    fakeGoroot(sb.path('sys/go-1.21'), '1.21.13');
    fakeGoroot(sb.path('sys/go-1.22'), '1.22.12');
    env = { ENVD_GO_SYSTEM_ROOTS: sb.path('sys/go-*'), PATH: '/usr/bin:/bin' };
    proj = sb.mkdir('proj');
  });
  afterEach(() => {
    sb.cleanup();
  });

  function exportJson(cwd: string, extra: Record<string, string> = {}): { status: number | null; vars: Record<string, string | null>; stderr: string } {
    const r = sb.envd(['export', 'json'], { cwd, env: { ...env, ...extra } });
    return { status: r.status, vars: r.status === 0 ? parseJsonExport(r.stdout) : {}, stderr: r.stderr };
  }

  function allow(): void {
    const r = sb.envd(['allow', proj], { env });
    expect(r.status, r.stderr).toBe(0);
  }

  describe('use go through the engine', () => {
    it('exports GOROOT, PATH, GOTOOLCHAIN and the project GOCACHE', () => {
      sb.write('proj/.go-version', '1.21\n');
      sb.write('proj/.envrc', 'use go\n');
      allow();
      const r = exportJson(proj);
      expect(r.status, r.stderr).toBe(0);
      expect(r.vars).toMatchObject({
        GOROOT: sb.path('sys/go-1.21'),
        PATH: `${sb.path('sys/go-1.21')}/bin:/usr/bin:/bin`,
        GOTOOLCHAIN: 'local',
        GOCACHE: join(proj, '.direnv/go-build'),
      });
    });

    it('[go] cache = "version" puts GOCACHE under $XDG_CACHE_HOME/envd/go-build/VERSION', () => {
      sb.write(join(sb.home, '.config/envd/envd.toml'), '[go]\ncache = "version"\n');
      sb.write('proj/.envrc', 'use go 1.22\n');
      allow();
      const r = exportJson(proj);
      expect(r.vars.GOCACHE).toBe(join(sb.home, '.cache/envd/go-build/1.22.12'));
    });

    it('a missing version fails with the one-line message and applies nothing', () => {
      sb.write('proj/.envrc', 'export BEFORE=1\nuse go 1.30 || exit 1\n');
      allow();
      const r = sb.envd(['export', 'json'], { cwd: proj, env });
      expect(r.stderr).toContain('Go 1.30.x is not installed (asked for explicitly); installed: 1.22.12, 1.21.13; install it with: envd go install 1.30');
      const vars = r.stdout.trim() === '' ? {} : parseJsonExport(r.stdout);
      expect(vars.GOROOT).toBeUndefined();
      expect(vars.BEFORE).toBeUndefined();
    });

    it('installing the missing SDK makes the failed .envrc work at the next prompt', () => {
      sb.write('proj/.envrc', 'use go 1.23\n');
      allow();
      const before = sb.envd(['export', 'json'], { cwd: proj, env });
      expect(before.stderr).toContain('Go 1.23.x is not installed');
      const state: Record<string, string> = { ...env };
      if (before.stdout.trim() !== '') {
        for (const [k, v] of Object.entries(parseJsonExport(before.stdout))) if (v !== null) state[k] = v;
      }
      fakeGoroot(sb.path('sys/go-1.23'), '1.23.1');
      const after = exportJson(proj, state);
      expect(after.status, after.stderr).toBe(0);
      expect(after.vars.GOROOT).toBe(sb.path('sys/go-1.23'));
    });

    it('editing the version file re-resolves', () => {
      sb.write('proj/.go-version', '1.21\n');
      sb.write('proj/.envrc', 'use go\n');
      allow();
      const first = exportJson(proj);
      expect(first.vars.GOROOT).toBe(sb.path('sys/go-1.21'));
      const inside: Record<string, string> = { ...env };
      for (const [k, v] of Object.entries(first.vars)) if (v !== null) inside[k] = v;
      // Same size, so only the content (or mtime) tells.
      sb.write('proj/.go-version', '1.22\n');
      const again = exportJson(proj, inside);
      expect(again.status, again.stderr).toBe(0);
      expect(again.vars.GOROOT).toBe(sb.path('sys/go-1.22'));
    });
  });

  describe('watching what resolution depended on', () => {
    it('creating a version file that was absent re-resolves', () => {
      sb.write('proj/go.mod', 'module m\n\ngo 1.21\n');
      sb.write('proj/.envrc', 'use go\n');
      allow();
      const first = exportJson(proj);
      expect(first.vars.GOROOT).toBe(sb.path('sys/go-1.22'));
      const inside: Record<string, string> = { ...env };
      for (const [k, v] of Object.entries(first.vars)) if (v !== null) inside[k] = v;
      sb.write('proj/.go-version', '1.21\n');
      const again = exportJson(proj, inside);
      expect(again.status, again.stderr).toBe(0);
      expect(again.vars.GOROOT).toBe(sb.path('sys/go-1.21'));
    });
  });

  describe('[go] auto = true', () => {
    it('a pinned directory with no .envrc gets use go without approving anything', () => {
      sb.write(join(sb.home, '.config/envd/envd.toml'), '[go]\nauto = true\n');
      sb.write('proj/.go-version', '1.22\n');
      const r = exportJson(proj);
      expect(r.status, r.stderr).toBe(0);
      expect(r.vars.GOROOT).toBe(sb.path('sys/go-1.22'));
      expect(r.vars.GOTOOLCHAIN).toBe('local');
    });

    it('is off by default', () => {
      sb.write('proj/.go-version', '1.22\n');
      const r = exportJson(proj);
      expect(r.vars.GOROOT).toBeUndefined();
    });
  });
});
