import type { CommandRun } from './command.js';

/**
 * The shape of one verb of the command line (src/cli/verbs.ts holds them all). Dispatch,
 * `envd --help` and the shells' completion tables are derived from these objects, so a
 * verb exists in all three or in none.
 */

/** What a positional argument (or an option's value) takes. */
export type ArgKind =
  /** One of these words; `optional` shows it in brackets in help. */
  | { kind: 'words'; words: readonly string[]; optional?: boolean }
  | { kind: 'file'; label?: string }
  | { kind: 'dir'; label?: string }
  | { kind: 'command'; label?: string }
  /** Free text (a version, a URL, a number): nothing to complete. */
  | { kind: 'none'; label?: string };

export interface OptionSpec {
  name: string;
  desc: string;
  /** Set when the option takes a value (the next word). */
  value?: ArgKind;
}

/** A verb, or a second-level verb (`go list`, `daemon start`). */
export interface ArgsSpec {
  name: string;
  /** One line, for help and completion menus. */
  summary: string;
  options?: readonly OptionSpec[];
  /** Positional arguments, in order. */
  args?: readonly ArgKind[];
  /** What every positional argument after `args` takes (e.g. a command's arguments). */
  rest?: ArgKind;
}

export interface VerbSpec extends ArgsSpec {
  /** Other names for the same verb (`permit` for `allow`). */
  aliases?: readonly string[];
  subcommands?: readonly ArgsSpec[];
  /** direnv's verbs that the stdlib, editors and scripts call: listed apart in help. */
  direnvCompat?: boolean;
  /** The verb's entry point, loaded only when the verb runs (importing the spec loads nothing). */
  load: () => Promise<CommandRun>;
}
