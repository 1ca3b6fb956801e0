/**
 * A scenario is written once as a list of steps and compiled into a bash, zsh or fish
 * script (src/bench/emit.ts), so the same actions are timed the same way in every shell.
 *
 * What the shell prints on stdout, one record a line:
 *   `@S LABEL MICROS`  one timing sample (bash and zsh; fish prints `@T LABEL` on stderr
 *                      followed by the `time` keyword's report, parsed by src/bench/run.ts)
 *   `@F WHAT DETAIL`   a check failed: the scenario's numbers are not reported
 *   `@V TEXT`          a value reported back (the daemon's pid, a count)
 *   `@R`               ready (concurrent runs wait for every shell to say it)
 */

export type Shell = 'bash' | 'zsh' | 'fish' | 'elvish' | 'tcsh' | 'nushell';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish', 'elvish', 'tcsh', 'nushell'];
/**
 * The shells every step compiles for. elvish, tcsh and nushell (src/bench/emit-more.ts)
 * have the prompt rows only: idle and leave + enter.
 */
const FULL: readonly Shell[] = ['bash', 'zsh', 'fish'];
export function fullShells(shells: readonly Shell[]): Shell[] {
  return shells.filter((s) => FULL.includes(s));
}

export type Step =
  /** `cd DIR`: zsh runs chpwd_functions and fish --on-variable PWD handlers, as for a user. */
  | { k: 'cd'; dir: string }
  /** What the shell does before drawing a prompt: PROMPT_COMMAND, precmd_functions, fish_prompt. */
  | { k: 'prompt' }
  /** NAME must be exported with VALUE (null: must be unset). Fails with `@F WHAT`. */
  | { k: 'expect'; name: string; value: string | null; what: string }
  /** Run a command and keep its stdout and stderr (in the shell's `__out`). */
  | { k: 'capture'; argv: string[] }
  /** `__out` must contain TEXT. */
  | { k: 'expectOut'; contains: string; what: string }
  /** Time the body; one `@S LABEL` sample. */
  | { k: 'time'; label: string; body: Step[] }
  /** The body N times (a loop in the shell, not unrolled). */
  | { k: 'repeat'; n: number; body: Step[] }
  /**
   * While NAME does not have VALUE (null: while it is set; checked first, so a tool that already applied it pays
   * nothing): sleep SLEEP seconds, then a prompt; at most TRIES times. `expect` decides after.
   */
  | { k: 'promptUntil'; name: string; value: string | null; tries: number; sleep: number }
  /** Print `@V TEXT`. */
  | { k: 'report'; text: string }
  /** Print `@R` and wait for one line on the barrier FIFO. */
  | { k: 'barrier'; fifo: string }
  /** Run a command, output discarded. */
  | { k: 'run'; argv: string[] };

export const cd = (dir: string): Step => ({ k: 'cd', dir });
export const prompt: Step = { k: 'prompt' };
export const cdPrompt = (dir: string): Step[] => [cd(dir), prompt];
export const expect = (name: string, value: string | null, what: string): Step => ({ k: 'expect', name, value, what });
export const time = (label: string, body: Step[]): Step => ({ k: 'time', label, body });
export const repeat = (n: number, body: Step[]): Step => ({ k: 'repeat', n, body });
export const capture = (argv: string[]): Step => ({ k: 'capture', argv });
export const expectOut = (contains: string, what: string): Step => ({ k: 'expectOut', contains, what });
export const promptUntil = (name: string, value: string | null, tries: number, sleep: number): Step =>
  ({ k: 'promptUntil', name, value, tries, sleep });
export const report = (text: string): Step => ({ k: 'report', text });
export const barrier = (fifo: string): Step => ({ k: 'barrier', fifo });
export const run = (argv: string[]): Step => ({ k: 'run', argv });
