import { COMPLETION_SHELLS, EXPORT_FORMATS, SHELL_NAMES } from '../shells/names.js';
import type { ArgKind, OptionSpec, VerbSpec } from './verb-spec.js';

/**
 * Every verb of `envd`, in the order help and completion list them. Each loads its module
 * only when it runs, so `envd hook bash` does not pay for the daemon's or the evaluator's
 * imports.
 */
// Argument kinds used below (the shapes are in verb-spec.ts, which holds types only: it costs
// no module load when the CLI starts).
const words = (...w: readonly string[]): ArgKind => ({ kind: 'words', words: w });
const optionalWords = (...w: readonly string[]): ArgKind => ({ kind: 'words', words: w, optional: true });
const FILE: ArgKind = { kind: 'file' };
const OPTIONAL_FILE: ArgKind = { kind: 'file', label: '[FILE]' };
const PATH: ArgKind = { kind: 'file', label: '[PATH]' };
const DIR: ArgKind = { kind: 'dir' };
const NONE: ArgKind = { kind: 'none' };
const JSON_OPT: OptionSpec = { name: '--json', desc: 'machine-readable output' };

const SHELLS = words(...SHELL_NAMES);
const FORMATS = words(...EXPORT_FORMATS);

export const VERBS: readonly VerbSpec[] = [
  {
    name: 'hook', summary: 'print the prompt hook for a shell', args: [SHELLS],
    load: () => import('./hook.js').then((m) => m.run),
  },
  {
    name: 'allow', aliases: ['permit', 'grant'], summary: 'approve an .envrc\'s current content', args: [PATH],
    load: () => import('./trust.js').then((m) => m.runAllow),
  },
  {
    name: 'deny', aliases: ['block', 'revoke', 'disallow'], summary: 'block an .envrc (wins over approvals)', args: [PATH],
    load: () => import('./trust.js').then((m) => m.runDeny),
  },
  {
    name: 'export', summary: 'print what changes in this directory', args: [FORMATS],
    options: [{ name: '--budget', desc: 'milliseconds to wait for a slow .envrc', value: { kind: 'none', label: 'MS' } }],
    load: () => import('./export.js').then((m) => m.run),
  },
  {
    name: 'exec', summary: 'run a command with a directory\'s environment',
    args: [{ kind: 'dir', label: 'DIR' }, { kind: 'command', label: 'CMD' }], rest: { kind: 'file', label: '[ARGS...]' },
    load: () => import('./exec.js').then((m) => m.run),
  },
  {
    name: 'status', summary: 'what is loaded, found and allowed, and why', options: [JSON_OPT],
    load: () => import('./status.js').then((m) => m.run),
  },
  {
    name: 'reload', summary: 'evaluate the env file again at the next prompt', args: [PATH],
    load: () => import('./compat.js').then((m) => m.runReload),
  },
  {
    name: 'edit', summary: 'open the .envrc in $EDITOR and approve the result', args: [PATH],
    load: () => import('./compat.js').then((m) => m.runEdit),
  },
  {
    name: 'prune', summary: 'drop approvals of files that are gone or changed',
    load: () => import('./trust.js').then((m) => m.runPrune),
  },
  {
    name: 'stdlib', summary: 'print the bash stdlib',
    load: () => import('./stdlib.js').then((m) => m.run),
  },
  {
    name: 'version', summary: 'print the version, or check it is at least MIN', args: [{ kind: 'none', label: '[MIN]' }],
    load: () => import('./version.js').then((m) => m.run),
  },
  {
    name: 'go', summary: 'Go SDKs: list, which one a directory gets, install',
    subcommands: [
      { name: 'list', summary: 'Go SDKs installed on this machine', options: [JSON_OPT] },
      {
        name: 'which', summary: 'the GOROOT a directory gets, and why', args: [{ kind: 'none', label: '[VERSION]' }],
        options: [JSON_OPT, { name: '--dir', desc: 'directory to resolve for', value: DIR }],
      },
      {
        name: 'install', summary: 'download, verify and install a Go release', args: [{ kind: 'none', label: '[VERSION]' }],
        options: [{ name: '--dir', desc: 'install what this directory pins', value: DIR }],
      },
      { name: 'uninstall', summary: 'remove a Go that envd installed', args: [{ kind: 'none', label: 'VERSION' }] },
    ],
    load: () => import('./go.js').then((m) => m.run),
  },
  {
    name: 'daemon', summary: 'manage the per-user daemon',
    subcommands: [
      { name: 'start', summary: 'start the daemon if it is not running' },
      { name: 'stop', summary: 'stop the daemon' },
      { name: 'restart', summary: 'stop the daemon and start a new one' },
      { name: 'status', summary: 'whether the daemon answers, and its version', options: [JSON_OPT] },
      { name: 'run', summary: 'run the daemon in the foreground' },
      { name: 'logs', summary: 'print the end of the daemon\'s log', options: [{ name: '-n', desc: 'how many lines (default 50)', value: NONE }] },
      {
        name: 'install', summary: 'write a systemd user unit or launchd agent for the daemon',
        options: [
          { name: '--print', desc: 'print the unit instead of writing it' },
          { name: '--force', desc: 'overwrite an existing unit' },
          { name: '--remove', desc: 'remove the unit envd wrote' },
          { name: '--platform', desc: 'write for this platform', value: words('linux', 'darwin') },
        ],
      },
    ],
    load: () => import('./daemon.js').then((m) => m.run),
  },
  {
    name: 'doctor', summary: 'check the installation: hook, daemon, files, config, bash, Go',
    options: [JSON_OPT, { name: '--no-start', desc: 'do not start the daemon to check it' }],
    load: () => import('./doctor.js').then((m) => m.run),
  },
  {
    name: 'completion', summary: 'print tab completion for a shell', args: [words(...COMPLETION_SHELLS)],
    load: () => import('./completion.js').then((m) => m.run),
  },
  {
    name: 'dump', summary: 'print this environment for a parent to load', args: [optionalWords('gzenv', 'json', ...SHELL_NAMES), OPTIONAL_FILE], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runDump),
  },
  {
    name: 'apply_dump', summary: 'bash code that turns the environment into a dump', args: [FILE], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runApplyDump),
  },
  {
    name: 'show_dump', summary: 'decode a dump for reading', args: [{ kind: 'file', label: 'DUMP' }], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runShowDump),
  },
  {
    name: 'watch', summary: 'record a file the loaded environment depends on', args: [optionalWords(...SHELL_NAMES)], rest: { kind: 'file', label: 'PATH...' }, direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runWatch),
  },
  {
    name: 'watch-dir', summary: 'record a directory the loaded environment depends on', args: [DIR], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runWatchDir),
  },
  {
    name: 'watch-list', summary: 'the files the environment depends on, with their state', options: [JSON_OPT], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runWatchList),
  },
  {
    name: 'watch-print', summary: 'the files the environment depends on', direnvCompat: true,
    options: [{ name: '--null', desc: 'separate with NUL bytes' }, { name: '-0', desc: 'separate with NUL bytes' }],
    load: () => import('./compat.js').then((m) => m.runWatchPrint),
  },
  {
    name: 'dotenv', summary: 'print a .env file as exports', args: [optionalWords(...EXPORT_FORMATS), OPTIONAL_FILE], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runDotenv),
  },
  {
    name: 'current', summary: 'exit 0 when PATH is watched and unchanged', args: [{ kind: 'file', label: 'PATH' }], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runCurrent),
  },
  {
    name: 'fetchurl', summary: 'fetch a URL into the cache (with an integrity pin)', args: [{ kind: 'none', label: 'URL' }, { kind: 'none', label: '[sha256-HASH]' }], direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runFetchurl),
  },
  {
    name: 'check-required', summary: 'list the files that are not approved (require_allowed)', rest: { kind: 'file', label: 'FILE...' }, direnvCompat: true,
    load: () => import('./compat.js').then((m) => m.runCheckRequired),
  },
  {
    name: 'help', summary: 'list the commands',
    load: () => import('./help.js').then((m) => async () => m.printHelp(VERBS)),
  },
];

/**
 * The verb for a word of the command line, by name or alias. A Map: the word comes from
 * the user, and on a plain object `envd constructor` would find Object.prototype's functions.
 */
export function verbIndex(): Map<string, VerbSpec> {
  const index = new Map<string, VerbSpec>();
  for (const v of VERBS) for (const n of [v.name, ...(v.aliases ?? [])]) index.set(n, v);
  return index;
}
