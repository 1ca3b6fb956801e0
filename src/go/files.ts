import { parse as parseToml } from 'smol-toml';
import { isFile } from '../util/fs.js';
import { MAX_PIN_FILE_BYTES, readRegularFile } from '../util/safe-read.js';
import { dirname, join } from 'node:path';

// Readers for the files that say which Go a directory wants. They only read and parse;
// deciding what the words mean is resolve.ts's job.

export interface GoModLines {
  /** `toolchain go1.22.5` → `go1.22.5` (as written). */
  toolchain: string | null;
  /** `go 1.21` → `1.21` (as written). */
  go: string | null;
}

/**
 * The `go` and `toolchain` directives of a go.mod or go.work. Comments are dropped and
 * block bodies (`require ( ... )`) skipped, so a dependency line never reads as a directive.
 */
export function parseGoModLines(text: string): GoModLines {
  const out: GoModLines = { toolchain: null, go: null };
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (depth > 0) {
      if (line === ')') depth--;
      continue;
    }
    if (line.endsWith('(')) {
      depth++;
      continue;
    }
    const m = /^(go|toolchain)\s+(\S+)$/.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) continue;
    if (m[1] === 'go') out.go ??= m[2];
    else out.toolchain ??= m[2];
  }
  return out;
}

/**
 * The version named by a `.go-version` file (goenv's, also read by mise and asdf plugins):
 * the first word of the first line that is not blank or a `#` comment.
 */
export function parseGoVersionFile(text: string): string | null {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    return line.split(/\s+/)[0] ?? null;
  }
  return null;
}

/**
 * The versions a `.tool-versions` file lists for Go (asdf calls the tool `golang`, mise
 * also accepts `go`), in the order asdf tries them; null when the file has no Go entry.
 */
export function parseToolVersions(text: string): string[] | null {
  for (const raw of text.split('\n')) {
    const words = raw.replace(/#.*$/, '').trim().split(/\s+/);
    const [tool, ...versions] = words;
    if ((tool === 'golang' || tool === 'go') && versions.length > 0) return versions;
  }
  return null;
}

/** Thrown for a mise config that is not TOML, or whose go entry is not a version list. */
export class MiseConfigError extends Error {}

/**
 * The versions a mise config asks for Go in `[tools]` (`go`, `golang` or `core:go`): a
 * string, a list, or `{ version = ... }` tables, in mise's order of preference. Null when
 * the file has no Go entry. mise's `prefix:1.22` reads as `1.22`.
 */
export function parseMiseTools(text: string): string[] | null {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (err) {
    throw new MiseConfigError(`not valid TOML (${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)})`);
  }
  const tools = (doc as { tools?: unknown }).tools;
  if (typeof tools !== 'object' || tools === null) return null;
  const key = ['go', 'golang', 'core:go'].find((k) => Object.prototype.hasOwnProperty.call(tools, k));
  if (key === undefined) return null;
  const entry = (tools as Record<string, unknown>)[key];
  const one = (v: unknown): string => {
    const text = typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { version?: unknown }).version === 'string' ? (v as { version: string }).version : null;
    if (text === null) throw new MiseConfigError(`[tools] ${key} must be a version, a list of versions or { version = "..." }`);
    return text.startsWith('prefix:') ? text.slice('prefix:'.length) : text;
  };
  const versions = (Array.isArray(entry) ? entry : [entry]).map(one).filter((v) => v.trim() !== '');
  return versions.length > 0 ? versions : null;
}

/**
 * The text of a pin file, or null when it is missing or not something envd reads: not a
 * regular file (a FIFO named go.mod in /tmp would block an ordinary read), or over
 * MAX_PIN_FILE_BYTES. `[go] auto` reads these files from any directory without an
 * approval, so they must not be able to stall or bloat the daemon (src/util/safe-read.ts).
 */
export function readText(p: string): string | null {
  try {
    return readRegularFile(p, MAX_PIN_FILE_BYTES).bytes.toString('utf8');
  } catch {
    return null;
  }
}

/** `dir` and each parent up to `/`. */
export function* ancestors(dir: string): Generator<string> {
  let d = dir;
  for (;;) {
    yield d;
    const parent = dirname(d);
    if (parent === d) return;
    d = parent;
  }
}

/** The nearest `name` at or above `dir`, or null. */
export function findUp(dir: string, name: string): string | null {
  for (const d of ancestors(dir)) {
    const p = join(d, name);
    if (isFile(p)) return p;
  }
  return null;
}
