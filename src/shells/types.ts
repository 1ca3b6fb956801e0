import type { NameVerdict } from '../env/names.js';
import type { ShellName } from './names.js';

/** One checked operation on the environment, in the order it is rendered. */
export type EnvOp = { name: string; kind: 'set'; value: string } | { name: string; kind: 'unset' };

/**
 * The command line as completion sees it, derived from the verb specs (src/cli/verbs.ts)
 * by src/cli/completion-table.ts. Argument kinds are single words: `words:a,b`, `file`,
 * `dir`, `command`, `none`; each shell's completion file acts on them.
 */
export interface CompletionTable {
  /** First-level words (verbs and aliases) with a description. */
  verbs: readonly Described[];
  /** Verbs with second-level verbs (`go`, `daemon`). */
  parents: readonly { name: string; subs: readonly Described[] }[];
  /** Every verb and `verb sub` that takes arguments or options. */
  leaves: readonly CompletionLeaf[];
}

export interface Described {
  name: string;
  desc: string;
}

export interface CompletionLeaf {
  /** `export`, `go which`. */
  path: string;
  options: readonly Described[];
  /** `--dir=dir`: the options that take a value, with their kind. */
  valueOptions: readonly string[];
  /** Positional arguments' kinds, in order. */
  positional: readonly string[];
  /** The kind of every positional argument after those. */
  rest: string;
}

/**
 * Everything envd knows about one shell. Adding a shell is one module implementing this
 * (registered in index.ts and files.ts's LOADERS) and its files under shells/NAME/.
 *
 * The hook and completion are real files, printed by plain text substitution so that a
 * front door without Node could print them too:
 *  - the hook file holds `@ENVD_BIN@` once (the envd binary's path) and `@ENVD_MARKERS@`
 *    (the file names looked for, `:`-separated), each replaced by one word quoted for the
 *    shell (`quote`); or the shell has `hookText`, one line that sets both and sources the
 *    file where it is (bash, zsh, tcsh);
 *  - the completion file is printed as it is: its verb table sits between the
 *    GENERATED_BEGIN and GENERATED_END lines, written from the verb specs by
 *    `npm run completions` and checked by test/cli-verbs.test.ts.
 */
export interface Shell {
  readonly name: ShellName;
  /** Package-relative path of the prompt hook: `shells/bash/hook.bash`. */
  readonly hookFile: string;
  /**
   * Package-relative path of the completion script: `shells/bash/completion.bash`; null for
   * a shell envd has no completion for yet (elvish, tcsh, nushell).
   */
  readonly completionFile: string | null;
  /** The line a user adds to the rc file to load the hook. */
  readonly hookLine: string;
  /** The rc file to suggest, as a person writes it: `~/.bashrc`. */
  readonly rcHint: string;
  /** The files that usually load the hook, most usual first (doctor looks there). */
  readonly rcFiles: (env: Readonly<Record<string, string | undefined>>, home: string) => string[];
  /** `value` as one word this shell reads back byte for byte (throws RangeError for NUL). */
  readonly quote: (value: string) => string;
  /** Whether the shell stores NAME's value as given (beyond names.ts's own checks). */
  readonly nameVerdict: (name: string) => NameVerdict;
  /** The value the shell holds after setting `name` to `value` (the same unless the shell rewrites it). */
  readonly valueAsApplied: (name: string, value: string) => string;
  /** One statement exporting NAME as `value` (`envd dump SHELL` writes one per variable). */
  readonly exportStatement: (name: string, value: string) => string;
  /**
   * Checked operations as ONE compound command (cut off at any byte, it applies nothing).
   * Called with at least one operation; may add warnings.
   */
  readonly render: (ops: readonly EnvOp[], warnings: string[]) => string;
  /** The generated section of the completion file (between the marker lines, exclusive); null without one. */
  readonly completionTable: ((table: CompletionTable) => string) | null;
  /**
   * What `envd hook` prints when it is not the hook file with its placeholders replaced:
   * tcsh has no functions, so its prompt alias sources the hook file where it is, and the
   * hook is one line naming that file (`file` is its absolute path).
   */
  readonly hookText?: (file: string, bin: string, markers: readonly string[]) => string;
  /**
   * The printed hook leaves out the file's blank and comment-only lines (fish: at every
   * function call that opens a block, fish counts lines from the start of the sourced
   * text up to it, ~1 µs per KB before it; the comments were half of the text). With
   * `hookText` (bash): the line sources the build's copy of the file without them, files
   * it sources from beside it inlined (files.ts, hookCopies: bash lexes comments too).
   */
  readonly hookDropsComments?: true;
  /**
   * With `hookDropsComments` and `hookText` (bash): the copy leaves out the sections from
   * `from` up to `to` (their `# ---- NAME` lines), which the build writes to a second file
   * beside it (files.ts, hookMorePath); the copy's `stub` line is replaced by `loader`,
   * which defines the stub's function to source that file on first use, and only if its
   * `id` (of the file's text) is the one the copy was built with.
   */
  readonly hookLazy?: {
    readonly from: string;
    readonly to: string;
    readonly stub: string;
    readonly loader: (id: string, file: string) => string;
    /** The second file's first line: it stops being read unless the loader expects `id`. */
    readonly guard: (id: string) => string;
  };
  /** The shell's strings are UTF-8 (nushell): values holding other bytes are refused, as for JSON. */
  readonly utf8Only?: true;
  /**
   * The rendered text holds bytes that are not UTF-8 as they are (U+DC80–U+DCFF in the
   * string, src/env/bytes.ts): it is written with encodeBytes (tcsh has no byte escapes).
   */
  readonly rawBytes?: true;
  /** The syntax check for this shell's files: the command and its arguments before the file. */
  readonly check: readonly [string, ...string[]];
}

/** The marker lines around the generated verb table in every completion file. */
export const GENERATED_BEGIN = '# ---- generated from src/cli/verbs.ts by `npm run completions`: do not edit ----';
export const GENERATED_END = '# ---- end of generated ----';
