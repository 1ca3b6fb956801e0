import type { Service, StatusInfo, TrustChange } from '../engine/service-types.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../engine/types.js';
import { endAllEvaluations } from '../eval/runner.js';

/**
 * `envd export` and `envd exec` when no daemon answers: the engine in this process answers,
 * as it would with ENVD_NO_DAEMON=1, instead of waiting for a second Node to start, listen
 * and evaluate; then, on close (the answer given), a daemon is started in the background
 * (src/client/autostart.ts daemonOrBackgroundStart) for the requests after this one. The
 * answer is the same either way.
 *
 * One case needs the daemon after all: a budget (a hook falling back to `envd export
 * --budget MS`) that the evaluation outlasts. A daemon finishes such an evaluation after
 * answering and the hook applies it at a later prompt; this process cannot outlive its
 * answer. So past the budget the request goes to the daemon once it answers, and the
 * evaluation here is ended (its process group is killed); without a daemon it is awaited.
 */
export interface DaemonStarts {
  /** Start one if need be and wait until it answers; null when none could be started. */
  whenAnswering(): Promise<Service | null>;
  /** Start one without waiting for it (done once this process has answered). */
  startInBackground(): Promise<void>;
  /**
   * A tcsh is being answered here, without the daemon: say so to a daemon that starts now
   * (a file in the runtime dir), before the answer is worked out (src/daemon/generation.ts).
   */
  answeringTcsh(): void;
}

export class StartingService implements Service {
  private daemon: Service | null = null;

  constructor(
    private readonly local: Service,
    private readonly starts: DaemonStarts,
  ) {}

  async export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    if (opts.coarseWatcher === true) this.starts.answeringTcsh();
    if (opts.budgetMs === Infinity) return this.local.export(req, opts);
    const here = this.local.export(req, { ...opts, budgetMs: Infinity });
    const done = await within(here, opts.budgetMs);
    if (done) return here;
    const daemon = await this.starts.whenAnswering();
    if (daemon === null) return here;
    this.daemon = daemon;
    // The budget is spent: the daemon answers at once (pending, or a cached result).
    const outcome = await daemon.export(req, { ...opts, budgetMs: 0 });
    endAllEvaluations();
    here.catch(() => { /* ended on purpose */ });
    return outcome;
  }

  allow(path: string, cwd: string): Promise<TrustChange> {
    return this.local.allow(path, cwd);
  }

  deny(path: string, cwd: string): Promise<TrustChange> {
    return this.local.deny(path, cwd);
  }

  prune(): Promise<number> {
    return this.local.prune();
  }

  status(req: ExportRequest): Promise<StatusInfo> {
    return this.local.status(req);
  }

  async close(): Promise<void> {
    if (this.daemon === null) await this.starts.startInBackground();
    await this.daemon?.close();
    await this.local.close();
  }
}

/** True when `p` settles within `ms` (its rejection included: the caller awaits it). */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), ms);
    const settle = (): void => { clearTimeout(timer); resolvePromise(true); };
    p.then(settle, settle);
  });
}
