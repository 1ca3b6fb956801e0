/** What every scenario gets: the options, the tools, one shared sandbox per tool, and helpers. */
import { median } from './stats.js';
import { runPlan, type ShellRun } from './run.js';
import { cd, expect, prompt, promptUntil, type Shell, type Step } from './plan.js';
import type { Cell } from './results.js';
import type { Sandbox } from './sandbox.js';
import { toolSandbox, type Tool, type ToolName } from './tools.js';

export interface BenchOptions {
  quick: boolean;
  shells: Shell[];
  /** Scenario ids to run (empty: all). */
  only: string[];
  tools: ToolName[];
  installMise: boolean;
  keep: boolean;
}

export class Context {
  private readonly boxes = new Map<string, Sandbox>();
  private readonly owned: Array<{ tool: Tool; box: Sandbox }> = [];
  private scriptSeq = 0;

  constructor(
    readonly opts: BenchOptions,
    /** Tools that are present and selected. */
    readonly tools: Tool[],
  ) {}

  /** Sample counts: the full run's, or the quick run's. */
  n(full: number, quick: number): number {
    return this.opts.quick ? quick : full;
  }

  log(line: string): void {
    process.stderr.write(`bench: ${line}\n`);
  }

  tool(name: ToolName): Tool | undefined {
    return this.tools.find((t) => t.name === name);
  }

  /** The tool's shared sandbox (made on first use), or a private one when `key` is given. */
  async box(tool: Tool, key = 'shared'): Promise<Sandbox> {
    const id = `${tool.name}/${key}`;
    const have = this.boxes.get(id);
    if (have !== undefined) return have;
    const box = await toolSandbox(tool, `${tool.name.slice(0, 2)}${key === 'shared' ? '' : key.slice(0, 3)}`);
    this.boxes.set(id, box);
    this.owned.push({ tool, box });
    return box;
  }

  /** Stop what a private sandbox started and remove it. */
  async dropBox(tool: Tool, key: string): Promise<void> {
    const id = `${tool.name}/${key}`;
    const box = this.boxes.get(id);
    if (box === undefined) return;
    this.boxes.delete(id);
    const i = this.owned.findIndex((o) => o.box === box);
    if (i >= 0) this.owned.splice(i, 1);
    await tool.teardown(box);
    if (!this.opts.keep) box.remove();
  }

  async close(): Promise<void> {
    for (const { tool, box } of this.owned.splice(0)) {
      await tool.teardown(box);
      if (!this.opts.keep) box.remove();
      else this.log(`kept ${box.root}`);
    }
    this.boxes.clear();
  }

  /** Run a plan in one shell with the tool's hook installed. */
  run(tool: Tool, box: Sandbox, shell: Shell, steps: Step[], timeoutMs = 180_000): Promise<ShellRun> {
    return runPlan(steps, {
      shell,
      rcFile: tool.rcFile(box, shell),
      scriptFile: box.scriptPath(`s${this.scriptSeq++}.${shell}`),
      env: box.env,
      cwd: box.outside,
      timeoutMs,
    });
  }
}

/** Enter a project and wait until its variable is there (a cold evaluation may come late). */
export function enter(dir: string, name: string, value: string, what: string): Step[] {
  return [cd(dir), prompt, promptUntil(name, value, 1000, 0.01), expect(name, value, what)];
}

/** Why a run's numbers cannot be used, or null when they can. */
export function runProblem(run: ShellRun, expected: Record<string, number>, counted: (failure: string) => boolean = () => false): string | null {
  if (run.timedOut) return `timed out; stderr: ${tail(run.stderr)}`;
  const failures = run.failures.filter((f) => !counted(f));
  if (failures.length > 0) {
    const more = failures.length > 1 ? ` (+${failures.length - 1} more)` : '';
    return `check failed: ${failures[0] ?? ''}${more}; stderr: ${tail(run.stderr)}`;
  }
  for (const [label, n] of Object.entries(expected)) {
    const got = run.samples.get(label)?.length ?? 0;
    if (got !== n) return `expected ${n} '${label}' samples, got ${got}; exit ${run.status ?? run.signal}; stderr: ${tail(run.stderr)}`;
  }
  return null;
}

export function tail(text: string, lines = 4): string {
  const keep = text.split('\n').filter((l) => l.trim() !== '' && !/no job control|cannot set terminal process group/.test(l));
  return keep.slice(-lines).join(' | ').slice(0, 400);
}

/** The median of one label, or a failed cell. */
export function medianCell(run: ShellRun, label: string, n: number, note?: (s: number[]) => string): Cell {
  const problem = runProblem(run, { [label]: n });
  if (problem !== null) return { value: null, n: 0, failed: problem };
  const s = run.samples.get(label) ?? [];
  const text = note?.(s);
  return { value: median(s), n: s.length, ...(text ? { note: text } : {}) };
}

export function missingCell(reason: string): Cell {
  return { value: null, n: 0, note: reason };
}

export function toolNames(tools: Tool[]): ToolName[] {
  return tools.map((t) => t.name);
}
