/** What a scenario reports: one row per (scenario, shell), one cell per tool. */
import type { Shell } from './plan.js';
import type { ToolName } from './tools.js';

export interface Cell {
  /** Microseconds (unit 'us') or bytes (unit 'bytes'); null when there is no number. */
  value: number | null;
  /** How many samples the value summarises. */
  n: number;
  /** Shown next to the value (a spread, a second number, why there is none). */
  note?: string;
  /** A check that did not hold or a run that broke: the value is not used. */
  failed?: string;
}

export type Target =
  /** envd's value divided by the other tool's must be at most `max`. */
  | { kind: 'ratio'; vs: ToolName; max: number; text: string }
  /** envd's value must be at most `max` (same unit as the row). */
  | { kind: 'max'; max: number; text: string };

export interface Row {
  id: string;
  title: string;
  shell: Shell | null;
  unit: 'us' | 'bytes';
  /** How the number is formed ("median of 500", "p99 of 1,000 requests"). */
  stat: string;
  cells: Partial<Record<ToolName, Cell>>;
  targets: Target[];
}

export type Verdict = { met: boolean; text: string; detail: string } | null;

/** envd ÷ other, when both have a usable number. */
export function ratio(row: Row, other: ToolName): number | null {
  const a = row.cells.envd;
  const b = row.cells[other];
  if (a === undefined || b === undefined) return null;
  if (a.value === null || b.value === null || a.failed !== undefined || b.failed !== undefined || b.value === 0) return null;
  return a.value / b.value;
}

export function formatRatio(r: number | null): string {
  if (r === null) return '—';
  if (r < 1) return `1/${(1 / r) < 10 ? (1 / r).toFixed(1) : (1 / r).toFixed(0)}`;
  return `×${r.toFixed(r < 10 ? 2 : 1)}`;
}

export function verdict(row: Row, target: Target, fmt: (v: number) => string): Verdict {
  const envd = row.cells.envd;
  if (target.kind === 'ratio') {
    const r = ratio(row, target.vs);
    if (r === null) return { met: false, text: 'not measured', detail: `${target.text}: no ${envd?.failed !== undefined ? 'valid envd' : target.vs} number` };
    const met = r <= target.max;
    const by = met ? '' : ` — missed by ×${(r / target.max).toFixed(1)}`;
    return { met, text: met ? 'met' : 'missed', detail: `${target.text}: ${formatRatio(r)}${by}` };
  }
  if (envd === undefined || envd.value === null || envd.failed !== undefined) return { met: false, text: 'not measured', detail: `${target.text}: no valid envd number` };
  const met = envd.value <= target.max;
  const by = met ? '' : ` — missed by ×${(envd.value / target.max).toFixed(1)}`;
  return { met, text: met ? 'met' : 'missed', detail: `${target.text}: ${fmt(envd.value)}${by}` };
}
