import { randomUUID } from 'node:crypto';
import type { ExportFormat, ShellName } from '../engine/types.js';
import type { Change } from './diff.js';
import { encodeBytes, hasRawBytes } from './bytes.js';
import { checkName, type NameVerdict } from './names.js';
import { SHELLS } from '../shells/index.js';
import type { EnvOp } from '../shells/types.js';
import { checkValue } from './values.js';

/**
 * `envd export FORMAT`: a Change as text for a shell to eval, an editor to parse, or
 * GitHub Actions' $GITHUB_ENV file.
 *
 * Every name passes checkName (names.ts) and, for shells, the target shell's own list
 * of special names (src/shells/NAME.ts); every value passes checkValue (values.ts). Anything refused
 * is left out and reported as one `envd: not exporting NAME: reason` line (`not
 * unsetting` for removals) in `warnings`; the caller prints them on stderr.
 *
 * Shell output is one compound command — `{ …; }` for bash and zsh, `begin; …; end` for
 * fish — so that an answer cut off at any byte is a syntax error as a whole and applies
 * nothing (test/render.test.ts, "cut off at any byte"): the shells parse a compound command completely before running
 * any of it, and no strict prefix of the text contains the closing `}` / `end`.
 * Statements come in name order; an empty change renders as the empty string (as
 * direnv prints nothing when nothing changes).
 */
export interface Rendered {
  text: string;
  warnings: string[];
}

export interface RenderOptions {
  /** gha: source of heredoc delimiters (tests inject collisions). Default: random. */
  delimiter?: () => string;
}

/**
 * Whether `shell` would store NAME's value as given (on top of names.ts's checkName): each
 * shell's own list of names it gives a meaning of its own, in src/shells/NAME.ts.
 */
export function shellNameVerdict(shell: ShellName, name: string): NameVerdict {
  return SHELLS[shell].nameVerdict(name);
}

/** Names GitHub Actions refuses in $GITHUB_ENV. */
function ghaNameVerdict(name: string): NameVerdict {
  if (name === 'NODE_OPTIONS') return { ok: false, reason: 'GitHub Actions does not accept NODE_OPTIONS from $GITHUB_ENV' };
  return { ok: true };
}

/**
 * The value the shell will actually hold after applying `value` to `name`: the same as
 * `value` except where the shell rewrites it (fish's PATH/CDPATH empty entries, see
 * src/shells/fish.ts). Whoever records what envd set (DIRENV_DIFF's `n`) should record
 * this, or the next prompt will see the shell's value as a change made by hand.
 */
export function valueAsApplied(format: ExportFormat, name: string, value: string): string {
  return format === 'json' || format === 'gha' ? value : SHELLS[format].valueAsApplied(name, value);
}

/** A name as shown in a warning: valid names as they are, anything else escaped and capped. */
function showName(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]{0,199}$/.test(name)) return name;
  const shown = JSON.stringify(name.length > 60 ? name.slice(0, 60) : name).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return name.length > 60 ? `${shown}…` : shown;
}

export type Op = EnvOp;

function utf8Only(format: ExportFormat): boolean {
  return format === 'json' || format === 'gha' || SHELLS[format].utf8Only === true;
}

/**
 * The rendered text as it goes to a file or stdout: bytes as they are for a shell whose
 * text holds them raw (tcsh: `rawBytes`), else the string (written as UTF-8).
 */
export function renderedOutput(format: ExportFormat, text: string): string | Buffer {
  return format !== 'json' && format !== 'gha' && SHELLS[format].rawBytes === true ? encodeBytes(text) : text;
}

/**
 * The change's operations in name order, checked; refusals become warnings. One set of
 * checks for every way an answer reaches a shell (export text here, hook records in
 * src/daemon/hook-session.ts); `refuseAlso` adds a caller's own reason to refuse a name.
 */
