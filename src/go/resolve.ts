import { basename, join } from 'node:path';
import { isDirectory, isFile } from '../util/fs.js';
import { tildePath } from '../config/paths.js';
import { EnvdError, type ErrorCode } from '../util/errors.js';
import { GO_PIN_FILES, MISE_FILES } from './pin-files.js';
import { ancestors, findUp, MiseConfigError, parseGoModLines, parseGoVersionFile, parseMiseTools, parseToolVersions, readText } from './files.js';
import type { GoResolution, GoSdk } from './types.js';
import { parseGvmrc } from './gvm.js';
import { MAX_PIN_FILE_BYTES, readRegularText, SafeReadError } from '../util/safe-read.js';
import {
  compareGoVersions,
  formatGoVersion,
  type GoVersion,
  parseGoVersion,
  satisfiesMinimum,
  sameLine,
} from './version.js';

/**
 * What a source asks for.
 * - `exact`: one release (`1.22.5`, `1.21rc2`): a person pinned it.
 * - `line`: the newest installed patch of a line (`1.22`).
 * - `toolchain`: a go.mod/go.work `toolchain` line: that release if installed, else a newer
 *   patch of the same line. The go command writes this line itself (`go get`, `go mod tidy`
 *   record whatever toolchain ran them), so it often names one developer's patch level;
 *   Go treats it as a minimum, and a later patch of the same line is what a team wants.
 * - `minimum`: a `go` line: the newest installed version that satisfies it.
 * - `newest`: `latest`, or nothing pins a version.
 */
export type GoWant =
  | { kind: 'exact'; v: GoVersion }
  | { kind: 'line'; v: GoVersion }
  | { kind: 'toolchain'; v: GoVersion }
  | { kind: 'minimum'; v: GoVersion }
  | { kind: 'newest' };

/** A version as a person writes it: `1.22`, `1.22.5`, `go1.22.5`, `1.21rc2`, `latest`. */
export function parseWant(text: string): GoWant | null {
  const t = text.trim();
  if (t === 'latest') return { kind: 'newest' };
  // asdf's `latest:1.22`.
  if (t.startsWith('latest:')) {
    const w = parseWant(t.slice('latest:'.length));
    return w !== null && w.kind !== 'newest' ? { kind: 'line', v: w.v } : null;
  }
  const v = parseGoVersion(t);
  if (v === null) return null;
  return v.patch === null && v.pre === null ? { kind: 'line', v } : { kind: 'exact', v };
}

/** `go1.22.5`, also with a custom suffix (`go1.21.3-custom`, `go1.21.3+auto`). */
function parseToolchainName(text: string): GoVersion | null {
  const m = /^go(\d+\.\d+(?:\.\d+)?(?:(?:alpha|beta|rc)\d+)?)(?:[-+].*)?$/.exec(text);
  return m === null || m[1] === undefined ? null : parseGoVersion(m[1]);
}

/** How a want reads in GoResolution.wanted and in messages. */
export function describeWant(w: GoWant): string {
  switch (w.kind) {
    case 'exact': return formatGoVersion(w.v);
    case 'line': return `${w.v.major}.${w.v.minor}`;
    case 'toolchain': return formatGoVersion(w.v);
    case 'minimum': return `>=${formatGoVersion(w.v)}`;
    case 'newest': return 'latest';
  }
}

function phraseWant(w: GoWant): string {
  switch (w.kind) {
    case 'exact': return formatGoVersion(w.v);
    case 'line': return `${w.v.major}.${w.v.minor}.x`;
    case 'toolchain': return `${formatGoVersion(w.v)} (or a newer ${w.v.major}.${w.v.minor} patch)`;
    case 'minimum': return `>= ${formatGoVersion(w.v)}`;
    case 'newest': return 'of any version';
  }
}

interface Candidate {
  sdk: GoSdk;
  v: GoVersion;
}

/** Newest release that fits, else newest pre-release that fits (candidates are newest first). */
function newestFitting(cands: Candidate[], fits: (v: GoVersion) => boolean): GoSdk | null {
  const ok = cands.filter((c) => fits(c.v));
  return (ok.find((c) => c.v.pre === null) ?? ok[0])?.sdk ?? null;
}

