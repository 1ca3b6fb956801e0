import { deflateSync, inflateSync } from 'node:zlib';
import { EVAL_TIME_VARS, isValidName, STATE_VARS } from '../env/names.js';
import { newNameMap } from '../env/map.js';
import { keepRecent } from '../util/recent.js';

/**
 * direnv's environment dump ("gzenv"): the environment as a JSON object of name -> value,
 * zlib-compressed, in URL-safe base64 with padding. `direnv dump` prints it, nix-shell and
 * friends run it for `direnv_load`, and `direnv apply_dump` reads it. envd reads and
 * writes the same bytes so either tool can consume the other's dumps.
 */

/** A dump bigger than this (decompressed) is refused: no real environment comes near. */
export const MAX_DUMP_BYTES = 32 * 1024 * 1024;

export type DumpEnv = Record<string, string>;

export class DumpFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DumpFormatError';
  }
}

/** JSON with names in sorted order (as direnv's Go encoder writes maps). */
export function dumpJson(env: DumpEnv, indent?: number): string {
  const sorted: DumpEnv = newNameMap();
  for (const name of Object.keys(env).sort()) sorted[name] = env[name] ?? '';
  return JSON.stringify(sorted, null, indent);
}

/**
 * The last texts encoded. A shell going in and out of a project gets the same
 * DIRENV_DIFF and DIRENV_WATCHES every time: deflating them again is most of writing them.
 */
const recentlyEncoded = new Map<string, string>();
const RECENT = 32;

/** gzenv of JSON text: zlib, then URL-safe base64 with padding (Go's base64.URLEncoding). */
function gzenvOfJson(json: string): string {
  const known = recentlyEncoded.get(json);
  if (known !== undefined) return known;
  const text = deflateSync(Buffer.from(json, 'utf8')).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  keepRecent(recentlyEncoded, json, text, RECENT);
  return text;
}

/** The JSON texts of the last gzenv values read (a shell leaving a project sends the same ones). */
const recentlyDecoded = new Map<string, string>();


export function encodeGzenv(env: DumpEnv): string {
  return gzenvOfJson(dumpJson(env));
}

/**
 * Any JSON value in direnv's gzenv, as direnv writes DIRENV_DIFF and DIRENV_WATCHES.
 * Object keys are written in the order given: callers sort them as Go's encoder does.
 */
export function encodeGzenvValue(value: unknown): string {
  return gzenvOfJson(JSON.stringify(value));
}

/** The JSON value a gzenv text holds (no shape check: the caller checks). Throws DumpFormatError. */
export function decodeGzenvValue(text: string, maxBytes = MAX_DUMP_BYTES): unknown {
  const body = text.trim();
  if (body === '') throw new DumpFormatError('the value is empty');
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(body)) throw new DumpFormatError('the value is not URL-safe base64');
  // Each call parses afresh (callers may change what they get); only inflating is saved.
  let json = recentlyDecoded.get(body);
  if (json === undefined || json.length > maxBytes) {
    try {
      json = inflateSync(Buffer.from(body.replace(/=+$/, ''), 'base64url'), { maxOutputLength: maxBytes }).toString('utf8');
    } catch {
      throw new DumpFormatError('the value does not decompress (not zlib data, or too large)');
    }
    keepRecent(recentlyDecoded, body, json, RECENT);
  }
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new DumpFormatError('the value is not valid JSON');
  }
}

function parseEnvJson(text: string): DumpEnv {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch {
    throw new DumpFormatError('the dump is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DumpFormatError('the dump is not a JSON object of names to values');
  }
  const out: DumpEnv = newNameMap();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new DumpFormatError(`the dump's value for ${name} is not a string`);
    out[name] = value;
  }
  return out;
}

export function decodeGzenv(text: string): DumpEnv {
  const body = text.trim();
  if (body === '') throw new DumpFormatError('the dump is empty');
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(body)) throw new DumpFormatError('the dump is not URL-safe base64');
  const compressed = Buffer.from(body.replace(/=+$/, ''), 'base64url');
  let json: Buffer;
  try {
    json = inflateSync(compressed, { maxOutputLength: MAX_DUMP_BYTES });
  } catch {
    throw new DumpFormatError('the dump does not decompress (not zlib data, or over 32 MiB)');
  }
  return parseEnvJson(json.toString('utf8'));
}

/** A dump in either form envd writes: gzenv (direnv's default) or JSON (`dump json`). */
export function decodeDump(text: string): DumpEnv {
  const body = text.trim();
  return body.startsWith('{') ? parseEnvJson(body) : decodeGzenv(body);
}

/**
 * The pairs a dump may put into a shell: valid names, values without NUL. Order is the
 * dump's name order (sorted), so results are reproducible.
 */
export function applicablePairs(env: DumpEnv): [string, string][] {
  const out: [string, string][] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name] ?? '';
    if (!isValidName(name) || value.includes('\0')) continue;
    out.push([name, value]);
  }
  return out;
}

/**
 * Names never taken from a dump nor unset because a dump lacks them: the shell's own
 * variables and direnv's and envd's bookkeeping. Mirrors `__envd_x_dump_ignored` in
 * stdlib/50-extras.sh.
 */
export function isDumpIgnored(name: string): boolean {
  const exact = new Set([
    'PWD', 'OLDPWD', 'SHLVL', '_', 'SHELL', 'SHELLOPTS', 'BASHOPTS', 'PS1', 'PS2', 'PS3', 'PS4',
    'COLUMNS', 'LINES', 'IFS', 'OPTIND', 'OPTARG', 'COMP_WORDBREAKS',
    ...STATE_VARS, ...EVAL_TIME_VARS,
  ]);
  return exact.has(name) || name.startsWith('ENVD_') || name.startsWith('__envd') || name.startsWith('__ENVD_')
    || name.startsWith('BASH_FUNC_') || name.startsWith('__fish');
}
