import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { MAX_PIN_FILE_BYTES, readRegularFile } from '../util/safe-read.js';
import { isFile } from '../util/fs.js';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { GoSdk } from './types.js';
import { compareGoVersions, formatGoVersion, parseGoVersion, parseVersionFile } from './version.js';

/** The environment discovery reads: HOME-relative roots, manager variables, PATH. */
export type GoEnv = Readonly<Record<string, string | undefined>>;

export interface DiscoveryInput {
  env: GoEnv;
  /** The user's home (tests pass a sandbox). */
  home: string;
  /** `[go] sdk_dirs`: each a GOROOT or a directory of GOROOTs; `~` is the home. */
  sdkDirs: string[];
}

/**
 * Where Go SDKs live on a system, outside anyone's home. `ENVD_GO_SYSTEM_ROOTS`
 * (colon-separated, same pattern syntax) replaces this list: a knob for tests and for
 * packagers whose Go lives elsewhere.
 */
export const DEFAULT_SYSTEM_ROOTS: readonly string[] = [
  '/usr/local/go',
  '/usr/lib/go-*',
  '/usr/lib/go',
  '/usr/lib/golang',
  '/opt/homebrew/Cellar/go/*/libexec',
  '/usr/local/Cellar/go/*/libexec',
  '/snap/go/current',
];

/**
 * One place to look. `pattern` is an absolute path whose components may contain `*`
 * (matching any run of characters within that component, never a leading dot). Each
 * match is a GOROOT, or (`container`) a directory whose children are GOROOTs.
 */