export function matchWant(sdks: GoSdk[], w: GoWant): GoSdk | null {
  const cands: Candidate[] = [];
  for (const sdk of sdks) {
    const v = parseGoVersion(sdk.version);
    if (v !== null) cands.push({ sdk, v });
  }
  cands.sort((a, b) => compareGoVersions(b.v, a.v));
  switch (w.kind) {
    case 'exact':
      return cands.find((c) => compareGoVersions(c.v, w.v) === 0)?.sdk ?? null;
    case 'line':
      return newestFitting(cands, (v) => sameLine(v, w.v));
    case 'toolchain':
      return cands.find((c) => compareGoVersions(c.v, w.v) === 0)?.sdk
        ?? newestFitting(cands, (v) => sameLine(v, w.v) && compareGoVersions(v, w.v) >= 0);
    case 'minimum':
      return newestFitting(cands, (v) => satisfiesMinimum(v, w.v));
    case 'newest':
      return newestFitting(cands, () => true);
  }
}

/** A resolution failure that still knows which files it read, so they can be watched. */
export class GoResolutionError extends EnvdError {
  readonly consulted: string[];
  /** GO_NOT_INSTALLED: what was asked for, in order (what `envd go install` would fetch). */
  readonly wants: GoWant[];
  /** GO_NOT_INSTALLED: where the wants came from (`argument`, `~/p/.go-version`...). */
  readonly reason: string;
  constructor(code: ErrorCode, message: string, consulted: string[], request?: { wants: GoWant[]; reason: string }) {
    super(code, message);
    this.name = 'GoResolutionError';
    this.consulted = consulted;
    this.wants = request?.wants ?? [];
    this.reason = request?.reason ?? '';
  }
}

export interface ResolveOptions {
  /** For `~/` in messages. */
  home?: string;
  /**
   * User-wide pins, consulted when nothing in the directory's tree pins a version: mise's
   * global config, goenv's `version` file, asdf's `~/.tool-versions` (see globalPinFiles).
   */
  globalPins?: readonly string[];
}

/** Where mise, goenv and asdf keep a user's global Go version, for this environment. */
export function globalPinFiles(home: string, env: Readonly<Record<string, string | undefined>>): string[] {
  const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v !== '' ? v : undefined);
  const miseDir = nonEmpty(env.MISE_CONFIG_DIR) ?? join(nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, '.config'), 'mise');
  return [
    join(miseDir, 'config.toml'),
    join(nonEmpty(env.GOENV_ROOT) ?? join(home, '.goenv'), 'version'),
    join(home, '.tool-versions'),
  ];
}

/** Version words no SDK directory can satisfy: the managers' `system`, `ref:`, `path:`, `sub-`. */
function isPickable(word: string): boolean {
  return word !== 'system' && !word.startsWith('ref:') && !word.startsWith('path:') && !word.startsWith('sub-');
}

export interface Request {
  wants: GoWant[];
  /** `argument`, `toolchain line of ~/p/go.mod`, `~/p/.go-version`... */
  reason: string;
}

/** Version files a person writes, strongest first within one directory. */
const VERSION_FILES: readonly string[] = ['.go-version', '.golang-version', '.gvmrc'];

/** The nearest of `names` walking up from `dir` (in a directory, the first name found). */
function findUpAny(dir: string, names: readonly string[]): string | null {
  for (const d of ancestors(dir)) {
    for (const n of names) {
      const p = join(d, n);
      if (isFile(p)) return p;
    }
  }
  return null;
}

/** A version manager's files in one directory, in the order mise reads them. */
const MANAGER_FILES: readonly string[] = [...MISE_FILES, '.tool-versions'];

/**
 * Decide which Go a directory gets.
 *
 * Precedence: the explicit version > `toolchain` line of the governing go.work/go.mod >
 * `.go-version` > mise's `[tools] go` or `.tool-versions` (`golang` or `go`), whichever is
 * in the nearer directory (mise's files first within one) > the governing file's `go` line
 * (a minimum) > the user's global pin (mise, goenv, asdf) > the newest installed release.
 * Each file is the nearest one walking up from `dir`. As with the go command, a go.work
 * above (workspace mode) governs instead of go.mod.
 */
