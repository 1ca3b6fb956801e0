import { SHELL_NAMES } from '../shells/names.js';
import type { ArgKind, ArgsSpec, VerbSpec } from './verb-spec.js';

/**
 * `envd help`: the verbs of src/cli/verbs.ts, one line each, direnv's own verbs apart. The
 * specs are passed in, so this module and verbs.ts do not import each other.
 */

function argWord(a: ArgKind): string {
  if (a.kind === 'words') return a.optional === true ? `[${a.words.join('|')}]` : a.words.join('|');
  return a.label ?? (a.kind === 'file' ? 'FILE' : a.kind === 'dir' ? 'DIR' : a.kind === 'command' ? 'CMD' : 'ARG');
}

/** `export bash|zsh|fish|json|gha`, `go list|which|install|uninstall`. */
export function synopsis(v: ArgsSpec & { subcommands?: readonly ArgsSpec[] }): string {
  const parts = [v.name];
  if (v.subcommands !== undefined) parts.push(v.subcommands.map((s) => s.name).join('|'));
  for (const a of v.args ?? []) parts.push(argWord(a));
  if (v.rest !== undefined) parts.push(argWord(v.rest));
  for (const o of v.options ?? []) parts.push(o.value === undefined ? `[${o.name}]` : `[${o.name} ${argWord(o.value)}]`);
  return parts.join(' ');
}

function line(v: VerbSpec): string {
  const aliases = (v.aliases ?? []).length > 0 ? ` (aliases: ${(v.aliases ?? []).join(', ')})` : '';
  const s = synopsis(v);
  return `  ${s.padEnd(34)}${s.length >= 34 ? '  ' : ''}${v.summary}${aliases}`;
}

function shellList(): string {
  return `${SHELL_NAMES.slice(0, -1).join(', ')} and ${SHELL_NAMES[SHELL_NAMES.length - 1] ?? ''}`;
}

export function helpText(verbs: readonly VerbSpec[]): string {
  return [
    `envd: directory-scoped environments for ${shellList()}`,
    '',
    'usage: envd <command> [args]',
    '',
    ...verbs.filter((v) => v.direnvCompat !== true).map(line),
    `  ${'direnv COMMAND [args]'.padEnd(34)}the same command, standing in for direnv (the \`direnv\` shim)`,
    '',
    "direnv's verbs (the stdlib, editors and scripts call them):",
    '',
    ...verbs.filter((v) => v.direnvCompat === true).map(line),
  ].join('\n');
}

export function printHelp(verbs: readonly VerbSpec[]): number {
  process.stdout.write(helpText(verbs) + '\n');
  return 0;
}
