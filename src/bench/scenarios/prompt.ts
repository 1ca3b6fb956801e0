/** What every prompt costs: idle in a project, leaving and entering it, moving inside it. */
import { join } from 'node:path';
import { enter, medianCell, missingCell, runProblem } from '../context.js';
import { cd, cdPrompt, expect, fullShells, prompt, repeat, time, type Shell } from '../plan.js';
import { isMoreShell, notMeasured } from '../more-shells.js';
import { median, pairSums, formatMicros } from '../stats.js';
import { TOOLS } from '../tools.js';
import type { Cell, Target } from '../results.js';
import type { Context } from '../context.js';
import type { Sandbox } from '../sandbox.js';
import type { Tool } from '../tools.js';
import { eachTool, eachToolInTurns, makeProjects, newRow, smallSpec, type Project, type Scenario } from './common.js';

function idleTargets(shell: Shell): Target[] {
  // elvish, tcsh and nushell: no target yet (first version of their hooks; elvish has no
  // direnv number to compare with).
  if (isMoreShell(shell)) return [];
  return shell === 'fish'
    ? [{ kind: 'ratio', vs: 'direnv', max: 1 / 20, text: 'fish idle ≤ 1/20 of direnv' }]
    : [{ kind: 'ratio', vs: 'direnv', max: 1 / 50, text: `${shell} idle ≤ 1/50 of direnv` }];
}

function leaveEnterTargets(shell: Shell): Target[] {
  if (isMoreShell(shell)) return [];
  // The .envrc runs again on every entry (as direnv's does): ≤ 1/5 in every shell.
  return [{ kind: 'ratio', vs: 'direnv', max: 1 / 5, text: `${shell} leave+enter ≤ 1/5 of direnv` }];
}

/**
 * tcsh's clock is two `date` processes (src/bench/emit-more.ts), milliseconds of noise
 * around a prompt of microseconds: so batches of prompts are timed, the median batch less
 * the median empty batch, divided by the batch size.
 */
async function tcshIdle(ctx: Context, tool: Tool, box: Sandbox, p: Project, n: number): Promise<Cell> {
  const batch = 20;
  const batches = Math.max(1, Math.round(n / batch));
  const run = await ctx.run(tool, box, 'tcsh', [
    ...enter(p.dir, p.name, p.value, 'loaded'),
    prompt,
    repeat(batches, [time('idle', [repeat(batch, [prompt])])]),
    expect(p.name, p.value, 'still loaded after idle prompts'),
    repeat(batches, [time('zero', [])]),
  ]);
  const problem = runProblem(run, { idle: batches, zero: batches });
  if (problem !== null) return { value: null, n: 0, failed: problem };
  const zero = median(run.samples.get('zero') ?? []);
  const value = Math.max(0, median(run.samples.get('idle') ?? []) - zero) / batch;
  return { value, n: batches * batch, note: `${batches} batches of ${batch} prompts; the timer (${formatMicros(zero)} a batch) subtracted` };
}

export const idle: Scenario = {
  id: 'idle',
  about: 'a prompt in a loaded project where nothing changed',
  async run(ctx) {
    const n = ctx.n(500, 100);
    const rows = [];
    for (const shell of ctx.opts.shells) {
      const row = newRow('idle', 'idle prompt, project loaded', shell, `median of ${n} prompts`, idleTargets(shell));
      await eachTool(ctx, row, TOOLS, async (tool) => {
        const why = isMoreShell(shell) ? notMeasured(tool.name, shell) : null;
        if (why !== null) return missingCell(why);
        const box = await ctx.box(tool);
        const [p] = await makeProjects(tool, box, 'idle', 1, smallSpec);
        if (p === undefined) throw new Error('no project');
        if (shell === 'tcsh') return tcshIdle(ctx, tool, box, p, n);
        const run = await ctx.run(tool, box, shell, [
          ...enter(p.dir, p.name, p.value, 'loaded'),
          prompt,
          repeat(n, [time('idle', [prompt])]),
          expect(p.name, p.value, 'still loaded after idle prompts'),
          // What the timer itself costs in this shell (an empty timed body), for reading
          // numbers of a few microseconds; not subtracted.
          repeat(n, [time('zero', [])]),
        ]);
        const timer = (): string => `the timer alone: ${formatMicros(median(run.samples.get('zero') ?? []))}`;
        return medianCell(run, 'idle', n, tool.name === 'envd' ? timer : undefined);
      });
      rows.push(row);
    }
    return rows;
  },
};