export function resolveGo(dir: string, explicit: string | undefined, sdks: GoSdk[], opts: ResolveOptions = {}): GoResolution {
  const show = (p: string): string => (opts.home !== undefined ? tildePath(p, opts.home) : p);
  const consulted: string[] = [];
  const read = (p: string): string => {
    const text = readText(p);
    if (!consulted.includes(p)) consulted.push(p);
    return text ?? '';
  };
  const invalid = (file: string, what: string, value: string): GoResolutionError =>
    new GoResolutionError('CONFIG_INVALID',
      `${show(file)}: ${what} '${value}' is not a Go version (expected e.g. 1.22.5, 1.22 or go1.22.5)`, consulted);

  let request: Request | null = null;
  let minimumNote: { v: GoVersion; file: string } | null = null;
  let pkgsetNote: { name: string; file: string } | null = null;
  // Files envd reads for the first time here go through safe-read (FIFOs, devices and
  // huge files are refused before a byte is read).
  const readSafe = (p: string): string => {
    if (!consulted.includes(p)) consulted.push(p);
    try {
      return readRegularText(p, MAX_PIN_FILE_BYTES) ?? '';
    } catch (err) {
      if (err instanceof SafeReadError) throw new GoResolutionError('CONFIG_INVALID', err.message, consulted);
      throw err;
    }
  };

  if (explicit !== undefined && explicit.trim() !== '') {
    const w = parseWant(explicit);
    if (w === null) {
      throw new GoResolutionError('USAGE',
        `use go: '${explicit}' is not a Go version (expected e.g. 1.22, 1.22.5, go1.22.5 or latest)`, consulted);
    }
    request = { wants: [w], reason: 'argument' };
  } else {
    const governing = findUp(dir, 'go.work') ?? findUp(dir, 'go.mod');
    let goLine: GoVersion | null = null;
    if (governing !== null) {
      const lines = parseGoModLines(read(governing));
      if (lines.go !== null) {
        goLine = parseGoVersion(lines.go);
        if (goLine === null) throw invalid(governing, 'go line', lines.go);
        minimumNote = { v: goLine, file: governing };
      }
      if (lines.toolchain !== null && lines.toolchain !== 'default') {
        const t = parseToolchainName(lines.toolchain);
        if (t === null) throw invalid(governing, 'toolchain line', lines.toolchain);
        request = { wants: [{ kind: 'toolchain', v: t }], reason: `toolchain line of ${show(governing)}` };
      }
    }
    if (request === null) {
      // A version file a person wrote: goenv's `.go-version`, `.golang-version`, gvm's
      // `.gvmrc`. The nearest directory with one decides; within it, in that order.
      const vf = findUpAny(dir, VERSION_FILES);
      if (vf !== null) {
        let word: string | null;
        if (basename(vf) === '.gvmrc') {
          const rc = parseGvmrc(readSafe(vf));
          word = rc.use;
          if (rc.pkgset !== null) pkgsetNote = { name: rc.pkgset, file: vf };
        } else {
          word = parseGoVersionFile(readSafe(vf));
        }
        // goenv and gvm say `system` for "whatever go is on PATH": it pins nothing.
        if (word !== null && word !== 'system') {
          const w = parseWant(word);
          if (w === null) throw invalid(vf, basename(vf) === '.gvmrc' ? 'gvm use' : 'version', word);
          request = { wants: [w], reason: show(vf) };
        }
      }
    }
    // A manager's pin file: mise's config, asdf's .tool-versions, goenv's global `version`.
    const managerPin = (p: string): Request | null => {
      const name = basename(p);
      let words: string[] | null;
      let what: string;
      if (name.endsWith('.toml')) {
        try {
          words = parseMiseTools(read(p));
        } catch (err) {
          if (err instanceof MiseConfigError) throw new GoResolutionError('CONFIG_INVALID', `${show(p)}: ${err.message}`, consulted);
          throw err;
        }
        what = '[tools] go entry';
      } else if (name === '.tool-versions') {
        words = parseToolVersions(read(p));
        what = 'golang entry';
      } else {
        const word = parseGoVersionFile(read(p));
        words = word === null ? null : [word];
        what = 'version';
      }
      const usable = (words ?? []).filter(isPickable);
      if (usable.length === 0) return null;
      const wants: GoWant[] = [];
      for (const word of usable) {
        const w = parseWant(word);
        if (w === null) throw invalid(p, what, word);
        wants.push(w);
      }
      return { wants, reason: `${what} of ${show(p)}` };
    };
    if (request === null) {
      // Nearest directory first; within one, mise's files before .tool-versions (as mise does).
      search: for (const d of ancestors(dir)) {
        for (const name of MANAGER_FILES) {
          const p = join(d, name);
          if (!isFile(p)) continue;
          request = managerPin(p);
          if (request !== null) break search;
        }
      }
    }
    if (request === null && goLine !== null && governing !== null) {
      request = { wants: [{ kind: 'minimum', v: goLine }], reason: `go line of ${show(governing)}` };
    }
    if (request === null) {
      for (const p of opts.globalPins ?? []) {
        // Watched even while missing: creating one changes the answer.
        if (!consulted.includes(p)) consulted.push(p);
        if (!isFile(p)) continue;
        request = managerPin(p);
        if (request !== null) break;
      }
    }
    if (request === null) {
      request = { wants: [{ kind: 'newest' }], reason: 'no version file found (newest installed)' };
    }
    // Creating one of these where the .envrc lives changes the answer: watch them too.
    for (const name of GO_PIN_FILES) {
      const p = pinWatchPath(dir, name);
      if (!consulted.includes(p)) consulted.push(p);
    }
  }

  for (const w of request.wants) {
    const sdk = matchWant(sdks, w);
    if (sdk === null) continue;
    const warnings: string[] = [];
    const chosen = parseGoVersion(sdk.version);
    if (minimumNote !== null && chosen !== null && !satisfiesMinimum(chosen, minimumNote.v)) {
      warnings.push(`go ${sdk.version} is older than the 'go ${formatGoVersion(minimumNote.v)}' line of ${show(minimumNote.file)} requires; with GOTOOLCHAIN=local, go commands in this module will refuse to run`);
    }
    if (pkgsetNote !== null && request.reason === show(pkgsetNote.file)) {
      warnings.push(`gvm pkgset '${pkgsetNote.name}' in ${show(pkgsetNote.file)} is not applied; add 'layout go' to the .envrc for a per-project GOPATH`);
    }
    return { sdk, wanted: request.wants.map(describeWant).join(' or '), reason: request.reason, consulted, warnings };
  }
  throw new GoResolutionError('GO_NOT_INSTALLED', notInstalledMessage(request, sdks), consulted, request);
}

