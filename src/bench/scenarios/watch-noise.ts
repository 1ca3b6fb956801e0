/**
 * What the daemon spends on changes it does not care about: a file next to a loaded
 * project's `.envrc`, in a directory of 80 other entries, appended to again and again (a
 * shell's history in a home directory, an editor's swap file, a build's output). The
 * directory is watched because the `.envrc` is in it; each append is an event there. The
 * figure is the daemon's CPU (schedstat, all its threads) per append; the generation must
 * not move (an append elsewhere is nothing to the shells). Until 2026-12-07 the watcher
 * (chokidar) read the directory again and lstat'ed every entry at each such event.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HookClient } from '../hook-client.js';
import { cpuNs } from '../proc-cpu.js';
import { formatMicros } from '../stats.js';
import { EnvdTool } from '../tools.js';
import { askUntilLoaded, eachTool, makeProjects, newRow, NO_DAEMON, smallSpec, type Scenario } from './common.js';

const OTHER_ENTRIES = 80;
/** Apart enough that each append is an event of its own, as commands at a prompt are. */
const GAP_MS = 10;

export const watchNoise: Scenario = {
  id: 'watch-noise',
  about: `appends to a file beside a loaded project's .envrc (${OTHER_ENTRIES} other entries there): daemon CPU per append`,
  async run(ctx) {
    const appends = ctx.n(200, 50);
    const row = newRow('watch-noise', `daemon CPU per write to another file in a watched directory`, null,
      `${appends} appends, ${GAP_MS} ms apart, beside the .envrc among ${OTHER_ENTRIES} entries; daemon CPU ÷ appends`);
    await eachTool(ctx, row, ['envd'], async (tool) => {
      if (!(tool instanceof EnvdTool)) throw new Error('not envd');
      const box = await ctx.box(tool, 'noise');
      let client: HookClient | null = null;
      try {
        const [p] = await makeProjects(tool, box, 'n', 1, smallSpec);
        if (p === undefined) throw new Error('no project');
        for (let i = 0; i < OTHER_ENTRIES; i++) writeFileSync(join(p.dir, `.other-${i}`), 'x\n');
        const history = join(p.dir, '.history');
        writeFileSync(history, '');
        const c = new HookClient(tool.socket(box), { ...box.env, SHLVL: '1', PWD: box.outside }, 'n');
        client = c;
        await askUntilLoaded(c, p);
        for (let i = 0; ; i++) {
          const h = await tool.helloInfo(box);
          if (h.watched > 0 && h.watchPending === 0) break;
          if (i >= 300) throw new Error(`${p.dir} was not watched within 3 s`);
          await sleep(10);
        }
        // Whatever the load set going (a collection when it is quiet) is over first.
        await sleep(1100);
        const pid = await tool.daemonPid(box);
        const generationFile = join(dirname(tool.socket(box)), 'generation');
        const before = readFileSync(generationFile, 'utf8');
        const cpu0 = cpuNs(pid);
        for (let i = 0; i < appends; i++) {
          appendFileSync(history, `command ${i}\n`);
          await sleep(GAP_MS);
        }
        await sleep(200);
        const ns = cpuNs(pid) - cpu0;
        if (readFileSync(generationFile, 'utf8') !== before) {
          return { value: null, n: appends, failed: 'the generation moved: an append beside the .envrc was taken for a change' };
        }
        const perAppend = ns / 1000 / appends;
        return { value: perAppend, n: appends, note: `${formatMicros(ns / 1000)} of daemon CPU in all` };
      } finally {
        client?.close();
        await ctx.dropBox(tool, 'noise');
      }
    });
    row.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
    row.cells.mise = { value: null, n: 0, note: NO_DAEMON };
    return [row];
  },
};
