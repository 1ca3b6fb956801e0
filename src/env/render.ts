import { randomUUID } from 'node:crypto';
import type { ExportFormat, ShellName } from '../engine/types.js';
import type { Change } from './diff.js';
import { hasRawBytes } from './bytes.js';
import { checkName, type NameVerdict } from './names.js';
import { quoteBash, quoteFish, quoteZsh } from './quote.js';
import { isMoreShell, moreNameVerdict, renderMore } from './render-more.js';
import { checkValue } from './values.js';

/**
 * `envd export FORMAT`: a Change as text for a shell to eval, an editor to parse, or
 * GitHub Actions' $GITHUB_ENV file.
 *
 * Every name passes checkName (names.ts) and, for shells, the target shell's own list
 * of special names below; every value passes checkValue (values.ts). Anything refused
 * is left out and reported as one `envd: not exporting NAME: reason` line (`not
 * unsetting` for removals) in `warnings`; the caller prints them on stderr.
 *
 * Shell output is one compound command — `{ …; }` for bash and zsh, `begin; …; end` for
 * fish — so that an answer cut off at any byte is a syntax error as a whole and applies
 * nothing (RELIABILITY 17): the shells parse a compound command completely before running
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

// ---------------------------------------------------------------------------------------
// Names each shell gives a meaning of its own, beyond names.ts's shell-owned list. Found
// by exporting a hostile value under each of the shell's own variable names (bash
// `compgen -v`, zsh `$parameters` specials, fish `set -n`) and keeping those the shell
// does not then hold and export byte for byte; test/render-names.test.ts re-runs that
// probe against the installed shells. Assigning them is refused because the shell would
// evaluate, reject, ignore or act on the value instead of storing it:
//   bash: arithmetic evaluation (RANDOM, SRANDOM, OPTIND, HISTCMD: `a[$(cmd)]` in the
//         value RUNS cmd), readonly, dynamic or array variables, BASH_XTRACEFD (unsetting
//         it closes the descriptor), BASH_COMPAT (validated).
//   zsh:  integer specials (math-evaluated; UID/EUID/GID/EGID call setuid/setgid),
//         USERNAME (switches user when privileged), readonly and array/hash specials
//         (lowercase names tied to the shell: path, fpath, options, functions...), and
//         PROMPT/prompt, which are PS1 under another name.
//   fish: read-only and electric variables, and fish_* settings of fish itself.
// ---------------------------------------------------------------------------------------

const BASH_SPECIAL = new Set([
  'BASH_ALIASES', 'BASH_ARGC', 'BASH_ARGV', 'BASH_ARGV0', 'BASH_CMDS', 'BASH_COMMAND', 'BASH_COMPAT',
  'BASH_LINENO', 'BASH_REMATCH', 'BASH_SOURCE', 'BASH_SUBSHELL', 'BASH_VERSINFO', 'BASH_XTRACEFD',
  'BASHOPTS', 'BASHPID', 'DIRSTACK', 'EPOCHREALTIME', 'EPOCHSECONDS', 'EUID', 'FUNCNAME', 'GROUPS',
  'HISTCMD', 'LINENO', 'OPTIND', 'PIPESTATUS', 'PPID', 'RANDOM', 'SECONDS', 'SHELLOPTS', 'SRANDOM', 'UID',
]);

const ZSH_SPECIAL = new Set([
  // integer, readonly or behaviour-changing scalars
  'ARGC', 'COLUMNS', 'EGID', 'EPOCHREALTIME', 'EPOCHSECONDS', 'ERRNO', 'EUID', 'FUNCNEST', 'GID',
  'HISTCHARS', 'HISTCMD', 'HISTSIZE', 'KEYBOARD_HACK', 'KEYTIMEOUT', 'LINENO', 'LINES', 'LISTMAX',
  'MAILCHECK', 'OPTIND', 'PPID', 'PROMPT', 'RANDOM', 'SAVEHIST', 'SECONDS', 'SHLVL', 'TRY_BLOCK_ERROR',
  'TRY_BLOCK_INTERRUPT', 'TTYIDLE', 'UID', 'USERNAME', 'WATCH', 'ZLE_RPROMPT_INDENT', 'ZSH_EVAL_CONTEXT',
  'ZSH_SUBSHELL', 'ZCURSES_COLORS', 'ZCURSES_COLOR_PAIRS',
  // arrays, hashes and scalars tied to the shell's own state
  'aliases', 'argv', 'builtins', 'cdpath', 'commands', 'dirstack', 'dis_aliases', 'dis_builtins',
  'dis_functions', 'dis_functions_source', 'dis_galiases', 'dis_patchars', 'dis_reswords', 'dis_saliases',
  'epochtime', 'errnos', 'fignore', 'fpath', 'funcfiletrace', 'funcsourcetrace', 'funcstack', 'functions',
  'functions_source', 'functrace', 'galiases', 'histchars', 'history', 'historywords', 'jobdirs',
  'jobstates', 'jobtexts', 'keymaps', 'langinfo', 'mailpath', 'manpath', 'mapfile', 'module_path',
  'modules', 'nameddirs', 'options', 'parameters', 'path', 'patchars', 'pipestatus', 'prompt', 'psvar',
  'reswords', 'saliases', 'signals', 'status', 'sysparams', 'termcap', 'terminfo', 'userdirs',
  'usergroups', 'watch', 'widgets', 'zcurses_attrs', 'zcurses_colors', 'zcurses_keycodes', 'zcurses_windows',
  'zsh_eval_context', 'zsh_scheduled_events',
]);

const FISH_SPECIAL = new Set([
  'CMD_DURATION', 'COLUMNS', 'EUID', 'FISH_VERSION', 'LINES', 'PWD', 'SHLVL', '_', 'argv', 'history',
  'hostname', 'pipestatus', 'status', 'status_generation', 'umask', 'version',
]);

/** Whether `shell` would store NAME's value as given (on top of names.ts's checkName). */
export function shellNameVerdict(shell: ShellName, name: string): NameVerdict {
  switch (shell) {
    case 'bash':
      if (BASH_SPECIAL.has(name)) return { ok: false, reason: 'bash gives this variable a meaning of its own' };
      return { ok: true };
    case 'zsh':
      if (ZSH_SPECIAL.has(name)) return { ok: false, reason: 'zsh gives this variable a meaning of its own' };
      return { ok: true };
    case 'fish':
      if (FISH_SPECIAL.has(name)) return { ok: false, reason: 'fish gives this variable a meaning of its own' };
      if (name.startsWith('fish_')) return { ok: false, reason: 'a setting of fish itself' };
      return { ok: true };
  }
}

