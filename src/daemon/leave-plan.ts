import type { ExportOutcome } from '../engine/types.js';
import { isValidName } from '../env/names.js';
import type { HookRecord, HookShell } from '../protocol/hook-records.js';
import type { LeaveAnswer } from './backend.js';

/**
 * Leave plans (hook flag `l`; docs/architecture.md "Leave plans"): with an answer that
 * leaves a shell in a project, the records the daemon would answer it on leaving for a
 * directory where no env file is found, so the hook can apply them itself.
 */

/** The records a hook applies for an outcome (hook-session.ts outcomeRecords). */
export type OutcomeRecords = (outcome: ExportOutcome, shell: HookShell, colour: boolean) => HookRecord[];


/**
 * A leave plan (flag `l`): the records of leaving for a directory without an env file,
 * worked out for the environment `outcome` leaves the shell in (`current` with its change
 * applied), as `P`, `L` and `l` records; none when there is nothing to leave, or a name the
 * hook could not check. What the hook applies is then what the daemon would answer it on
 * leaving: the same records (outcomeRecords of that answer), made only when every name the
 * answer depends on is still what it was here.
 */
export function leaveRecords(current: Readonly<Record<string, string>>, outcome: ExportOutcome, shell: HookShell, colour: boolean,
  leaveFrom: (after: Record<string, string>) => LeaveAnswer | null, records0: OutcomeRecords): HookRecord[] {
  if (outcome.kind === 'pending') return [];
  const after: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, current);
  for (const n of outcome.change.unset) delete after[n];
  for (const [n, v] of Object.entries(outcome.change.set)) after[n] = v;
  const leave = leaveFrom(after);
  if (leave === null) return [];
  // The same answer object for the same names' values (the engine keeps them): its records.
  const key = `${shell}${colour ? '+c' : ''}`;
  const kept = recordsByLeave.get(leave)?.get(key);
  if (kept !== undefined) return kept;
  const records = planRecords(leave, after, shell, colour, records0);
  let byShell = recordsByLeave.get(leave);
  if (byShell === undefined) {
    byShell = new Map();
    recordsByLeave.set(leave, byShell);
  }
  byShell.set(key, records);
  return records;
}

const recordsByLeave = new WeakMap<LeaveAnswer, Map<string, HookRecord[]>>();

function planRecords(leave: LeaveAnswer, after: Readonly<Record<string, string>>, shell: HookShell, colour: boolean, records: OutcomeRecords): HookRecord[] {
  const then = new Map<string, string | null>();
  const out: HookRecord[] = [];
  for (const r of records(leave.outcome, shell, colour)) {
    if (r.t === 'm') out.push({ t: 'L', text: r.text });
    else if (r.t === 'x') then.set(r.name, r.value);
    else if (r.t === 'u') then.set(r.name, null);
    else return [];
  }
  const names = [...new Set([...leave.names, ...then.keys()])].sort();
  // Names a hook checks and sets itself (as it applies `x` and `u`).
  if (names.some((n) => !isValidName(n) || n.startsWith('_envd_'))) return [];
  for (const name of names) out.push({ t: 'l', name, now: after[name] ?? null, then: then.has(name) ? then.get(name) : undefined });
  // The count first: 2 fields an `L` record, 4 an `l` record.
  const fields = out.reduce((n, r) => n + (r.t === 'l' ? 4 : 2), 0);
  return [{ t: 'P', fields }, ...out];
}
