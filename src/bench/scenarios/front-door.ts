/**
 * What waits on envd outside the prompt: the rc line in every new shell, editors and agents
 * asking `export json`, CI running `exec`, and a first answer with no daemon. The first
 * three are answered by bin/envd's front door (no Node); side by side with direnv.
 */
import { quoteBash } from '../../env/quote.js';
import { enter, medianCell, type Context } from '../context.js';
import { repeat, run, time } from '../plan.js';
import { formatMicros, median } from '../stats.js';
import { EnvdTool } from '../tools.js';
import { eachTool, eachToolInTurns, makeProjects, newRow, NO_DAEMON, smallSpec, type Scenario } from './common.js';

const VS_DIRENV = ['envd', 'direnv'] as const;

/** Turns and samples per turn for the rows against direnv (eachToolInTurns): 100 samples, or 20. */
function turns(ctx: Context): [number, number] {
  return ctx.opts.quick ? [4, 5] : [10, 10];
}


export const hookLine: Scenario = {
  id: 'hook-line',
  about: 'the rc line: a new bash evaluating `eval "$(TOOL hook bash)"` (bash start included for both)',
  async run(ctx) {
    const [rounds, per] = turns(ctx);
    const row = newRow('hook-line', 'rc line: eval "$(… hook bash)" in a new bash', 'bash', `median of ${rounds * per}`,
      [{ kind: 'ratio', vs: 'direnv', max: 1, text: 'hook line ≤ direnv\'s' }]);
    await eachToolInTurns(ctx, row, VS_DIRENV, rounds, { line: per }, async (tool) => {
      const box = await ctx.box(tool);
      const bin = tool.info.bin ?? tool.name;
      return () => ctx.run(tool, box, 'bash', [
        repeat(per, [time('line', [run(['bash', '--norc', '--noprofile', '-c', `eval "$(${quoteBash(bin)} hook bash)"`])])]),
      ]);
    });
    row.cells.mise = { value: null, n: 0, note: 'not compared' };
    return [row];
  },
};

export const exportJson: Scenario = {
  id: 'export-json',
  about: '`TOOL export json` in a loaded project (editors, coding agents after each command), daemon running',
  async run(ctx) {
    const [rounds, per] = turns(ctx);
    const row = newRow('export-json', 'export json in a loaded project', 'bash', `median of ${rounds * per}`,
      [{ kind: 'ratio', vs: 'direnv', max: 1, text: 'export json ≤ direnv\'s' }]);
    await eachToolInTurns(ctx, row, VS_DIRENV, rounds, { json: per }, async (tool) => {
      const box = await ctx.box(tool);
      const [p] = await makeProjects(tool, box, 'json', 1, smallSpec);
      if (p === undefined) throw new Error('no project');
      return (round) => ctx.run(tool, box, 'bash', [
        ...enter(p.dir, p.name, p.value, 'loaded'),
        // Timed once the project's files are more than a second old, as an editor's requests
        // find them (for any tool): the project was written and approved just before. envd
        // keeps no reply for files changed within the last second (src/daemon/answer-memo.ts);
        // that first second takes the whole path.
        ...(round === 0 ? [run(['sleep', '1.2'])] : []),
        repeat(per, [time('json', [run([tool.info.bin ?? tool.name, 'export', 'json'])])]),
      ]);
    });
    row.cells.mise = { value: null, n: 0, note: 'not compared' };
    return [row];
  },
};

export const execTrue: Scenario = {
  id: 'exec-true',
  about: '`TOOL exec DIR true` from outside the project (CI, scripts), daemon running',
  async run(ctx) {
    const [rounds, per] = turns(ctx);
    const row = newRow('exec-true', 'exec DIR true', 'bash', `median of ${rounds * per}`,
      [{ kind: 'ratio', vs: 'direnv', max: 1, text: 'exec ≤ direnv\'s' }]);
    await eachToolInTurns(ctx, row, VS_DIRENV, rounds, { exec: per }, async (tool) => {
      const box = await ctx.box(tool);
      const [p] = await makeProjects(tool, box, 'exec', 1, smallSpec);
      if (p === undefined) throw new Error('no project');
      const bin = tool.info.bin ?? tool.name;
      return (round) => ctx.run(tool, box, 'bash', [
        // Once first: envd's daemon starts and caches the project, as in a CI job's 2nd step.
        ...(round === 0 ? [run([bin, 'exec', p.dir, 'true'])] : []),
        repeat(per, [time('exec', [run([bin, 'exec', p.dir, 'true'])])]),
      ]);
    });
    row.cells.mise = { value: null, n: 0, note: 'not compared' };
    return [row];
  },
};

export const coldCli: Scenario = {
  id: 'cold-cli',
  about: 'no daemon: `envd export json` in a project until it answers (it starts the daemon), against `node -e 0` in the same run',
  async run(ctx) {
    const n = ctx.n(10, 3);
    const row = newRow('cold-cli', 'cold start (no daemon) to the first answer', 'bash', `median of ${n}`);
    await eachTool(ctx, row, ['envd'], async (tool) => {
      if (!(tool instanceof EnvdTool)) throw new Error('not envd');
      const box = await ctx.box(tool, 'cold-cli');
      try {
        const [p] = await makeProjects(tool, box, 'cold', 1, smallSpec);
        if (p === undefined) throw new Error('no project');
        const bin = tool.info.bin ?? 'envd';
        const r = await ctx.run(tool, box, 'bash', [
          ...enter(p.dir, p.name, p.value, 'loaded'),
          repeat(n, [
            run([bin, 'daemon', 'stop']),
            time('cold', [run([bin, 'export', 'json'])]),
            time('node', [run(['node', '-e', '0'])]),
          ]),
        ]);
        const nodeMedian = median(r.samples.get('node') ?? []);
        if (nodeMedian > 0) row.targets.push({ kind: 'max', max: 3 * nodeMedian, text: `cold start ≤ 3 × node -e 0 (${formatMicros(nodeMedian)} in this run)` });
        return medianCell(r, 'cold', n, () => `node -e 0: ${formatMicros(nodeMedian)}`);
      } finally {
        await ctx.dropBox(tool, 'cold-cli');
      }
    });
    row.cells.direnv = { value: null, n: 0, note: NO_DAEMON };
    row.cells.mise = { value: null, n: 0, note: NO_DAEMON };
    return [row];
  },
};