/** Names GitHub Actions refuses in $GITHUB_ENV. */
function ghaNameVerdict(name: string): NameVerdict {
  if (name === 'NODE_OPTIONS') return { ok: false, reason: 'GitHub Actions does not accept NODE_OPTIONS from $GITHUB_ENV' };
  return { ok: true };
}

/**
 * fish rewrites every empty entry of PATH and CDPATH as `.` whatever form it is given
 * in (a single string with `::`, or an empty list element): fish 3.6 cannot hold such a
 * value exactly. An empty entry means "the current directory" to execvp and cd, and so
 * does `.`, so the meaning is kept; envd writes the `.` itself (so the text says what the
 * shell will hold) and warns. The empty string itself IS representable: a list with no
 * elements, which fish exports as `PATH=`.
 */
const FISH_DOT_FIXED = new Set(['PATH', 'CDPATH']);

/**
 * The value the shell will actually hold after applying `value` to `name`. The same as
 * `value` except for fish's PATH/CDPATH empty entries (above). Whoever records what envd
 * set (DIRENV_DIFF's `n`) should record this, or the next prompt will see the shell's
 * value as a change made by hand.
 */
export function valueAsApplied(format: ExportFormat, name: string, value: string): string {
  if (format !== 'fish' || !FISH_DOT_FIXED.has(name) || value === '') return value;
  return value.split(':').map((e) => (e === '' ? '.' : e)).join(':');
}