export function checkedOps(format: ExportFormat, change: Change, warnings: string[], refuseAlso?: (name: string) => string | null): Op[] {
  // A name both set and unset is a caller bug; the set wins (it is the target state).
  const wanted = new Map<string, Op>();
  for (const name of change.unset) wanted.set(name, { name, kind: 'unset' });
  for (const [name, value] of Object.entries(change.set)) wanted.set(name, { name, kind: 'set', value });

  const ops: Op[] = [];
  for (const name of [...wanted.keys()].sort()) {
    const op = wanted.get(name);
    if (op === undefined) continue;
    const verb = op.kind === 'set' ? 'not exporting' : 'not unsetting';
    const refuse = (reason: string): void => { warnings.push(`envd: ${verb} ${showName(name)}: ${reason}`); };
    const nv = checkName(name);
    if (!nv.ok) { refuse(nv.reason); continue; }
    const sv = format === 'json' ? { ok: true as const } : format === 'gha' ? ghaNameVerdict(name) : shellNameVerdict(format, name);
    if (!sv.ok) { refuse(sv.reason); continue; }
    const also = refuseAlso?.(name) ?? null;
    if (also !== null) { refuse(also); continue; }
    if (op.kind === 'set') {
      const vv = checkValue(name, op.value);
      if (!vv.ok) { refuse(vv.reason); continue; }
      // JSON strings are Unicode text, and GitHub Actions reads $GITHUB_ENV as UTF-8:
      // bytes that are not UTF-8 would come out as U+FFFD there.
      // So are nushell's strings (src/shells/nushell.ts: utf8Only).
      if (hasRawBytes(op.value) && utf8Only(format)) { refuse(`the value is not UTF-8, which ${format === 'json' ? 'JSON' : format === 'gha' ? 'GitHub Actions' : format} cannot carry`); continue; }
    }
    ops.push(op);
  }
  return ops;
}

function renderJson(ops: Op[]): string {
  // Null prototype: a variable may be called `__proto__`.
  const obj = Object.create(null) as Record<string, string | null>;
  for (const op of ops) obj[op.name] = op.kind === 'set' ? op.value : null;
  return JSON.stringify(obj, null, 2);
}

function defaultDelimiter(): string {
  return `ghadelimiter_${randomUUID()}`;
}

/**
 * $GITHUB_ENV: `NAME<<DELIM\nvalue\nDELIM\n`. The runner takes everything between the
 * header line and the first line equal to DELIM as the value, so the value is exact as
 * long as DELIM does not occur in it; a candidate that occurs is extended until it does
 * not (which must end: a delimiter longer than the value cannot occur in it).
 * (Windows runners also end lines at `\r\n`; a value ending in `\r` would lose it there.)
 * GitHub Actions cannot unset a variable: `NAME=` sets it empty, with a warning.
 */
function renderGha(ops: Op[], warnings: string[], next: () => string): string {
  let out = '';
  for (const op of ops) {
    if (op.kind === 'unset') {
      out += `${op.name}=\n`;
      warnings.push(`envd: GitHub Actions cannot unset ${op.name}; setting it to the empty string`);
      continue;
    }
    let delim = next();
    if (delim === '' || /[\r\n]/.test(delim)) delim = defaultDelimiter();
    for (let i = 0; op.value.includes(delim); i++) delim = `${delim}_${i.toString(36)}`;
    out += `${op.name}<<${delim}\n${op.value}\n${delim}\n`;
  }
  return out;
}

export function renderChange(format: ExportFormat, change: Change, opts: RenderOptions = {}): Rendered {
  const warnings: string[] = [];
  const ops = checkedOps(format, change, warnings);
  if (ops.length === 0) return { text: '', warnings };
  switch (format) {
    case 'json': return { text: renderJson(ops), warnings };
    case 'gha': return { text: renderGha(ops, warnings, opts.delimiter ?? defaultDelimiter), warnings };
    default: return { text: SHELLS[format].render(ops, warnings), warnings };
  }
}