export interface SdkRoot {
  pattern: string;
  source: string;
  container: boolean;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

/** A label for a system GOROOT, from the shape of its path. */
export function systemSourceOf(path: string): string {
  if (/\/Cellar\/go\/[^/]+\/libexec\/?$/.test(path)) return 'homebrew';
  if (/\/lib\/go(?:-[^/]+)?\/?$/.test(path)) return 'debian';
  if (/\/local\/go\/?$/.test(path)) return 'usr-local';
  return 'system';
}

/** The module cache the go command would use: $GOMODCACHE, else the first GOPATH entry's pkg/mod. */
function modCache(env: GoEnv, home: string): string {
  const explicit = nonEmpty(env.GOMODCACHE);
  if (explicit !== undefined) return explicit;
  const firstGopath = nonEmpty(env.GOPATH)?.split(delimiter).find((p) => p !== '');
  return join(firstGopath ?? join(home, 'go'), 'pkg', 'mod');
}

/**
 * Every root in the order sources are labelled: a GOROOT reachable from two roots keeps
 * the first label, so version managers name their own installs, and the `go` on PATH
 * (looked at last, in discoverGoSdks) only adds what nothing else found.
 */
export function sdkRoots(input: DiscoveryInput): SdkRoot[] {
  const { env, home } = input;
  const roots: SdkRoot[] = [];
  const add = (pattern: string, source: string, container = false): void => {
    roots.push({ pattern, source, container });
  };
  // `envd go install`: $XDG_DATA_HOME/envd/go/1.22.5 (temporary entries start with a dot).
  add(join(nonEmpty(env.XDG_DATA_HOME) ?? join(home, '.local', 'share'), 'envd', 'go', '*'), 'envd');
  // golang.org/dl: `go install golang.org/dl/go1.22.5@latest && go1.22.5 download`.
  add(join(home, 'sdk', 'go*'), 'sdk');
  add(join(nonEmpty(env.GVM_ROOT) ?? join(home, '.gvm'), 'gos', '*'), 'gvm');
  add(join(nonEmpty(env.ASDF_DATA_DIR) ?? join(home, '.asdf'), 'installs', 'golang', '*', 'go'), 'asdf');
  const miseDirs = new Set<string>();
  const miseEnv = nonEmpty(env.MISE_DATA_DIR);
  if (miseEnv !== undefined) miseDirs.add(miseEnv);
  miseDirs.add(join(nonEmpty(env.XDG_DATA_HOME) ?? join(home, '.local', 'share'), 'mise'));
  miseDirs.add(join(home, '.local', 'share', 'mise'));
  for (const m of miseDirs) {
    add(join(m, 'installs', 'go', '*'), 'mise');
    // mise running the asdf-golang plugin: installs/golang/1.22.5/go.
    add(join(m, 'installs', 'golang', '*'), 'mise');
  }
  add(join(nonEmpty(env.GOENV_ROOT) ?? join(home, '.goenv'), 'versions', '*'), 'goenv');
  // Toolchains the go command downloaded itself (GOTOOLCHAIN=auto): the module root is a GOROOT.
  add(join(modCache(env, home), 'golang.org', 'toolchain@v0.0.1-go*'), 'toolchain-cache');
  const override = env.ENVD_GO_SYSTEM_ROOTS;
  const system = override !== undefined ? override.split(':').filter((p) => p !== '') : DEFAULT_SYSTEM_ROOTS;
  for (const p of system) add(p, systemSourceOf(p));
  for (const d of input.sdkDirs) add(resolve(home, expandHome(d, home)), 'config', true);
  return roots;
}

function globToRegExp(component: string): RegExp {
  const body = component.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}


/** Expand `*` components against the file system: paths that exist, in a stable order. */
export function expandPattern(pattern: string): string[] {
  if (!isAbsolute(pattern)) return [];
  const parts = pattern.split('/').filter((p) => p !== '');
  let current = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    if (!part.includes('*')) {
      for (const c of current) next.push(join(c, part));
    } else {
      const re = globToRegExp(part);
      for (const c of current) {
        let names: string[];
        try {
          names = readdirSync(c);
        } catch {
          continue;
        }
        for (const n of names.sort()) {
          if (n.startsWith('.') && !part.startsWith('.')) continue;
          if (re.test(n)) next.push(join(c, n));
        }
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current.filter((p) => existsSync(p));
}

/** The directory to watch for a root: the part of the pattern before its first `*`. */
export function watchDirOf(root: SdkRoot): string {
  const parts = root.pattern.split('/');
  const i = parts.findIndex((p) => p.includes('*'));
  if (i < 0) return root.container ? root.pattern : dirname(root.pattern);
  return parts.slice(0, i).join('/') || '/';
}

/**
 * Read a GOROOT's version without running anything: `$GOROOT/VERSION`, and `bin/go` must
 * exist (a half-extracted download is not an SDK). A directory that is not a GOROOT but
 * holds one in `go/` (asdf's layout, some tarballs unpacked one level up) is followed.
 */
export function readGoroot(dir: string): { root: string; version: string } | null {
  for (const root of [dir, join(dir, 'go')]) {
    let text: string;
    try {
      // Never blocking, never whole: a VERSION that is a FIFO or huge is not an SDK's.
      text = readRegularFile(join(root, 'VERSION'), MAX_PIN_FILE_BYTES).bytes.toString('utf8');
    } catch {
      continue;
    }
    const v = parseVersionFile(text);
    if (v === null || !isFile(join(root, 'bin', 'go'))) continue;
    return { root, version: formatGoVersion(v) };
  }
  return null;
}

/** GOROOT of the first `go` on PATH: the symlink resolved, then the parent of its bin. */
function goOnPath(env: GoEnv): string | null {
  const path = env.PATH ?? '';
  for (const dir of path.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const exe = join(dir, 'go');
    try {
      if (!statSync(exe).isFile()) continue;
      accessSync(exe, constants.X_OK);
    } catch {
      continue;
    }
    try {
      // The first go on PATH is the one a shell would run; if it is a shim with no GOROOT
      // around it, there is nothing to add, and later entries are not what people run.
      return dirname(dirname(realpathSync(exe)));
    } catch {
      return null;
    }
  }
  return null;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Every installed SDK, deduplicated by real path (the first root that reaches one names
 * its source), newest first. Reads directories and VERSION files; runs nothing.
 */
export function discoverGoSdks(input: DiscoveryInput): GoSdk[] {
  const found = new Map<string, GoSdk>();
  const consider = (dir: string, source: string): void => {
    const sdk = readGoroot(dir);
    if (sdk === null) return;
    const real = realOrSelf(sdk.root);
    if (!found.has(real)) found.set(real, { version: sdk.version, root: real, source });
  };
  for (const root of sdkRoots(input)) {
    for (const match of expandPattern(root.pattern)) {
      if (!isDir(match)) continue;
      if (!root.container || readGoroot(match) !== null) {
        consider(match, root.source);
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(match).sort();
      } catch {
        continue;
      }
      for (const n of names) {
        if (!n.startsWith('.')) consider(join(match, n), root.source);
      }
    }
  }
  const onPath = goOnPath(input.env);
  if (onPath !== null) consider(onPath, 'path');
  return sortSdks([...found.values()]);
}

/** Newest first; equal versions keep discovery order. Unparseable versions go last. */
export function sortSdks(sdks: GoSdk[]): GoSdk[] {
  return sdks
    .map((sdk, i) => ({ sdk, i, v: parseGoVersion(sdk.version) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      return compareGoVersions(b.v, a.v) || a.i - b.i;
    })
    .map((x) => x.sdk);
}

/** Directories whose changes can add or remove SDKs (for the daemon's watcher). */
export function sdkWatchDirs(input: DiscoveryInput): string[] {
  return [...new Set(sdkRoots(input).map(watchDirOf))];
}
