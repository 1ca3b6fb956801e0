import { stdlibText } from '../eval/stdlib.js';

/** `envd stdlib`: the bash stdlib every evaluation sources. */
export async function run(_args: string[]): Promise<number> {
  process.stdout.write(stdlibText());
  return 0;
}
