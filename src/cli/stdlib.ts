import { stdlibText } from '../eval/stdlib.js';
import { quoteBash } from '../env/quote.js';
import { ENVD_BIN_PATH } from '../version.js';

/**
 * `envd stdlib`: the bash stdlib every evaluation sources. Like direnv's, it starts by
 * naming the binary in $direnv, which its functions call when sourced in a plain shell.
 */
export async function run(_args: string[]): Promise<number> {
  process.stdout.write(`direnv=${quoteBash(ENVD_BIN_PATH)}\n${stdlibText()}`);
  return 0;
}