/**
 * What to watch for a pin file that may appear at `dir/name`: the file, or, when `name` is
 * nested (`.config/mise.toml`) and a directory on the way is missing, the first missing
 * one. Its creation changes the answer (the next evaluation then watches one level deeper);
 * a file in a directory that does not exist could not be watched at all.
 */
function pinWatchPath(dir: string, name: string): string {
  const parts = name.split('/');
  let p = dir;
  for (const part of parts.slice(0, -1)) {
    p = join(p, part);
    if (!isDirectory(p)) return p;
  }
  return join(dir, name);
}

/** The one-line error for a request nothing installed meets (also used by `use asdf`). */
export function notInstalledMessage(request: Request, sdks: readonly GoSdk[]): string {
  const wanted = request.wants.map(phraseWant).join(' or ');
  const from = request.reason === 'argument' ? 'asked for explicitly' : `from ${request.reason}`;
  const installed = sdks.length === 0
    ? 'none found (add other locations to [go] sdk_dirs in envd.toml)'
    : sdks.map((s) => s.version).join(', ');
  const first = request.wants[0];
  const how = `install it with: envd go install ${first === undefined ? 'latest' : installArgument(first)}`;
  return `Go ${wanted} is not installed (${from}); installed: ${installed}; ${how}`;
}

/**
 * The `envd go install` argument that fetches something meeting `w`: an exact release
 * names itself; a line, or a minimum, names its line (the newest release of it, which
 * meets any minimum within the line); `latest` the newest release.
 */
export function installArgument(w: GoWant): string {
  switch (w.kind) {
    case 'exact':
    case 'toolchain':
      return formatGoVersion(w.v);
    case 'line':
      return `${w.v.major}.${w.v.minor}`;
    case 'minimum':
      return w.v.pre === null ? `${w.v.major}.${w.v.minor}` : formatGoVersion(w.v);
    case 'newest':
      return 'latest';
  }
}
