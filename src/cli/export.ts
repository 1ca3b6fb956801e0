import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { markerNames } from '../engine/find.js';
import { ALL_STATE_VARS } from '../env/names.js';
import { EXPORT_FORMATS, isExportFormat } from '../shells/names.js';
import { say, sayMessages, usage } from './command.js';
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
  // A state of this release or an earlier one (ENVD_*): something to revert.
  if (ALL_STATE_VARS.some((n) => process.env[n] !== undefined)) return false;
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

/**
 * `envd export FORMAT [--budget MS]`: what the shell must change here, as shell code (or
 * JSON for editors, or GitHub Actions' env file format). Messages go to stderr only.
 * `--budget` lets a hook fall back to this command without waiting for a slow file: the
 * daemon goes on evaluating and the result is applied at a later prompt.
 */
export async function run(args: string[]): Promise<number> {
  const format = args[0];
  if (format === undefined || !isExportFormat(format)) {
    return usage(`export needs one of: ${EXPORT_FORMATS.join(', ')} (e.g. 'envd export bash')`);
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
  const [{ renderChange, renderedOutput }, { openService }] = await Promise.all([import('../env/render.js'), import('./service.js')]);
  const service = await openService({ inProcessWhileStarting: true });
  try {
    // tcsh sees the daemon's generation only as a new mtime second or inode (generation.ts).
    const outcome = await service.export({ cwd, env: processEnv() }, { budgetMs, coarseWatcher: format === 'tcsh' });
    sayMessages(outcome.messages);
    const { text, warnings } = renderChange(format, outcome.change);
    for (const w of warnings) say(w);
    process.stdout.write(renderedOutput(format, text));
    return outcome.kind === 'failed' || outcome.kind === 'blocked' || outcome.kind === 'denied' ? 1 : 0;
  } finally {
    await service.close();
  }
}
