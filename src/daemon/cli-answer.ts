import type { ExportOutcome } from '../engine/types.js';
import { renderChange } from '../env/render.js';
import type { HookHeader, HookRecord } from '../protocol/hook-records.js';
import { shown } from '../util/colour.js';
import { envdVersion } from '../version.js';

/**
 * The answers for bin/envd's front door: `envd export FORMAT` and `envd exec` asked over a
 * hook transport instead of starting Node. A request with flag `t` is one of them: the
 * daemon waits for the final outcome (no budget, no `pending`, as the CLI does) and answers
 * with what the CLI would print and its exit status, so the front door only copies bytes.
 *
 *   flag `t`        `o TEXT`: what `envd export SHELL` prints on stdout (flag `j`: JSON)
 *   flags `t` `r`   the change itself, unchecked, as `u NAME` / `x NAME VALUE` records (the
 *                   front door applies them to its own environment, then execs the command)
 *   flag `b`        `envd export FORMAT --budget MS` (the elvish, tcsh and nushell hooks'
 *                   fallback): the outcome within the daemon's own budget, as a hook gets it
 *                   (a slow file answers `pending`: nothing printed, status 0, the daemon
 *                   goes on and moves the generation), not waited for
 *   always          `m TEXT` messages (stderr, in order), `s STATUS` (0, or 1 when the file
 *                   failed, is blocked or is not allowed: the CLI's exit status), `V VERSION`
 *                   (the version this daemon speaks: when it is not the front door's, the
 *                   front door leaves the answer to the CLI, which may replace this daemon)
 */
export function isCliRequest(header: HookHeader): boolean {
  return header.flags.includes('t');
}

/**
 * The budget a front-door request is answered within: flag `b`, the daemon's hook budget
 * (`waitMs`, what every hook's `--budget` names: the `w` the hooks were given, or tcsh's
 * 200, the default); otherwise the final outcome, waited for.
 */
export function cliBudgetMs(header: HookHeader, waitMs: number): number {
  return header.flags.includes('b') ? waitMs : Infinity;
}

export function cliRecords(outcome: ExportOutcome, header: HookHeader, colour: boolean): HookRecord[] {
  const failed = outcome.kind === 'failed' || outcome.kind === 'blocked' || outcome.kind === 'denied';
  const notes = [...outcome.messages];
  const records: HookRecord[] = [];
  if (header.flags.includes('r')) {
    for (const name of outcome.change.unset) records.push({ t: 'u', name });
    for (const [name, value] of Object.entries(outcome.change.set)) records.push({ t: 'x', name, value });
  } else {
    const { text, warnings } = renderChange(header.flags.includes('j') ? 'json' : header.shell, outcome.change);
    notes.push(...warnings);
    records.push({ t: 'o', text });
  }
  const out: HookRecord[] = notes.map((text) => ({ t: 'm', text: shown(text.replace(/\0/g, ''), colour) }));
  out.push(...records, { t: 's', status: failed ? 1 : 0 }, { t: 'V', version: speaking() });
  return out;
}

/** An error the CLI would report as `envd: ...` with status 1. */
export function cliErrorRecords(text: string): HookRecord[] {
  return [{ t: 'm', text }, { t: 's', status: 1 }, { t: 'V', version: speaking() }];
}

/** As autostart.ts's speakingVersion (ENVD_TEST_VERSION: a daemon started by such a client claims it too). */
function speaking(): string {
  const v = process.env.ENVD_TEST_VERSION;
  return v !== undefined && v !== '' ? v : envdVersion();
}
