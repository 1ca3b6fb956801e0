import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HookClient } from '../hook-client.js';
import { runProblem, type Context } from '../context.js';
import type { Shell } from '../plan.js';
import type { Cell, Row, Target } from '../results.js';
import type { ShellRun } from '../run.js';
import type { Sandbox } from '../sandbox.js';
import { median } from '../stats.js';
import { errorMessage } from '../../util/errors.js';
import type { ProjectSpec, Tool, ToolName } from '../tools.js';

/** Ask from the project until its variables are there (its first evaluation may take a few asks). */
export async function askUntilLoaded(c: HookClient, p: Project): Promise<void> {
  for (let i = 0; i < 500 && c.env[p.name] !== p.value; i++) {
    await c.ask(p.dir);
    if (c.env[p.name] !== p.value) await sleep(20);
  }
  if (c.env[p.name] !== p.value) throw new Error(`warm-up: ${p.name} never loaded in ${p.dir}`);
}

/** The note for a daemon-only number in the columns of tools that have none. */
export const NO_DAEMON = 'n/a: no daemon';

export interface Scenario {
  id: string;
  /** One line for `--list`. */
  about: string;
  run(ctx: Context): Promise<Row[]>;
}

export interface Project {
  dir: string;
  /** The variable the checks look at, and the value the project gives it. */
  name: string;
  value: string;
}

/** A small project: two exports, like the 2-line `.envrc` of DESIGN.md section 1. */
export function smallSpec(dir: string): ProjectSpec {
  return { vars: { BENCH_A: `a:${basename(dir)}`, BENCH_B: 'two words' } };
}

export async function makeProjects(tool: Tool, box: Sandbox, kind: string, count: number, spec: (dir: string) => ProjectSpec): Promise<Project[]> {
  const out: Project[] = [];
  for (let i = 0; i < count; i++) {
    const dir = box.newProject(kind);
    const s = spec(dir);
    tool.writeProject(box, dir, s);
    out.push({ dir, name: 'BENCH_A', value: s.vars.BENCH_A ?? '' });
  }
  await tool.trust(box, out.map((p) => p.dir));
  return out;
}

export function newRow(id: string, title: string, shell: Shell | null, stat: string, targets: Target[] = [], unit: Row['unit'] = 'us'): Row {
  return { id, title, shell, unit, stat, cells: {}, targets };
}

/** Fill one row's cell for every selected tool, one after the other (never two at once). */
export async function eachTool(ctx: Context, row: Row, names: readonly ToolName[], cell: (tool: Tool) => Promise<Cell>): Promise<void> {
  for (const name of names) {
    const tool = ctx.tool(name);
    if (tool === undefined) continue;
    let c: Cell;
    try {
      c = await cell(tool);
    } catch (err) {
      c = { value: null, n: 0, failed: errorMessage(err) };
    }
    setCell(ctx, row, name, c);
  }
}

/** A tool's cell of the row, and its line in the log. */
function setCell(ctx: Context, row: Row, name: ToolName, c: Cell): void {
  row.cells[name] = c;
  ctx.log(`${row.id}${row.shell === null ? '' : ` ${row.shell}`} ${name}: ${describe(c, row.unit)}`);
}

/** One tool's part of a row timed in turns (eachToolInTurns): one call runs one slice. */
export type Slice = (round: number) => Promise<ShellRun>;

/** A tool's cell from all its samples, by label (eachToolInTurns). */
export type Summary = (samples: ReadonlyMap<string, number[]>) => Pick<Cell, 'value' | 'note'>;

/**
 * Fill one row's cells for tools compared side by side, timed in turns: `rounds` slices,
 * each taking `per[label]` samples of every label, one tool's slice after the other's (never
 * two at once). This host's speed drifts by tens of percent within a minute: timing all of
 * one tool and then all of the other put that drift into the ratio (`export json` read
 * ×1.19 and then 1/1.1 an hour apart, each ~3 ms). `prepare` does a tool's set-up and
 * returns its slice, or its cell when the tool is not measured here. Each cell is
 * `summary` of all its samples; by default the median of the one label's.
 */
export async function eachToolInTurns(ctx: Context, row: Row, names: readonly ToolName[], rounds: number, per: Readonly<Record<string, number>>, prepare: (tool: Tool) => Promise<Slice | Cell>, summary?: Summary): Promise<void> {
  const labels = Object.keys(per);
  const slices = new Map<ToolName, Slice>();
  const samples = new Map<ToolName, Map<string, number[]>>();
  const done = new Map<ToolName, Cell>();
  for (const name of names) {
    const tool = ctx.tool(name);
    if (tool === undefined) continue;
    samples.set(name, new Map(labels.map((l) => [l, []])));
    try {
      const got = await prepare(tool);
      if (typeof got === 'function') slices.set(name, got);
      else done.set(name, got);
    } catch (err) {
      done.set(name, { value: null, n: 0, failed: errorMessage(err) });
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, slice] of slices) {
      if (done.has(name)) continue;
      try {
        const run = await slice(r);
        const problem = runProblem(run, per);
        if (problem !== null) done.set(name, { value: null, n: 0, failed: problem });
        else for (const l of labels) samples.get(name)?.get(l)?.push(...(run.samples.get(l) ?? []));
      } catch (err) {
        done.set(name, { value: null, n: 0, failed: errorMessage(err) });
      }
    }
  }
  const perTurn = Math.max(...Object.values(per));
  const turns = `${rounds} turns of ${perTurn}`;
  const byDefault: Summary = (got) => ({ value: median(got.get(labels[0] ?? '') ?? []) });
  // Every selected tool has its cell, measured or not.
  for (const [name, got] of samples) {
    const c = done.get(name);
    if (c !== undefined) { setCell(ctx, row, name, c); continue; }
    const s = (summary ?? byDefault)(got);
    setCell(ctx, row, name, { value: s.value, n: rounds * perTurn, note: s.note === undefined ? turns : `${turns}; ${s.note}` });
  }
}

function describe(c: Cell, unit: Row['unit']): string {
  if (c.failed !== undefined) return `FAILED ${c.failed}`;
  if (c.value === null) return c.note ?? 'n/a';
  const v = unit === 'bytes' ? `${(c.value / 1048576).toFixed(1)} MB` : `${(c.value / 1000).toFixed(3)} ms`;
  return `${v} (n=${c.n}${c.note !== undefined ? `; ${c.note}` : ''})`;
}
