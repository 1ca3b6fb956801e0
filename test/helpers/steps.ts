import type { Sandbox } from './sandbox.js';
import { parseJsonExport } from './sandbox.js';

export interface Step {
  env: Record<string, string>;
  stderr: string;
  status: number | null;
  /** The JSON change itself (names to values, null = unset). */
  change: Record<string, string | null>;
}

/**
 * One prompt, as a shell would do it: run `envd export json` in `cwd` with `env`, then
 * apply the answer to a copy of `env`. Carrying the result into the next step is exactly
 * what a shell does between prompts.
 */
export function step(sb: Sandbox, cwd: string, env: Record<string, string>, extra: Record<string, string | undefined> = {}): Step {
  const full: Record<string, string | undefined> = { ...env, ...extra, PWD: cwd };
  // Start from exactly `env`: drop sandbox variables the caller removed.
  for (const k of Object.keys(sb.env)) if (!(k in env) && !(k in extra)) full[k] = undefined;
  const r = sb.envd(['export', 'json'], { cwd, env: full });
  const change = parseJsonExport(r.stdout);
  const next = Object.assign(Object.create(null) as Record<string, string>, env);
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete next[k]; else next[k] = v;
  }
  return { env: next, stderr: r.stderr, status: r.status, change };
}

/** Variables of an env without envd's bookkeeping. */
export function userVars(env: Record<string, string>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('ENVD_') || k === 'DIRENV_DIR' || k === 'DIRENV_FILE') continue;
    out[k] = v;
  }
  return out;
}
