/** envd's daemon on its own: memory, and a prompt that has to start it. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { enter, medianCell, runProblem } from '../context.js';
import { readRss } from '../daemon-client.js';
import { cd, cdPrompt, expect, fullShells, prompt, promptUntil, repeat, run, time, type Step } from '../plan.js';
import { formatMicros } from '../stats.js';
import { EnvdTool } from '../tools.js';
import { eachTool, makeProjects, newRow, NO_DAEMON, smallSpec, type Scenario } from './common.js';


async function rssOf(tool: EnvdTool, box: Parameters<EnvdTool['daemonPid']>[0]): Promise<{ pid: number; rss: number; hwm: number }> {
  // Let the daemon settle (timers, the watcher's batches) before reading.
  await sleep(1000);
  const pid = await tool.daemonPid(box);
  const m = readRss(pid, (p) => readFileSync(p, 'utf8'));
  if (m === null) throw new Error(`daemon ${pid} is gone`);
  return { pid, ...m };
}

export const memory: Scenario = {
  id: 'rss',
  about: "envd daemon VmRSS: fresh, idle with one project, after visiting 1,000 projects (each with its own .envrc)",
  async run(ctx) {
    const visits = ctx.n(1000, 100);
    const shell = ctx.opts.shells.includes('bash') ? 'bash' : fullShells(ctx.opts.shells)[0] ?? 'bash';
    const fresh = newRow('rss-fresh', 'daemon RSS, just started', null, 'VmRSS', [], 'bytes');
    const idleRow = newRow('rss-idle', 'daemon RSS, idle, 1 project loaded', null, 'VmRSS', [], 'bytes');
    const after = newRow('rss-1000', `daemon RSS after ${visits.toLocaleString('en')} projects`, null, `VmRSS (peak: VmHWM); ${shell}`,
      visits >= 1000 ? [{ kind: 'max', max: 60 * 1024 * 1024, text: 'daemon RSS ≤ 60 MB after 1,000 projects' }] : [], 'bytes');
    for (const row of [fresh, idleRow]) {
      row.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
      row.cells.mise = { value: null, n: 0, note: NO_DAEMON };
    }
    await eachTool(ctx, after, ['envd'], async (tool) => {
      if (!(tool instanceof EnvdTool)) throw new Error('not envd');
      const box = await ctx.box(tool, 'rss');
      try {
        const start = await rssOf(tool, box);
        fresh.cells.envd = { value: start.rss, n: 1 };
        const [first] = await makeProjects(tool, box, 'm', 1, smallSpec);
        if (first === undefined) throw new Error('no project');
        const one = await ctx.run(tool, box, shell, [cd(box.outside), prompt, ...enter(first.dir, first.name, first.value, 'loaded')]);
        const oneProblem = runProblem(one, {});
        const idle = await rssOf(tool, box);
        idleRow.cells.envd = oneProblem === null ? { value: idle.rss, n: 1 } : { value: null, n: 0, failed: oneProblem };
        const projects = await makeProjects(tool, box, 'm', visits, smallSpec);
        const steps: Step[] = [cd(box.outside), prompt];
        for (const p of projects) steps.push(cd(p.dir), prompt, promptUntil(p.name, p.value, 1000, 0.01), expect(p.name, p.value, 'visited'));
        steps.push(...cdPrompt(box.outside));
        const t0 = performance.now();
        const all = await ctx.run(tool, box, shell, steps, 900_000);
        const took = performance.now() - t0;
        const problem = runProblem(all, {});
        if (problem !== null) return { value: null, n: 0, failed: problem };
        const end = await rssOf(tool, box);
        if (end.pid !== start.pid) return { value: null, n: 0, failed: `the daemon was replaced (pid ${start.pid} → ${end.pid})` };
        return {
          value: end.rss,
          n: 1,
          note: `peak ${(end.hwm / 1048576).toFixed(1)} MB; ${visits} visits took ${formatMicros(took * 1000)}`,
        };
      } finally {
        await ctx.dropBox(tool, 'rss');
      }
    });
    after.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
    after.cells.mise = { value: null, n: 0, note: NO_DAEMON };
    return [fresh, idleRow, after];
  },
};

export const coldStart: Scenario = {
  id: 'cold-start',
  about: 'no daemon running: cd into a project, prompt, until its variables are applied (the hook starts the daemon)',
  async run(ctx) {
    const n = ctx.n(5, 1);
    const rows = [];
    for (const shell of fullShells(ctx.opts.shells)) {
      const row = newRow('cold-start', 'daemon cold start to first answer', shell, `median of ${n}`);
      await eachTool(ctx, row, ['envd'], async (tool) => {
        if (!(tool instanceof EnvdTool)) throw new Error('not envd');
        const box = await ctx.box(tool, 'cold');
        try {
          const [p] = await makeProjects(tool, box, 'cold', 1, smallSpec);
          if (p === undefined) throw new Error('no project');
          const runResult = await ctx.run(tool, box, shell, [
            ...enter(p.dir, p.name, p.value, 'loaded'),
            repeat(n, [
              ...cdPrompt(box.outside),
              expect(p.name, null, 'left'),
              run([tool.info.bin ?? 'envd', 'daemon', 'stop']),
              time('cold', [cd(p.dir), prompt, promptUntil(p.name, p.value, 1000, 0.005)]),
              expect(p.name, p.value, 'applied by a daemon started by the hook'),
            ]),
          ]);
          return medianCell(runResult, 'cold', n);
        } finally {
          await ctx.dropBox(tool, 'cold');
        }
      });
      row.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
      row.cells.mise = { value: null, n: 0, note: NO_DAEMON };
      rows.push(row);
    }
    return rows;
  },
};
