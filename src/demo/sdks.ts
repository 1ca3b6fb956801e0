import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { resolvePaths } from '../config/paths.js';
import { createGoProvider } from '../go/provider.js';
import type { GoSdk } from '../go/types.js';

/** One Go SDK the demo pins a project to. */
export interface DemoSdk {
  /** `1.22.12`. */
  version: string;
  /** `1.22`: what `use go` is given. */
  minor: string;
  root: string;
  /** True for the stand-in SDKs the demo writes when the machine lacks two real ones. */
  demo: boolean;
}

export interface SdkChoice {
  /** The older SDK (the "legacy" project). */
  legacy: DemoSdk;
  /** The newer SDK (the "canary" project, picked from go.mod's toolchain line). */
  canary: DemoSdk;
  /** Directories for `[go] sdk_dirs` in the sandbox's config. */
  sdkDirs: string[];
  /** Why stand-ins were written (null when the SDKs are real). */
  demoReason: string | null;
}

const RELEASE = /^(\d+)\.(\d+)(?:\.(\d+))?$/;

function minorOf(version: string): string | null {
  const m = RELEASE.exec(version);
  return m === null ? null : `${m[1] ?? ''}.${m[2] ?? ''}`;
}

function minorNumber(minor: string): number {
  const [, b = '0'] = minor.split('.');
  return Number.parseInt(b, 10);
}

/**
 * The SDKs the user's own envd would find (their config and home included): the highest
 * patch of each released minor version, oldest minor first.
 */
export function realSdksByMinor(userEnv: NodeJS.ProcessEnv): DemoSdk[] {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(userEnv)) if (v !== undefined) env[k] = v;
  const paths = resolvePaths(env);
  let sdks: GoSdk[];
  try {
    sdks = createGoProvider(paths, loadConfig(paths).config, env).list();
  } catch {
    return [];
  }
  const best = new Map<string, GoSdk>();
  // list() is newest first, so the first SDK seen for a minor is its highest patch.
  for (const s of sdks) {
    const minor = minorOf(s.version);
    if (minor !== null && !best.has(minor)) best.set(minor, s);
  }
  return [...best.entries()]
    .map(([minor, s]) => ({ version: s.version, minor, root: s.root, demo: false }))
    .sort((a, b) => minorNumber(a.minor) - minorNumber(b.minor));
}

/**
 * A stand-in GOROOT: a VERSION file (what discovery reads) and a `bin/go` shell script that
 * answers `go version` and `go env` from it, and says plainly that it is not Go.
 */
export function writeDemoSdk(dir: string, version: string): DemoSdk {
  const root = join(dir, `go${version}`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'VERSION'), `go${version}\ntime 2024-01-01T00:00:00Z\n`);
  writeFileSync(join(root, 'README.envd-demo'), 'A stand-in Go SDK written by `npm run demo`. It is not Go: bin/go answers `go version` and `go env` only.\n');
  const go = join(root, 'bin', 'go');
  writeFileSync(go, `#!/bin/sh
# envd demo SDK: NOT a real Go toolchain. It answers 'go version' and 'go env' so the demo
# can show envd switching GOROOT on machines without two Go versions installed.
root=$(cd "$(dirname "$0")/.." && pwd -P)
version=$(head -n 1 "$root/VERSION")
value() {
  case $1 in
    GOROOT) printf '%s\\n' "$root" ;;
    GOVERSION) printf '%s\\n' "$version" ;;
    GOPATH) printf '%s\\n' "\${GOPATH:-$HOME/go}" ;;
    GOBIN) printf '%s\\n' "\${GOBIN:-}" ;;
    GOCACHE) printf '%s\\n' "\${GOCACHE:-$HOME/.cache/go-build}" ;;
    GOMODCACHE) printf '%s\\n' "\${GOMODCACHE:-\${GOPATH:-$HOME/go}/pkg/mod}" ;;
    GOTOOLCHAIN) printf '%s\\n' "\${GOTOOLCHAIN:-auto}" ;;
    *) printf '\\n' ;;
  esac
}
case $1 in
  version) printf 'go version %s demo/sdk (envd demo SDK, not a real Go)\\n' "$version" ;;
  env)
    shift
    if [ $# -eq 0 ]; then
      for k in GOROOT GOVERSION GOPATH GOBIN GOCACHE GOMODCACHE GOTOOLCHAIN; do
        printf "%s='%s'\\n" "$k" "$(value "$k")"
      done
    else
      for k in "$@"; do value "$k"; done
    fi
    ;;
  *)
    printf "go %s: not available: this is an envd demo SDK, not a real Go (it knows 'go version' and 'go env')\\n" "$*" >&2
    exit 2
    ;;
esac
`);
  chmodSync(go, 0o755);
  return { version, minor: minorOf(version) ?? version, root, demo: true };
}

/** Minor versions the stand-ins may take, tried in order; any the machine has are skipped. */
const DEMO_CANDIDATES = ['1.20', '1.23', '1.18', '1.24', '1.17', '1.25', '1.16', '1.26'];

/**
 * Two real SDKs of different minor versions when the machine has them (oldest and newest),
 * else two stand-ins under `demoDir` whose minor versions no real SDK shares, so that
 * `use go 1.X` in the sandbox can only mean the stand-in.
 */
export function chooseSdks(userEnv: NodeJS.ProcessEnv, demoDir: string, opts: { forceDemo: boolean }): SdkChoice {
  const real = realSdksByMinor(userEnv);
  const first = real[0];
  const last = real[real.length - 1];
  if (!opts.forceDemo && real.length >= 2 && first !== undefined && last !== undefined) {
    return { legacy: first, canary: last, sdkDirs: [first.root, last.root], demoReason: null };
  }
  const taken = new Set(real.map((s) => s.minor));
  const minors = DEMO_CANDIDATES.filter((m) => !taken.has(m)).slice(0, 2).sort((a, b) => minorNumber(a) - minorNumber(b));
  const [a = '1.20', b = '1.23'] = minors;
  const legacy = writeDemoSdk(demoDir, `${a}.0`);
  const canary = writeDemoSdk(demoDir, `${b}.0`);
  const demoReason = opts.forceDemo ? 'asked for with --demo-sdks' : `this machine has ${real.length === 0 ? 'no Go SDK' : 'only one Go version'}`;
  return { legacy, canary, sdkDirs: [demoDir], demoReason };
}