/** A name as shown in a warning: valid names as they are, anything else escaped and capped. */
function showName(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]{0,199}$/.test(name)) return name;
  const shown = JSON.stringify(name.length > 60 ? name.slice(0, 60) : name).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return name.length > 60 ? `${shown}…` : shown;
}

export type Op = { name: string; kind: 'set'; value: string } | { name: string; kind: 'unset' };

/**
 * The change's operations in name order, checked; refusals become warnings. One set of
 * checks for every way an answer reaches a shell (export text here, hook records in
 * src/daemon/hook-connection.ts); `refuseAlso` adds a caller's own reason to refuse a name.
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
    const sv = format === 'json' ? { ok: true as const } : format === 'gha' ? ghaNameVerdict(name) : isMoreShell(format) ? moreNameVerdict(format, name) : shellNameVerdict(format, name);
    if (!sv.ok) { refuse(sv.reason); continue; }
    const also = refuseAlso?.(name) ?? null;
    if (also !== null) { refuse(also); continue; }
    if (op.kind === 'set') {
      const vv = checkValue(name, op.value);
      if (!vv.ok) { refuse(vv.reason); continue; }
      // JSON strings are Unicode text, and GitHub Actions reads $GITHUB_ENV as UTF-8:
      // bytes that are not UTF-8 would come out as U+FFFD there.
      if ((format === 'json' || format === 'gha' || format === 'nushell') && hasRawBytes(op.value)) { refuse(`the value is not UTF-8, which ${format === 'json' ? 'JSON' : format === 'gha' ? 'GitHub Actions' : 'nushell'} cannot carry`); continue; }
    }
    ops.push(op);
  }
  return ops;
}

function renderPosix(ops: Op[], quote: (v: string) => string): string {
  // `unset -v`: plain `unset` in bash removes a FUNCTION of that name when no variable has
  // it. The name is quoted because a bare word could be a zsh global alias (oh-my-zsh
  // defines `L`, `G`, `H`, `NUL`…: `unset -v L` would become `unset -v | less`). In
  // `NAME=…` the word is never a bare name, so no alias can match it.
  const stmts = ops.map((op) => (op.kind === 'set' ? `export ${op.name}=${quote(op.value)};` : `unset -v '${op.name}';`));
  return `{ ${stmts.join(' ')} }`;
}

function renderFish(ops: Op[], warnings: string[]): string {
  const stmts = ops.map((op) => {
    // `-g` on both: the hook may eval this inside a function, where a local of the same
    // name would otherwise be the one changed. `--` so no value is read as an option.
    if (op.kind === 'unset') return `set -e -g ${op.name};`;
    if (FISH_DOT_FIXED.has(op.name)) {
      if (op.value === '') return `set -gx -- ${op.name};`;
      const applied = valueAsApplied('fish', op.name, op.value);
      if (applied !== op.value) warnings.push(`envd: ${op.name}: fish keeps empty entries as '.' (the current directory, which is what an empty entry means)`);
      return `set -gx -- ${op.name} ${quoteFish(applied)};`;
    }
    // One word. For a PATH-like (path) variable fish splits it at ':' and joins the
    // entries with ':' again on export, which gives back the same bytes.
    return `set -gx -- ${op.name} ${quoteFish(op.value)};`;
  });
  return `begin; ${stmts.join(' ')} end`;
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
    case 'bash': return { text: renderPosix(ops, quoteBash), warnings };
    case 'zsh': return { text: renderPosix(ops, quoteZsh), warnings };
    case 'fish': return { text: renderFish(ops, warnings), warnings };
    case 'json': return { text: renderJson(ops), warnings };
    case 'gha': return { text: renderGha(ops, warnings, opts.delimiter ?? defaultDelimiter), warnings };
    case 'elvish':
    case 'tcsh':
    case 'nushell': return { text: renderMore(format, ops), warnings };
  }
}
