import { loadConfig } from '../config/config.js';
import { resolvePaths, type EnvdPaths } from '../config/paths.js';
import type { Service, StatusInfo, TrustChange } from '../engine/service-types.js';
import type { ExportOptions, ExportOutcome, ExportRequest } from '../engine/types.js';
import { daemonOrBackgroundStart, DaemonFrozen, DaemonNotOurs, ensureDaemon, shouldWarnFrozen, shouldWarnNotOurs, type DaemonHandle } from '../client/autostart.js';
import { noteTcshAnswered } from '../daemon/generation.js';
import { checkRuntimeDir, checkSocketPath } from '../daemon/runtime-dir.js';
import { ClientError, type ProtocolClient } from '../protocol/client.js';
import { ProtocolError } from '../protocol/errors.js';
import { budgetToWire, type HelloInfo } from '../protocol/messages.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { MAX_TIMER_MS } from '../util/timer.js';
import type { ProcessEnv } from '../env/diff.js';


export interface GetServiceOptions {
  paths?: EnvdPaths;
  env?: ProcessEnv;
  /** Start a daemon when none answers (default true). */
  autostart?: boolean;
  /**
   * When none answers, start one without waiting for it and answer in-process meanwhile
   * (StartingService): for export and exec, whose answers do not depend on where they
   * are computed.
   */
  inProcessWhileStarting?: boolean;
}

let warned = false;
/** One warning per process, whatever goes wrong how often. */
function warnOnce(line: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(line.endsWith('\n') ? line : line + '\n');
}

async function localService(paths: EnvdPaths, env: ProcessEnv): Promise<Service> {
  const { LocalService } = await import('../engine/service.js');
  return new LocalService({ paths, env });
}

/**
 * The service for a CLI verb: the daemon when one answers (started on first use), else
 * the engine in this process with one warning on stderr. `ENVD_NO_DAEMON=1` goes straight
 * to the engine without touching the socket. The answers are the same either way.
 */
export async function getService(opts: GetServiceOptions = {}): Promise<Service> {
  const env = opts.env ?? process.env;
  const paths = opts.paths ?? resolvePaths(env);
  if (env.ENVD_NO_DAEMON === '1') return localService(paths, env);
  let handle: DaemonHandle;
  try {
    checkSocketPath(paths.socketPath);
    checkRuntimeDir(paths.runtimeDir, { create: true });
    if (opts.inProcessWhileStarting === true && opts.autostart !== false) {
      // Started after the answer (StartingService.close): its start-up does not compete
      // with this one for the CPU.
      const found = await daemonOrBackgroundStart(paths, env, { start: false });
      if (found === null) return startingService(paths, env);
      handle = found;
    } else {
      handle = await ensureDaemon(paths, env, { autostart: opts.autostart !== false });
    }
  } catch (err) {
    if (err instanceof DaemonFrozen) {
      if (shouldWarnFrozen(paths)) warnOnce(err.message);
    } else if (err instanceof DaemonNotOurs) {
      // A hook in such a shell falls back to this command at many prompts: say it once.
      if (shouldWarnNotOurs(paths, err)) warnOnce(err.message);
    } else {
      const msg = errorMessage(err);
      warnOnce(`${msg.startsWith('envd:') ? msg : `envd: ${msg}`} (working without the daemon)`);
    }
    return localService(paths, env);
  }
  return new DaemonClientService(handle.client, handle.hello, paths, env);
}

async function startingService(paths: EnvdPaths, env: ProcessEnv): Promise<Service> {
  const [{ StartingService }, local] = await Promise.all([import('./starting-service.js'), localService(paths, env)]);
  return new StartingService(local, {
    async whenAnswering(): Promise<Service | null> {
      try {
        const h = await ensureDaemon(paths, env);
        return new DaemonClientService(h.client, h.hello, paths, env);
      } catch {
        return null;
      }
    },
    async startInBackground(): Promise<void> {
      try {
        (await daemonOrBackgroundStart(paths, env))?.client.close();
      } catch {
        // Not starting one is what this process did anyway; the next request tries again.
      }
    },
    answeringTcsh(): void {
      noteTcshAnswered(paths);
    },
  });
}

/** How long a request may take before the daemon counts as gone. */
function exportTimeout(budgetMs: number, paths: EnvdPaths): number {
  const ms = Number.isFinite(budgetMs) ? budgetMs : loadConfig(paths).config.global.evalTimeoutMs;
  return Math.min(ms + 5000, MAX_TIMER_MS);
}

const TRUST_TIMEOUT_MS = 15_000;

/**
 * `Service` over the daemon's socket. If the daemon disappears mid-way (killed, frozen),
 * the call is done in-process instead, with one warning.
 */
export class DaemonClientService implements Service {
  private local: Service | null = null;

  constructor(
    private readonly client: ProtocolClient,
    readonly hello: HelloInfo,
    private readonly paths: EnvdPaths,
    private readonly env: ProcessEnv,
  ) {}

  export(req: ExportRequest, opts: ExportOptions): Promise<ExportOutcome> {
    return this.call(
      async () => (await this.client.request({ type: 'export', req, budgetMs: budgetToWire(opts.budgetMs), coarse: opts.coarseWatcher === true }, exportTimeout(opts.budgetMs, this.paths))).result,
      (s) => s.export(req, opts),
    );
  }

  allow(path: string, cwd: string): Promise<TrustChange> {
    return this.call(
      async () => (await this.client.request({ type: 'allow', path, cwd }, TRUST_TIMEOUT_MS)).result,
      (s) => s.allow(path, cwd),
    );
  }

  deny(path: string, cwd: string): Promise<TrustChange> {
    return this.call(
      async () => (await this.client.request({ type: 'deny', path, cwd }, TRUST_TIMEOUT_MS)).result,
      (s) => s.deny(path, cwd),
    );
  }

  prune(): Promise<number> {
    return this.call(
      async () => (await this.client.request({ type: 'prune' }, TRUST_TIMEOUT_MS)).result.removed,
      (s) => s.prune(),
    );
  }

  status(req: ExportRequest): Promise<StatusInfo> {
    return this.call(
      async () => (await this.client.request({ type: 'status', req }, TRUST_TIMEOUT_MS)).result,
      (s) => s.status(req),
    );
  }

  async close(): Promise<void> {
    this.client.close();
    if (this.local !== null) await this.local.close();
  }

  private async call<T>(remote: () => Promise<T>, local: (s: Service) => Promise<T>): Promise<T> {
    try {
      return await remote();
    } catch (err) {
      if (err instanceof ProtocolError && err.code === 'IDENTITY_MISMATCH') {
        // Not served by a daemon of another identity: the engine here, with our own config.
        warnOnce(`envd: ${err.message}; working without the daemon`);
        if (this.local === null) this.local = await localService(this.paths, this.env);
        return local(this.local);
      }
      if (err instanceof ProtocolError) {
        // The engine's own refusal travels as SERVICE_ERROR: report it exactly as the
        // in-process engine would have.
        if (err.code === 'SERVICE_ERROR' && err.envdCode !== undefined) throw new EnvdError(err.envdCode, err.message);
        throw new EnvdError(err.code === 'SERVICE_ERROR' ? 'INTERNAL' : 'PROTOCOL', err.message.startsWith('envd:') ? err.message : `envd: daemon: ${err.message}`);
      }
      if (err instanceof ClientError) {
        warnOnce(`envd: the daemon (pid ${this.hello.pid}) stopped answering (${err.message}); working without it`);
        if (this.local === null) this.local = await localService(this.paths, this.env);
        return local(this.local);
      }
      throw err;
    }
  }
}
