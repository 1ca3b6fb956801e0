/** Evaluating env files: the first time (nothing cached), with sourced files, and a slow one. */
import { basename } from 'node:path';
import { medianCell, runProblem } from '../context.js';
import { cd, expect, fullShells, prompt, promptUntil, time, type Step } from '../plan.js';
import { formatMicros, median } from '../stats.js';
import { TOOLS, type ProjectSpec } from '../tools.js';
import { eachTool, makeProjects, newRow, smallSpec, type Scenario } from './common.js';

function sourcesSpec(dir: string): ProjectSpec {
  const tag = basename(dir);
  return {
    ...smallSpec(dir),
    sourced: ['a', 'b', 'c'].map((x) => ({ file: `env-${x}.sh`, name: `BENCH_SRC_${x.toUpperCase()}`, value: `${x}:${tag}` })),
  };
}

/**
 * Each sample enters a project never entered before (its own directory and file, approved
 * beforehand like a user would), until its variables are applied.
 */
function firstEval(id: string, title: string, spec: (dir: string) => ProjectSpec): Scenario {
  return {
    id,
    about: `${title}: cd into a never-visited project until its variables are applied`,
    async run(ctx) {
      const n = ctx.n(20, 4);
      const rows = [];
      for (const shell of fullShells(ctx.opts.shells)) {
        const row = newRow(id, title, shell, `median of ${n} projects`, [
          { kind: 'ratio', vs: 'direnv', max: 1, text: `${title} (${shell}) ≤ direnv's` },
          { kind: 'ratio', vs: 'mise', max: 1, text: `${title} (${shell}) ≤ mise's` },
        ]);
        await eachTool(ctx, row, TOOLS, async (tool) => {
          const box = await ctx.box(tool);
          const projects = await makeProjects(tool, box, id, n, spec);
          const steps: Step[] = [cd(box.outside), prompt];
          for (const p of projects) {
            const s = spec(p.dir);
            steps.push(time('first', [cd(p.dir), prompt, promptUntil(p.name, p.value, 2000, 0.005)]), expect(p.name, p.value, 'first evaluation'));
            for (const src of s.sourced ?? []) steps.push(expect(src.name, src.value, 'sourced file applied'));
            steps.push(cd(box.outside), prompt, expect(p.name, null, 'left'));
          }
          return medianCell(await ctx.run(tool, box, shell, steps), 'first', n);
        });
        rows.push(row);
      }
      return rows;
    },
  };
}

export const firstSmall = firstEval('first-eval', 'first evaluation, 2-line .envrc', smallSpec);
export const firstSources = firstEval('first-sources', 'first evaluation, .envrc sourcing 3 files', sourcesSpec);

export const slow: Scenario = {
  id: 'slow',
  about: 'an env file that takes 2 s: how long the prompt is held, and when the variables arrive',
  async run(ctx) {
    const n = ctx.n(3, 1);
    const rows = [];
    for (const shell of fullShells(ctx.opts.shells)) {
      const held = newRow('slow', '2 s .envrc: prompt held', shell, `median of ${n} first entries`, [
        { kind: 'max', max: 250_000, text: `2 s .envrc holds the ${shell} prompt ≤ 250 ms` },
      ]);
      const ready = newRow('slow-ready', '2 s .envrc: until applied', shell, `median of ${n}`);
      await eachTool(ctx, held, TOOLS, async (tool) => {
        const box = await ctx.box(tool);
        const projects = await makeProjects(tool, box, 'slow', n, (dir) => ({ ...smallSpec(dir), sleep: 2 }));
        const steps: Step[] = [cd(box.outside), prompt];
        for (const p of projects) {
          steps.push(
            time('held', [cd(p.dir), prompt]),
            // Prompts every 20 ms until the variables arrive (envd applies them at the
            // first prompt after the evaluation finishes).
            time('wait', [promptUntil(p.name, p.value, 500, 0.02)]),
            expect(p.name, p.value, 'applied after the slow evaluation'),
            cd(box.outside),
            prompt,
          );
        }
        const run = await ctx.run(tool, box, shell, steps);
        const problem = runProblem(run, { held: n, wait: n });
        const total = (run.samples.get('held') ?? []).map((h, i) => h + (run.samples.get('wait')?.[i] ?? 0));
        ready.cells[tool.name] = problem === null ? { value: median(total), n } : { value: null, n: 0, failed: problem };
        return medianCell(run, 'held', n, (s) => (s.length > 1 ? `max ${formatMicros(Math.max(...s))}` : ''));
      });
      rows.push(held, ready);
    }
    return rows;
  },
};
