import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../src/config/config.js';
import { resolvePaths } from '../src/config/paths.js';
import type { RpcContext, RpcReply } from '../src/eval/rpc-types.js';
import { autoGoEnvrc, goAutoMarker } from '../src/go/auto.js';
import { createGoProvider } from '../src/go/provider.js';
import { goRpcHandler } from '../src/go/rpc.js';
import { Sandbox } from './helpers/sandbox.js';
import { fakeGoroot } from './fixtures/go/sdk.js';

let sb: Sandbox;
beforeEach(() => {
  sb = new Sandbox({ daemon: false });
});
afterEach(() => {
  sb.cleanup();
});

function context(dir: string, watched: string[]): RpcContext {
  const env = { HOME: sb.home };
  return {
    dir,
    env,
    config: defaultConfig(),
    paths: resolvePaths(env),
    watch: (p: string) => { watched.push(p); },
    readTrusted: () => { throw new Error('not used by the go RPC'); },
  };
}

describe('the go RPC', () => {
  function setup(): { handler: ReturnType<typeof goRpcHandler>; proj: string; sdkDir: string } {
    const env = { HOME: sb.home, PATH: sb.mkdir('empty'), ENVD_GO_SYSTEM_ROOTS: '' };
    fakeGoroot(join(sb.home, 'sdk/go1.21.13'), '1.21.13');
    fakeGoroot(join(sb.home, 'sdk/go1.22.12'), '1.22.12');
    const provider = createGoProvider(resolvePaths(env), defaultConfig(), env);
    return { handler: goRpcHandler(provider), proj: sb.mkdir('proj'), sdkDir: join(sb.home, 'sdk') };
  }

  it('answers [GOROOT, version, consulted...] and watches what it consulted', async () => {
    const { handler, proj } = setup();
    sb.write('proj/.go-version', '1.21\n');
    const watched: string[] = [];
    const reply: RpcReply = await handler(['', proj], context(proj, watched));
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const [goroot, version, ...consulted] = reply.fields;
    expect(goroot).toBe(join(sb.home, 'sdk/go1.21.13'));
    expect(version).toBe('1.21.13');
    expect(consulted).toContain(join(proj, '.go-version'));
    expect(watched).toEqual(consulted);
  });

  it('takes an explicit version; an empty dir means the .envrc directory', async () => {
    const { handler, proj } = setup();
    const reply = await handler(['1.22'], context(proj, []));
    expect(reply).toEqual({ ok: true, fields: [join(sb.home, 'sdk/go1.22.12'), '1.22.12'] });
    const relative = await handler(['', 'sub'], context(proj, []));
    expect(relative.ok).toBe(true);
  });

  it('fails with the one-line message, still watching the files and the SDK roots', async () => {
    const { handler, proj, sdkDir } = setup();
    sb.write('proj/.go-version', '1.23.1\n');
    const watched: string[] = [];
    const reply = await handler(['', proj], context(proj, watched));
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.message).toMatch(/^Go 1\.23\.1 is not installed \(from .*\.go-version\); installed: 1\.22\.12, 1\.21\.13; install it with/);
    expect(watched).toContain(join(proj, '.go-version'));
    expect(watched).toContain(sdkDir);
  });

  it('reports a bad argument as an error reply, not a crash', async () => {
    const { handler, proj } = setup();
    const reply = await handler(['not-a-version', proj], context(proj, []));
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.message).toContain("'not-a-version' is not a Go version");
  });
});

describe('[go] auto', () => {
  function config(auto: boolean, loadDotenv = false): Config {
    const c = defaultConfig();
    c.go.auto = auto;
    c.global.loadDotenv = loadDotenv;
    return c;
  }

  it('is off unless configured', () => {
    sb.write('p/.go-version', '1.22\n');
    expect(autoGoEnvrc(sb.path('p'), config(false))).toBeNull();
  });

  it('a .go-version, a .tool-versions with Go, or a toolchain line makes a synthetic `use go`', () => {
    sb.write('a/.go-version', '1.22\n');
    sb.write('b/.tool-versions', 'golang 1.21.0\n');
    sb.write('c/go.mod', 'module c\n\ngo 1.21\n\ntoolchain go1.21.5\n');
    sb.write('d/go.work', 'go 1.22\ntoolchain go1.22.1\n');
    sb.write('m/mise.toml', '[tools]\ngo = "1.22"\n');
    sb.write('n/.mise.local.toml', '[tools]\ngolang = ["1.21"]\n');
    for (const d of ['a', 'b', 'c', 'd', 'm', 'n']) {
      expect(autoGoEnvrc(sb.path(d), config(true)), d).toEqual({ dir: sb.path(d), content: 'use go\n' });
    }
    // The pinning file is what an auto directory's DIRENV_FILE names.
    expect(goAutoMarker(sb.path('m'))).toBe(sb.path('m/mise.toml'));
    expect(goAutoMarker(sb.path('c'))).toBe(sb.path('c/go.mod'));
  });

  it('ignores markers that pin nothing: go.mod without toolchain, .tool-versions or mise.toml without Go', () => {
    sb.write('e/go.mod', 'module e\n\ngo 1.21\n');
    sb.write('e/.tool-versions', 'nodejs 20.0.0\n');
    sb.write('e/mise.toml', '[tools]\nnode = "20"\n');
    sb.write('e/.mise.toml', 'not toml [');
    expect(autoGoEnvrc(sb.path('e'), config(true))).toBeNull();
  });

  it('walks up to the nearest pinning directory', () => {
    sb.write('p/.go-version', '1.22\n');
    sb.mkdir('p/cmd/tool');
    expect(autoGoEnvrc(sb.path('p/cmd/tool'), config(true))).toEqual({ dir: sb.path('p'), content: 'use go\n' });
  });

  it('a real .envrc as near or nearer wins (and a .env when load_dotenv is on)', () => {
    sb.write('p/.go-version', '1.22\n');
    sb.write('p/.envrc', 'export A=1\n');
    expect(autoGoEnvrc(sb.path('p'), config(true))).toBeNull();
    sb.write('q/.go-version', '1.22\n');
    sb.write('q/sub/.envrc', 'export A=1\n');
    expect(autoGoEnvrc(sb.path('q/sub'), config(true))).toBeNull();
    // An .envrc further up than the pin does not: the nearer file stands in for an .envrc.
    sb.write('r/.envrc', 'export A=1\n');
    sb.write('r/svc/.go-version', '1.21\n');
    expect(autoGoEnvrc(sb.path('r/svc'), config(true))).toEqual({ dir: sb.path('r/svc'), content: 'use go\n' });
    sb.write('s/.go-version', '1.22\n');
    sb.write('s/.env', 'A=1\n');
    expect(autoGoEnvrc(sb.path('s'), config(true, false))).toEqual({ dir: sb.path('s'), content: 'use go\n' });
    expect(autoGoEnvrc(sb.path('s'), config(true, true))).toBeNull();
  });
});
