// Colour in messages a person reads: only on a terminal, never with NO_COLOR (or TERM=dumb).
// Messages are kept with their colour codes (an evaluation's output is cached and shared by
// shells on terminals and in pipes alike) and made plain where they are shown, if need be.

/** Whether a stream should get colour: it is a terminal, NO_COLOR is unset or empty, TERM is not dumb. */
export function colourWanted(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** An error line as direnv shows one on a terminal: red. */
export function red(text: string): string {
  return `\u001b[31m${text}\u001b[0m`;
}

// SGR sequences only (colour, bold, reset): the kind envd and scripts' log lines use.
const SGR = /\u001b\[[0-9;:]*m/g;

/** `text` without colour codes, for a stream that gets none. */
export function plain(text: string): string {
  return text.includes('\u001b') ? text.replace(SGR, '') : text;
}

/** `text` as shown on a stream that does (true) or does not (false) get colour. */
export function shown(text: string, colour: boolean): string {
  return colour ? text : plain(text);
}
