import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { markerNames } from '../engine/find.js';
import type { ExportFormat } from '../engine/types.js';
import { say, sayMessages, usage } from './command.js';
import { encodeBytes } from '../env/bytes.js';
import { logicalCwd, processEnv } from './env.js';
import { MAX_TIMER_MS } from '../util/timer.js';

/** Every file name that can make a directory a project, whatever the config says. */
const ANY_MARKER = markerNames(true, true);

/**
 * Outside every project with nothing loaded there is nothing to say. Decided with a few
 * stats before loading the engine, the renderer or the daemon client (most of this
 * command's start-up), since a hook without a daemon may call it after every `cd`.
 */
function nothingCouldApply(cwd: string): boolean {
  const env = process.env;
  if (env.DIRENV_FILE !== undefined || env.DIRENV_DIFF !== undefined || env.DIRENV_DIR !== undefined) return false;
  // A shell from before an upgrade still carries envd's old names: it has something to revert.
  if (env.ENVD_FILE !== undefined || env.ENVD_DIFF !== undefined || env.ENVD_DIR !== undefined) return false;
  let dir = cwd;
  for (;;) {
    for (const name of ANY_MARKER) {
      if (statSync(join(dir, name), { throwIfNoEntry: false }) !== undefined) return false;
    }
    const up = dirname(dir);
    if (up === dir) return true;
    dir = up;
  }
}

const FORMATS: readonly ExportFormat[] = ['bash', 'zsh', 'fish', 'json', 'gha', 'elvish', 'tcsh', 'nushell'];

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
    // Past what a Node timer holds (about 24.8 days) means "wait".
    budgetMs = n > MAX_TIMER_MS ? Infinity : n;
  }
  const cwd = logicalCwd();
  if (nothingCouldApply(cwd)) return 0;
  const [{ renderChange }, { openService }] = await Promise.all([import('../env/render.js'), import('./service.js')]);
  const service = await openService();
  try {
    const outcome = await service.export({ cwd, env: processEnv() }, { budgetMs });
    sayMessages(outcome.messages);
    const { text, warnings } = renderChange(format as ExportFormat, outcome.change);
    for (const w of warnings) say(w);
    // tcsh's text holds bytes that are not UTF-8 as they are (render-more.ts).
    process.stdout.write(format === 'tcsh' ? encodeBytes(text) : text);
    return outcome.kind === 'failed' || outcome.kind === 'blocked' || outcome.kind === 'denied' ? 1 : 0;
  } finally {
    await service.close();
  }
}
