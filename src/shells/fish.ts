import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { quoteFish } from '../env/quote.js';
import { nonEmpty } from './posix.js';
import type { CompletionTable, Described, EnvOp, Shell } from './types.js';

/**
 * Names fish gives a meaning of its own, beyond names.ts's shell-owned list: read-only and
 * electric variables (and every fish_* setting, refused by prefix below). Found by
 * exporting a hostile value under each of `set -n`'s names; test/render-names.test.ts
 * re-runs that probe.
 */
const SPECIAL = new Set([
  'CMD_DURATION', 'COLUMNS', 'EUID', 'FISH_VERSION', 'LINES', 'PWD', 'SHLVL', '_', 'argv', 'history',
  'hostname', 'pipestatus', 'status', 'status_generation', 'umask', 'version',
]);

/**
 * fish rewrites every empty entry of PATH and CDPATH as `.` whatever form it is given
 * in (a single string with `::`, or an empty list element): fish 3.6 cannot hold such a
 * value exactly. An empty entry means "the current directory" to execvp and cd, and so
 * does `.`, so the meaning is kept; envd writes the `.` itself (so the text says what the
 * shell will hold) and warns. The empty string itself IS representable: a list with no
 * elements, which fish exports as `PATH=`.
 */
const DOT_FIXED = new Set(['PATH', 'CDPATH']);

function valueAsApplied(name: string, value: string): string {
  if (!DOT_FIXED.has(name) || value === '') return value;
  return value.split(':').map((e) => (e === '' ? '.' : e)).join(':');
}

/** `begin; set -gx -- NAME WORD; set -e -g NAME; end`. */
function render(ops: readonly EnvOp[], warnings: string[]): string {
  const stmts = ops.map((op) => {
    // `-g` on both: the hook may eval this inside a function, where a local of the same
    // name would otherwise be the one changed. `--` so no value is read as an option.
    if (op.kind === 'unset') return `set -e -g ${op.name};`;
    if (DOT_FIXED.has(op.name)) {
      if (op.value === '') return `set -gx -- ${op.name};`;
      const applied = valueAsApplied(op.name, op.value);
      if (applied !== op.value) warnings.push(`envd: ${op.name}: fish keeps empty entries as '.' (the current directory, which is what an empty entry means)`);
      return `set -gx -- ${op.name} ${quoteFish(applied)};`;
    }
    // One word. For a PATH-like (path) variable fish splits it at ':' and joins the
    // entries with ':' again on export, which gives back the same bytes.
    return `set -gx -- ${op.name} ${quoteFish(op.value)};`;
  });
  return `begin; ${stmts.join(' ')} end`;
}

/**
 * A word of fish source text: bare when it holds nothing fish gives a meaning to (as
 * fish_indent writes it), else single-quoted, where `\` and `'` are the only specials.
 */
function fishq(s: string): string {
  if (/^[A-Za-z0-9_.,:=\/+-]+$/.test(s)) return s;
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

const tabbed = (items: readonly Described[]): string => items.map((i) => fishq(`${i.name}\t${i.desc}`)).join(' ');

/** ` 'a' 'b'` (with its leading space), or nothing: `set x` alone makes an empty list. */
const words = (items: readonly string[]): string => items.map((w) => ` ${w}`).join('');

/**
 * The data functions of shells/fish/completion.fish. `-S` (no scope shadowing) lets them
 * set the caller's locals (`subs`, `opts`, `valopts`, `pos`, `rest`).
 */
function completionTable(t: CompletionTable): string {
  const subCases = t.parents.flatMap((p) => [`        case ${fishq(p.name)}`, `            set subs${words([tabbed(p.subs)])}`]);
  const specCases = t.leaves.flatMap((l) => [
    `        case ${fishq(l.path)}`,
    `            set opts${words(l.options.length > 0 ? [tabbed(l.options)] : [])}`,
    `            set valopts${words(l.valueOptions.map(fishq))}`,
    `            set pos${words(l.positional.map(fishq))}`,
    `            set rest ${fishq(l.rest)}`,
  ]);
  return [
    'function __envd_verbs',
    `    printf '%s\\n' ${tabbed(t.verbs)}`,
    'end',
    '',
    'function __envd_subcommands -S',
    '    switch $argv[1]',
    ...subCases,
    '    end',
    'end',
    '',
    'function __envd_spec -S',
    '    switch $argv[1]',
    ...specCases,
    "        case '*'",
    '            return 1',
    '    end',
    'end',
  ].join('\n');
}

export const fish: Shell = {
  name: 'fish',
  hookFile: 'shells/fish/hook.fish',
  completionFile: 'shells/fish/completion.fish',
  hookLine: 'envd hook fish | source',
  hookDropsComments: true,
  rcHint: '~/.config/fish/config.fish',
  rcFiles: (env, home) => {
    const fishDir = join(nonEmpty(env, 'XDG_CONFIG_HOME') ?? join(home, '.config'), 'fish');
    const files = [join(fishDir, 'config.fish')];
    try {
      for (const f of readdirSync(join(fishDir, 'conf.d'))) if (f.endsWith('.fish')) files.push(join(fishDir, 'conf.d', f));
    } catch { /* no conf.d */ }
    return files;
  },
  quote: quoteFish,
  nameVerdict: (name) => {
    if (SPECIAL.has(name)) return { ok: false, reason: 'fish gives this variable a meaning of its own' };
    if (name.startsWith('fish_')) return { ok: false, reason: 'a setting of fish itself' };
    return { ok: true };
  },
  valueAsApplied,
  exportStatement: (name, value) => `set -gx ${name} ${quoteFish(value)};`,
  render,
  completionTable,
  check: ['fish', '--no-execute'],
};
