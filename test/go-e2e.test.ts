import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonExport, ROOT, Sandbox } from './helpers/sandbox.js';
import type { Env } from '../src/env/diff.js';

// The scenario envd exists for, with real SDKs: two projects pinned to Go 1.19 and Go 1.22
// on one host, switching on cd, building and installing inside each, and leaving restores
// the environment exactly. Needs the Debian packages golang-1.19-go and golang-1.22-go
// (bookworm-backports). Without them the tests are skipped with a notice, unless
// ENVD_REQUIRE_GO=1 (CI), where a missing SDK is a failure.

const GO119 = '/usr/lib/go-1.19';
const GO122 = '/usr/lib/go-1.22';
const missing = [GO119, GO122].filter((d) => !existsSync(join(d, 'bin', 'go')));
const required = process.env.ENVD_REQUIRE_GO === '1';
if (missing.length > 0 && !required) {
  process.stderr.write(`[envd tests] SKIPPED: real-Go end-to-end tests need ${missing.join(' and ')} (apt-get install golang-1.19-go, and golang-1.22-go from bookworm-backports)\n`);
}


function apply(env: Env, change: Record<string, string | null>): Env {
  const out = { ...env };
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete out[k]; else out[k] = v;
  }
  return out;
}

describe.skipIf(missing.length > 0 && !required)('Go 1.19 and 1.22 projects on one host (real SDKs)', () => {
  let sb: Sandbox;
  let legacy: string;
  let canary: string;
  /** The user's shell before entering any project. */
  let outside: Env;

  /** `envd export json` from `cwd` with `env`, applied: the shell's environment after the prompt. */
  function cd(cwd: string, env: Env): Env {
    const r = sb.run(join(ROOT, 'bin', 'envd'), ['export', 'json'], { cwd, env: undefinedFor(sb.env, env), timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return apply(env, parseJsonExport(r.stdout));
  }

  /** sb.run merges into the sandbox env: make it exactly `env`. */
  function undefinedFor(base: Env, env: Env): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = { ...env };
    for (const k of Object.keys(base)) if (!(k in env)) out[k] = undefined;
    return out;
  }

  function inShell(cwd: string, env: Env, script: string): { status: number | null; stdout: string; stderr: string } {
    return sb.run('bash', ['--noprofile', '--norc', '-c', script], { cwd, env: undefinedFor(sb.env, env), timeoutMs: 240_000 });
  }

  beforeAll(() => {
    if (missing.length > 0) {
      throw new Error(`ENVD_REQUIRE_GO=1 but ${missing.join(', ')} not installed: apt-get install golang-1.19-go, and golang-1.22-go from bookworm-backports`);
    }
    sb = new Sandbox({ daemon: false });
    legacy = sb.mkdir('work/legacy');
    canary = sb.mkdir('work/canary');
    sb.write('work/legacy/go.mod', 'module example.com/legacy\n\ngo 1.19\n');
    sb.write('work/legacy/.go-version', '1.19\n');
    sb.write('work/legacy/main.go', 'package main\n\nimport (\n\t"fmt"\n\t"runtime"\n)\n\nfunc main() { fmt.Println("legacy", runtime.Version()) }\n');
    sb.write('work/legacy/.envrc', 'use go\nlayout go\n');
    // The toolchain line names a patch this host does not have: a newer 1.22 patch serves.
    sb.write('work/canary/go.mod', 'module example.com/canary\n\ngo 1.22\n\ntoolchain go1.22.0\n');
    sb.write('work/canary/main.go', 'package main\n\nimport (\n\t"fmt"\n\t"runtime"\n)\n\nfunc main() { fmt.Println("canary", runtime.Version()) }\n');
    sb.write('work/canary/.envrc', 'use go\nlayout go\n');
    for (const p of [legacy, canary]) {
      const r = sb.envd(['allow', p]);
      expect(r.status, r.stderr).toBe(0);
    }
    outside = { ...sb.env, GOPROXY: 'off', GOFLAGS: '', GOTOOLCHAIN: 'auto', GOPATH: '' };
    for (const k of ['GOROOT', 'GOBIN', 'GOCACHE']) delete outside[k];
  });

  afterAll(() => {
    if (sb === undefined) return;
    // The module and build caches are read-only, as Go makes them.
    sb.run('chmod', ['-R', 'u+w', sb.root]);
    sb.cleanup();
  });

  it('envd exec: go version and go env GOROOT agree with the pin', () => {
    const v19 = sb.envd(['exec', legacy, 'go', 'version'], { env: undefinedFor(sb.env, outside), timeoutMs: 120_000 });
    expect(v19.status, v19.stderr).toBe(0);
    expect(v19.stdout).toMatch(/^go version go1\.19\.\d+ /);
    expect(sb.envd(['exec', legacy, 'go', 'env', 'GOROOT'], { env: undefinedFor(sb.env, outside) }).stdout).toBe(`${GO119}\n`);
    const v22 = sb.envd(['exec', canary, 'go', 'version'], { env: undefinedFor(sb.env, outside), timeoutMs: 120_000 });
    expect(v22.stdout).toMatch(/^go version go1\.22\.\d+ /);
    expect(sb.envd(['exec', canary, 'go', 'env', 'GOROOT'], { env: undefinedFor(sb.env, outside) }).stdout).toBe(`${GO122}\n`);
  });

  it("migrating from mise and goenv: a mise.toml pin, and goenv's global version where nothing pins", () => {
    const viaMise = sb.mkdir('work/via-mise');
    sb.write('work/via-mise/mise.toml', '[tools]\ngo = "1.19"\n');
    sb.write('work/via-mise/.envrc', 'use go\n');
    expect(sb.envd(['allow', viaMise]).status).toBe(0);
    const v = sb.envd(['exec', viaMise, 'go', 'version'], { env: undefinedFor(sb.env, outside), timeoutMs: 120_000 });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^go version go1\.19\.\d+ /);

    // Outside HOME, with no pin on the way up: goenv's global file decides (else the newest).
    const plain = sb.mkdir('elsewhere/tool');
    sb.write('elsewhere/tool/.envrc', 'use go\n');
    expect(sb.envd(['allow', plain]).status).toBe(0);
    const newest = sb.envd(['exec', plain, 'go', 'env', 'GOROOT'], { env: undefinedFor(sb.env, outside) });
    expect(newest.stdout).not.toBe(`${GO119}\n`); // the newest installed (1.22 or later)
    sb.write('home/.goenv/version', '1.19\n');
    const pinned = sb.envd(['exec', plain, 'go', 'env', 'GOROOT'], { env: undefinedFor(sb.env, outside) });
    expect(pinned.status, pinned.stderr).toBe(0);
    expect(pinned.stdout).toBe(`${GO119}\n`);
  });

  it('cd legacy → canary → out: builds and installs in each, switches, and reverts exactly', () => {
    // Enter legacy.
    const inLegacy = cd(legacy, outside);
    expect(inLegacy.GOROOT).toBe(GO119);
    expect(inLegacy.PATH?.split(':')[0]).toMatch(new RegExp(`^(${GO119}/bin|${legacy}/.direnv/go/bin)$`));
    expect(inLegacy.PATH?.split(':').slice(0, 2).sort()).toEqual([`${GO119}/bin`, `${legacy}/.direnv/go/bin`].sort());
    expect(inLegacy.GOTOOLCHAIN).toBe('local');
    expect(inLegacy.GOPATH).toBe(`${legacy}/.direnv/go`);
    expect(inLegacy.GOBIN).toBe(`${legacy}/.direnv/go/bin`);
    expect(inLegacy.GOCACHE).toBe(`${legacy}/.direnv/go-build`);

    // Go 1.19 predates GOTOOLCHAIN (1.21): it ignores it, so only the variable is checked.
    const goEnv = inShell(legacy, inLegacy, 'go version && go env GOROOT GOPATH GOBIN GOCACHE && printenv GOTOOLCHAIN');
    expect(goEnv.status, goEnv.stderr).toBe(0);
    expect(goEnv.stdout.split('\n').slice(1, 6)).toEqual([GO119, inLegacy.GOPATH, inLegacy.GOBIN, inLegacy.GOCACHE, 'local']);
    expect(goEnv.stdout).toMatch(/^go version go1\.19\./);

    const built = inShell(legacy, inLegacy, 'go build -o out/legacy . && ./out/legacy && go install . && command -v legacy && legacy');
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toBe(`legacy go1.19.8\n${legacy}/.direnv/go/bin/legacy\nlegacy go1.19.8\n`);
    expect(readdirSync(join(legacy, '.direnv/go-build')).length).toBeGreaterThan(0);

    // Straight from legacy into canary.
    const inCanary = cd(canary, inLegacy);
    expect(inCanary.GOROOT).toBe(GO122);
    expect(inCanary.GOPATH).toBe(`${canary}/.direnv/go`);
    expect(inCanary.GOBIN).toBe(`${canary}/.direnv/go/bin`);
    expect(inCanary.GOCACHE).toBe(`${canary}/.direnv/go-build`);
    expect(inCanary.GOTOOLCHAIN).toBe('local');
    expect(inCanary.PATH?.split(':').filter((p) => p.includes('go-1.19') || p.includes('legacy'))).toEqual([]);
    expect(inCanary.PATH?.split(':').slice(0, 2).sort()).toEqual([`${GO122}/bin`, `${canary}/.direnv/go/bin`].sort());

    const canaryBuilt = inShell(canary, inCanary, 'go version && go env GOROOT GOTOOLCHAIN && go install . && command -v canary && canary && ! command -v legacy');
    expect(canaryBuilt.status, canaryBuilt.stderr).toBe(0);
    expect(canaryBuilt.stdout).toMatch(new RegExp(`^go version go1\\.22\\.\\d+ [^\\n]+\\n${GO122}\\nlocal\\n${canary}/\\.direnv/go/bin/canary\\ncanary go1\\.22\\.\\d+\\n$`));

    // Leave: everything exactly as it was, set, empty and unset alike.
    const back = cd(sb.root, inCanary);
    expect(back).toEqual(outside);
  });
});
