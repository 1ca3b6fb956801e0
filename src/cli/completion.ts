import { isShellName, SHELL_NAMES } from '../shells/names.js';
import { usage } from './command.js';

/**
 * `envd completion SHELL`: tab completion for every verb and option. Each shell's script
 * is a real file (shells/NAME/completion.*) whose verb table is generated from the verb
 * specs (src/cli/verbs.ts, `npm run completions`); it is printed as it is.
 */
export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (args.length !== 1 || shell === undefined || !isShellName(shell)) {
    const choices = SHELL_NAMES.map((s) => `'envd completion ${s}'`);
    return usage(`completion needs one shell: ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1] ?? ''}`);
  }
  const { completionScript, loadShell } = await import('../shells/files.js');
  process.stdout.write(completionScript(await loadShell(shell)));
  return 0;
}