export const leaveEnter: Scenario = {
  id: 'leave-enter',
  about: 'cd out of a project and back in (its .envrc runs again on entry), checking the variable at every step',
  async run(ctx) {
    // In turns (eachToolInTurns): each turn a new shell of each tool in turn, warmed up by
    // one entry, then its pairs. A ratio of about 1/5 moved by ±10% when all of envd's pairs
    // ran before all of direnv's.
    const [rounds, per] = ctx.opts.quick ? [4, 5] : [10, 10];
    const rows = [];
    for (const shell of ctx.opts.shells) {
      const row = newRow('leave-enter', 'leave + enter, .envrc re-run on entry', shell, `median of ${rounds * per} pairs (cd + prompt each)`, leaveEnterTargets(shell));
      // tcsh's timer starts processes (src/bench/emit-more.ts): its own cost, measured.
      const timer = shell === 'tcsh';
      await eachToolInTurns(ctx, row, TOOLS, rounds, timer ? { leave: per, enter: per, zero: per } : { leave: per, enter: per }, async (tool) => {
        const why = isMoreShell(shell) ? notMeasured(tool.name, shell) : null;
        if (why !== null) return missingCell(why);
        const box = await ctx.box(tool);
        const [p] = await makeProjects(tool, box, 'le', 1, smallSpec);
        if (p === undefined) throw new Error('no project');
        return () => ctx.run(tool, box, shell, [
          ...enter(p.dir, p.name, p.value, 'warm-up enter'),
          repeat(per, [
            time('leave', cdPrompt(box.outside)),
            expect(p.name, null, 'left'),
            expect('BENCH_B', null, 'left'),
            time('enter', cdPrompt(p.dir)),
            expect(p.name, p.value, 'entered'),
            expect('BENCH_B', 'two words', 'entered'),
          ]),
          ...(timer ? [repeat(per, [time('zero', [])])] : []),
        ]);
      }, (got) => {
        const zero = timer ? median(got.get('zero') ?? []) : 0;
        const leave = (got.get('leave') ?? []).map((v) => Math.max(0, v - zero));
        const ent = (got.get('enter') ?? []).map((v) => Math.max(0, v - zero));
        return {
          value: median(pairSums(leave, ent)),
          note: `leave ${formatMicros(median(leave))}, enter ${formatMicros(median(ent))}${timer ? `; timer (${formatMicros(zero)} each) subtracted` : ''}`,
        };
      });
      rows.push(row);
    }
    return rows;
  },
};

export const subdir: Scenario = {
  id: 'subdir',
  about: 'cd between subdirectories of one loaded project',
  async run(ctx) {
    const n = ctx.n(100, 20);
    const rows = [];
    for (const shell of fullShells(ctx.opts.shells)) {
      const row = newRow('subdir', 'cd between subdirectories', shell, `median of ${2 * n} cd + prompt`);
      await eachTool(ctx, row, TOOLS, async (tool) => {
        const box = await ctx.box(tool);
        const [p] = await makeProjects(tool, box, 'sub', 1, smallSpec);
        if (p === undefined) throw new Error('no project');
        const a = join(p.dir, 'src', 'pkg', 'deep');
        const b = join(p.dir, 'docs');
        box.write(join(a, '.keep'), '');
        box.write(join(b, '.keep'), '');
        const run = await ctx.run(tool, box, shell, [
          ...enter(p.dir, p.name, p.value, 'loaded'),
          cd(b),
          prompt,
          repeat(n, [
            time('sub', cdPrompt(a)),
            expect(p.name, p.value, 'still loaded in a subdirectory'),
            time('sub', cdPrompt(b)),
            expect(p.name, p.value, 'still loaded in a subdirectory'),
          ]),
        ]);
        return medianCell(run, 'sub', 2 * n);
      });
      rows.push(row);
    }
    return rows;
  },
};
