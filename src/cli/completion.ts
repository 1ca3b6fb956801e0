import { COMPLETION_SHELLS, isCompletionShell } from '../shells/names.js';
import { usage } from './command.js';

/**
 * `envd completion SHELL`: tab completion for every verb and option. Each shell's script
 * is a real file (shells/NAME/completion.*) whose verb table is generated from the verb
 * specs (src/cli/verbs.ts, `npm run completions`); it is printed as it is.
 */
export async function run(args: string[]): Promise<number> {
  const shell = args[0];
  if (args.length !== 1 || shell === undefined || !isCompletionShell(shell)) {
    const choices = COMPLETION_SHELLS.map((s) => `'envd completion ${s}'`);
    return usage(`completion needs one shell: ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1] ?? ''}`);
  }
  const { completionScript, loadShell } = await import('../shells/files.js');
  const text = completionScript(await loadShell(shell));
  if (text === null) throw new Error(`${shell} is in COMPLETION_SHELLS but has no completion file`);
  process.stdout.write(text);
  return 0;
}
