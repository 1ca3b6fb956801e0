import type { ExportFormat } from '../engine/types.js';
import { renderChange } from '../env/render.js';
import { say, usage } from './command.js';
import { logicalCwd, processEnv } from './env.js';
import { openService } from './service.js';

const FORMATS: readonly ExportFormat[] = ['bash', 'zsh', 'fish', 'json', 'gha'];

/**
 * `envd export FORMAT [--budget MS]`: what the shell must change here, as shell code (or
 * JSON for editors, or GitHub Actions' env file format). Messages go to stderr only.
 * `--budget` lets a hook fall back to this command without waiting for a slow file: the
 * daemon goes on evaluating and the result is applied at a later prompt.
 */
export async function run(args: string[]): Promise<number> {
  const format = args[0];
  if (format === undefined || !(FORMATS as readonly string[]).includes(format)) {
    return usage(`export needs one of: ${FORMATS.join(', ')} (e.g. 'envd export bash')`);
  }
  let budgetMs = Infinity;
  const bi = args.indexOf('--budget');
  if (bi >= 0) {
    const n = Number(args[bi + 1]);
    if (!Number.isFinite(n) || n < 0) return usage('--budget takes milliseconds, e.g. --budget 200');
    budgetMs = n;
  }
  const service = await openService();
  try {
    const outcome = await service.export({ cwd: logicalCwd(), env: processEnv() }, { budgetMs });
    for (const m of outcome.messages) say(m);
    const { text, warnings } = renderChange(format as ExportFormat, outcome.change);
    for (const w of warnings) say(w);
    process.stdout.write(text);
    return outcome.kind === 'failed' || outcome.kind === 'blocked' || outcome.kind === 'denied' ? 1 : 0;
  } finally {
    await service.close();
  }
}
