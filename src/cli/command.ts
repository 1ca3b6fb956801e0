import { colourWanted, shown } from '../util/colour.js';

/** A verb's entry point: arguments after the verb, returns the process exit status. */
export type CommandRun = (args: string[]) => Promise<number>;

/** Write a line to stderr (messages never go to stdout, which carries shell code or data). */
export function say(line: string): void {
  process.stderr.write(line.endsWith('\n') ? line : line + '\n');
}

/** An outcome's messages on stderr, in colour only if stderr is a terminal that wants it. */
export function sayMessages(lines: readonly string[]): void {
  const colour = colourWanted(process.stderr.isTTY === true, process.env);
  for (const line of lines) say(shown(line, colour));
}

/** Bad usage: one line, what to type instead. */
export function usage(line: string): number {
  say(`envd: ${line}`);
  return 2;
}
