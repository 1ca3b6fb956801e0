import { mkdirSync } from 'node:fs';
import { describeWant, installArgument, type GoWant } from '../resolve.js';
import type { GoSdk } from '../types.js';
import { installGo, installRoot } from './install.js';

// `[go] install = "auto"`: the daemon installs a pinned Go that is missing, in the
// background. The `use go` that asked fails at once with a notice (the prompt never waits
// for a download); the install renames the SDK into envd's SDK directory, which that
// evaluation watches, so it runs again and the next prompt applies Go.

export interface AutoInstallContext {
  dataDir: string;
  downloadUrl: string | null;
  env: Readonly<Record<string, string | undefined>>;
  installed: readonly GoSdk[];
  /** For the daemon's log. */
  log?: (level: 'info' | 'warn', msg: string) => void;
}

/** Installs in flight and installs that failed, per data dir and request, for the process's life. */
const running = new Map<string, Promise<void>>();
const failed = new Map<string, string>();

function label(w: GoWant | undefined): string {
  if (w === undefined || w.kind === 'newest') return 'the newest Go release';
  const arg = installArgument(w);
  return w.kind === 'exact' || w.kind === 'toolchain' ? `go${arg}` : `the newest go${arg} release`;
}

/**
 * Start installing what `wants` asks for unless that is already under way, and return the
 * one line to show. A failed install is not retried by this process: the line says so and
 * names the command that shows why.
 */
export function autoInstall(wants: readonly GoWant[], from: string, ctx: AutoInstallContext): string {
  const key = `${ctx.dataDir}\0${wants.map(describeWant).join('|')}`;
  const what = label(wants[0]);
  const command = `envd go install ${wants[0] === undefined ? 'latest' : installArgument(wants[0])}`;
  const failure = failed.get(key);
  if (failure !== undefined) return `automatic install of ${what} failed (${failure}); run '${command}' to try again`;
  if (!running.has(key)) {
    // Made now, so the evaluation that asked watches it and sees the SDK arrive.
    mkdirSync(installRoot(ctx.dataDir), { recursive: true, mode: 0o755 });
    ctx.log?.('info', `installing ${what} in the background (${from})`);
    const job = installGo({ wants, dataDir: ctx.dataDir, downloadUrl: ctx.downloadUrl, env: ctx.env, installed: ctx.installed })
      .then((outcome) => {
        ctx.log?.('info', `installed go ${outcome.version} in ${outcome.root}`);
      }, (err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        failed.set(key, msg);
        ctx.log?.('warn', `automatic install of ${what} failed: ${msg}`);
      })
      .finally(() => {
        running.delete(key);
      });
    running.set(key, job);
  }
  return `installing ${what} in the background (${from}; [go] install = "auto"); Go applies at a prompt after it finishes`;
}

