/**
 * The daemon's throughput on cached requests: 50 hook-protocol clients on the socket
 * (src/bench/hook-client.ts), each going back and forth between its project and a
 * directory outside as fast as the daemon answers, with no evaluation (no flag `n`: the
 * cached result applies, then unloads). The figure is the daemon's own CPU time per request
 * (utime + stime from /proc, so the clients' share of the two cores does not count); its
 * inverse is the requests per second one core of the daemon serves.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HookClient } from '../hook-client.js';
import { EnvdTool } from '../tools.js';
import { askUntilLoaded, eachTool, makeProjects, newRow, NO_DAEMON, smallSpec, type Project, type Scenario } from './common.js';

const CLIENTS = 50;
const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in clock ticks (proc(5): fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export const cachedThroughput: Scenario = {
  id: 'cached-rps',
  about: `${CLIENTS} hook clients entering and leaving their projects without pause: daemon CPU per cached request`,
  async run(ctx) {
    const seconds = ctx.n(10, 3);
    const row = newRow('cached-rps', 'daemon CPU per cached request (1 s ÷ this = requests/s)', null,
      `${CLIENTS} clients for ${seconds} s; daemon utime + stime ÷ requests`,
      [{ kind: 'max', max: 100, text: 'at least 10,000 cached requests/s (≤ 100 µs of daemon CPU each)' }]);
    await eachTool(ctx, row, ['envd'], async (tool) => {
      if (!(tool instanceof EnvdTool)) throw new Error('not envd');
      const box = await ctx.box(tool, 'rps');
      let clients: Array<{ p: Project; c: HookClient }> = [];
      try {
        const projects = await makeProjects(tool, box, 'r', CLIENTS, smallSpec);
        const base: Record<string, string> = { ...box.env, SHLVL: '1', PWD: box.outside };
        clients = projects.map((p, i) => ({ p, c: new HookClient(tool.socket(box), base, `r${i}`) }));
        // Warm: each project evaluated once (its result cached), then left.
        await Promise.all(clients.map(async ({ p, c }) => {
          await askUntilLoaded(c, p);
          await c.ask(box.outside);
        }));
        // Projects and the allowlist are a second old, as a user's are.
        await sleep(1100);
        const pid = await tool.daemonPid(box);
        const cpu0 = cpuTicks(pid);
        const t0 = performance.now();
        const until = t0 + seconds * 1000;
        let requests = 0;
        let wrong = 0;
        await Promise.all(clients.map(async ({ p, c }) => {
          while (performance.now() < until) {
            await c.ask(p.dir);
            if (c.env[p.name] !== p.value) wrong++;
            await c.ask(box.outside);
            if (p.name in c.env) wrong++;
            requests += 2;
          }
        }));
        const wall = (performance.now() - t0) / 1000;
        const cpu = (cpuTicks(pid) - cpu0) / TICKS_PER_SECOND;
        if (wrong > 0) return { value: null, n: requests, failed: `${wrong} of ${requests} answers were wrong` };
        const perRequest = (cpu / requests) * 1e6;
        return {
          value: perRequest,
          n: requests,
          note: `${Math.round(1e6 / perRequest).toLocaleString('en')} requests/s per daemon core; ${Math.round(requests / wall).toLocaleString('en')}/s served with the clients on the same cores`,
        };
      } finally {
        for (const { c } of clients) c.close();
        await ctx.dropBox(tool, 'rps');
      }
    });
    row.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
    row.cells.mise = { value: null, n: 0, note: NO_DAEMON };
    return [row];
  },
};
