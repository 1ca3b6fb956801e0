/**
 * `npm run bench`: envd against direnv and mise, in real bash, zsh and fish, in one run.
 *
 *   npm run bench                       full run; rewrites docs/benchmarks.md
 *   BENCH_QUICK=1 npm run bench         fewer samples (under 3 minutes); prints only
 *   node dist/bench/main.js [--quick] [--only ID,...] [--shells bash,zsh,fish]
 *       [--tools envd,direnv,mise] [--json[=FILE]] [--write|--no-write] [--keep]
 *       [--no-install] [--list]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context, type BenchOptions } from './context.js';
import { generatedBlock, writeDoc } from './docs.js';
import { SHELLS, type Shell } from './plan.js';
import { details, finishMachine, machine, machineText, targetText, targets, terminalTable, toJson } from './report.js';
import type { Row } from './results.js';
import { concurrent, concurrentSocket } from './scenarios/concurrent.js';
import { coldStart, memory } from './scenarios/daemon.js';
import { cachedThroughput } from './scenarios/throughput.js';
import { watchNoise } from './scenarios/watch-noise.js';
import { firstSmall, firstSources, slow } from './scenarios/evaluate.js';
import { coldCli, execTrue, exportJson, hookLine } from './scenarios/front-door.js';
import { goSwitch } from './scenarios/go.js';
import { idle, leaveEnter, subdir } from './scenarios/prompt.js';
import type { Scenario } from './scenarios/common.js';
import { DirenvTool, EnvdTool, MiseTool, ROOT, TOOLS, type Tool, type ToolName } from './tools.js';

export const SCENARIOS: readonly Scenario[] = [idle, leaveEnter, subdir, firstSmall, firstSources, slow, goSwitch, concurrent, concurrentSocket, cachedThroughput, watchNoise, coldStart, memory, hookLine, exportJson, execTrue, coldCli];

interface Cli extends BenchOptions {
  json: string | null;
  write: boolean | null;
  list: boolean;
}

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const out: T[] = [];
  for (const v of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(allowed as readonly string[]).includes(v)) throw new Error(`unknown ${what} '${v}' (one of: ${allowed.join(', ')})`);
    out.push(v as T);
  }
  return out;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Cli {
  const cli: Cli = {
    quick: env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true',
    shells: [...SHELLS],
    only: [],
    tools: [...TOOLS],
    installMise: env.BENCH_NO_INSTALL !== '1',
    keep: false,
    json: null,
    write: null,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick': cli.quick = true; break;
      case '--only': cli.only = list(value(), SCENARIOS.map((s) => s.id), 'scenario'); break;
      case '--shells': cli.shells = list<Shell>(value(), SHELLS, 'shell'); break;
      case '--tools': cli.tools = list<ToolName>(value(), TOOLS, 'tool'); break;
      case '--json': cli.json = inline ?? '-'; break;
      case '--write': cli.write = true; break;
      case '--no-write': cli.write = false; break;
      case '--keep': cli.keep = true; break;
      case '--no-install': cli.installMise = false; break;
      case '--list': cli.list = true; break;
      default: throw new Error(`unknown argument '${a}' (see the top of src/bench/main.ts)`);
    }
  }
  if (!cli.tools.includes('envd')) cli.tools.unshift('envd');
  return cli;
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parse(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (cli.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.id.padEnd(14)} ${s.about}\n`);
    return 0;
  }
  const all: Tool[] = [new EnvdTool()];
  if (cli.tools.includes('direnv')) all.push(new DirenvTool());
  if (cli.tools.includes('mise')) all.push(new MiseTool(cli.installMise));
  const missing = new Map<ToolName, string>();
  for (const t of all) if (!t.present) missing.set(t.name, t.info.missing ?? 'not found');
  for (const name of TOOLS) if (!cli.tools.includes(name)) missing.set(name, 'not selected (--tools)');
  const envd = all[0];
  if (envd === undefined || !envd.present) {
    process.stderr.write(`bench: envd is ${envd?.info.missing ?? 'missing'}\n`);
    return 1;
  }
  const m = machine(all.map((t) => t.info));
  process.stderr.write(`bench: ${cli.quick ? 'quick' : 'full'} run\n${machineText(m)}`);
  for (const [name, why] of missing) process.stderr.write(`bench: ${name} missing: ${why}\n`);

  const ctx = new Context(cli, all.filter((t) => t.present));
  const rows: Row[] = [];
  const chosen = SCENARIOS.filter((s) => cli.only.length === 0 || cli.only.includes(s.id));
  const stop = (): void => {
    void ctx.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    for (const s of chosen) {
      const t0 = performance.now();
      ctx.log(`scenario ${s.id}: ${s.about}`);
      try {
        rows.push(...(await s.run(ctx)));
      } catch (err) {
        ctx.log(`scenario ${s.id} broke: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
      ctx.log(`scenario ${s.id} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await ctx.close();
    process.removeListener('SIGINT', stop);
  }
  finishMachine(m);

  if (cli.json === '-') {
    process.stdout.write(toJson(m, rows, missing, cli.quick));
  } else {
    process.stdout.write('\n' + terminalTable(rows, missing) + '\n');
    const t = targets(rows);
    if (t.length > 0) process.stdout.write('Targets:\n' + targetText(t, '  '));
    const d = details(rows);
    if (d.length > 0) process.stdout.write('\nDetails:\n' + d.map((x) => `  ${x}`).join('\n') + '\n');
    if (cli.json !== null) writeFileSync(cli.json, toJson(m, rows, missing, cli.quick));
  }
  const write = cli.write ?? (!cli.quick && cli.only.length === 0 && cli.shells.length === SHELLS.length);
  if (write) {
    const path = join(ROOT, 'docs', 'benchmarks.md');
    writeDoc(path, generatedBlock(m, rows, missing, cli.quick));
    process.stderr.write(`bench: wrote ${path}\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
