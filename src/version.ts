import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (holds stdlib/ and shells/), from dist/ or src/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The version in a package's package.json; null when it cannot be read (mid-write, gone). */
export function readPackageVersion(root: string = PACKAGE_ROOT): string | null {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

let cached: string | undefined;
export function envdVersion(): string {
  cached ??= readPackageVersion() ?? '0.0.0';
  return cached;
}

/**
 * The direnv release whose stdlib and CLI envd answers for. Mirrors `__envd_x_direnv_compat`
 * in stdlib/50-extras.sh (a test keeps them equal): `direnv_version MIN` in an .envrc and
 * `direnv version MIN` through the shim compare against it, since such scripts ask "is
 * direnv new enough", not "is envd".
 */
export const DIRENV_COMPAT_VERSION = '2.34.0';

/** The binary to put in hooks and to call back: bin/envd of this package. */
export const ENVD_BIN_PATH = join(PACKAGE_ROOT, 'bin', 'envd');

/**
 * The version this side speaks as. ENVD_TEST_VERSION (a test knob, documented in
 * docs/protocol.md) makes a client and the daemons it starts claim another version, to
 * exercise version skew with one build.
 */
export function speakingVersion(env: Record<string, string | undefined> = process.env): string {
  const v = env.ENVD_TEST_VERSION;
  return v !== undefined && v !== '' ? v : envdVersion();
}

/**
 * The CLI's Node entry point. bin/envd is a shell front door (it answers a few verbs
 * itself), so whatever runs envd under Node directly (the daemon's start, a service unit)
 * names this file.
 */
export const ENVD_NODE_ENTRY = join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');

/**
 * The same CLI bundled into one file by `npm run build` (scripts/bundle.mjs): what bin/envd
 * runs and what autostart starts the daemon from, since it loads several times faster than
 * ENVD_NODE_ENTRY's hundred modules.
 */
export const ENVD_BUNDLE_ENTRY = join(PACKAGE_ROOT, 'dist', 'envd.cjs');
