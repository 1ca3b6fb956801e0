/** The table (terminal and Markdown), the target verdicts, the JSON, the machine. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { formatRatio, ratio, verdict, type Row, type Verdict } from './results.js';
import { formatBytes, formatMicros } from './stats.js';
import { NO_DAEMON } from './scenarios/common.js';
import { TOOLS, type ToolInfo, type ToolName } from './tools.js';

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memory: string;
  kernel: string;
  loadStart: number[];
  loadEnd: number[];
  versions: Record<string, string>;
}

function firstLine(argv: string[]): string {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return 'missing';
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return 'missing';
  return (r.stdout || r.stderr).trim().split('\n')[0] ?? 'missing';
}

export function machine(tools: ToolInfo[]): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1] !== undefined) cpuModel = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  const versions: Record<string, string> = {
    node: process.version,
    bash: firstLine(['bash', '--version']).replace(/^GNU bash, version\s*/, ''),
    zsh: firstLine(['zsh', '--version']),
    fish: firstLine(['fish', '--version']),
  };
  for (const t of tools) versions[t.name] = t.version ?? `missing (${t.missing ?? 'not found'})`;
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: release(),
    loadStart: loadavg(),
    loadEnd: [],
    versions,
  };
}

export function finishMachine(m: Machine): void {
  m.loadEnd = loadavg();
}

function fmtValue(row: Row, v: number): string {
  return row.unit === 'bytes' ? formatBytes(v) : formatMicros(v);
}

function cellText(row: Row, name: ToolName, missing: Map<ToolName, string>): string {
  const c = row.cells[name];
  if (c === undefined) return missing.has(name) ? 'missing' : '—';
  if (c.failed !== undefined) return 'FAILED';
  if (c.value === null) return c.note?.startsWith('n/a') ? 'n/a' : '—';
  return fmtValue(row, c.value);
}

const HEAD = ['scenario', 'shell', 'envd', 'direnv', 'mise', 'envd÷direnv', 'envd÷mise', 'how'];

function tableRows(rows: Row[], missing: Map<ToolName, string>): string[][] {
  return rows.map((r) => [
    r.title,
    r.shell ?? '—',
    cellText(r, 'envd', missing),
    cellText(r, 'direnv', missing),
    cellText(r, 'mise', missing),
    formatRatio(ratio(r, 'direnv')),
    formatRatio(ratio(r, 'mise')),
    r.stat,
  ]);
}

export function terminalTable(rows: Row[], missing: Map<ToolName, string>): string {
  const body = tableRows(rows, missing);
  const all = [HEAD, ...body];
  const width = HEAD.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(width[i] ?? 0)).join('  ').trimEnd();
  return [line(HEAD), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

export function markdownTable(rows: Row[], missing: Map<ToolName, string>): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${HEAD.join(' | ')} |`, `| ${HEAD.map(() => '---').join(' | ')} |`];
  for (const r of tableRows(rows, missing)) out.push(`| ${r.map(esc).join(' | ')} |`);
  return out.join('\n') + '\n';
}

export interface TargetLine {
  row: Row;
  verdict: NonNullable<Verdict>;
}

export function targets(rows: Row[]): TargetLine[] {
  const out: TargetLine[] = [];
  for (const row of rows) {
    for (const t of row.targets) {
      const v = verdict(row, t, (x) => fmtValue(row, x));
      if (v !== null) out.push({ row, verdict: v });
    }
  }
  return out;
}

export function targetText(lines: TargetLine[], bullet = '- '): string {
  return lines.map((l) => `${bullet}${l.verdict.met ? 'MET' : l.verdict.text.toUpperCase()}: ${l.verdict.detail}`).join('\n') + (lines.length ? '\n' : '');
}

/** Per-cell notes and failures, one line each. */
export function details(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    for (const name of TOOLS) {
      const c = r.cells[name];
      if (c === undefined) continue;
      const where = `${r.title}${r.shell === null ? '' : ` (${r.shell})`}, ${name}`;
      if (c.failed !== undefined) out.push(`${where}: FAILED — ${c.failed}`);
      else if (c.note !== undefined && c.note !== '' && c.note !== NO_DAEMON) out.push(`${where}: ${c.note}`);
    }
  }
  return out;
}

export function toJson(m: Machine, rows: Row[], missing: Map<ToolName, string>, quick: boolean): string {
  return JSON.stringify(
    {
      machine: m,
      quick,
      missing: Object.fromEntries(missing),
      rows: rows.map((r) => ({
        id: r.id,
        title: r.title,
        shell: r.shell,
        unit: r.unit === 'us' ? 'microseconds' : 'bytes',
        stat: r.stat,
        cells: r.cells,
        ratio: { direnv: ratio(r, 'direnv'), mise: ratio(r, 'mise') },
        targets: r.targets.map((t) => ({ ...t, verdict: verdict(r, t, (x) => fmtValue(r, x)) })),
      })),
    },
    null,
    2,
  ) + '\n';
}

export function machineText(m: Machine): string {
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const v = m.versions;
  return [
    `- Date: ${m.date}`,
    `- CPU: ${m.cpus} × ${m.cpuModel}; memory ${m.memory}; Linux ${m.kernel}`,
    `- Load average (1 / 5 / 15 min): ${load(m.loadStart)} at the start${m.loadEnd.length > 0 ? `, ${load(m.loadEnd)} at the end` : ''}`,
    `- node ${v.node}; bash ${v.bash}; ${v.zsh}; ${v.fish}`,
    `- envd ${v.envd ?? 'not run'}; direnv ${v.direnv ?? 'not run'}; mise ${v.mise ?? 'not run'}`,
  ].join('\n') + '\n';
}
