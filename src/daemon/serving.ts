import type { EnvdPaths } from '../config/paths.js';
import type { DaemonEngine } from './backend.js';
import { DaemonCore } from './core.js';
import type { Component } from './components.js';
import { Generation } from './generation.js';
import type { DaemonLogger } from './log.js';
import { DependencyWatcher } from './watcher.js';
import type { ProcessEnv } from '../env/diff.js';


/**
 * The engine (LocalService) and the evaluation runner, loaded on start (importing this
 * module loads neither). Stop ends the evaluations still running, then waits for the
 * engine's bookkeeping writes.
 */
export class EngineComponent implements Component {
  readonly name = 'engine';
  private service: DaemonEngine | null = null;
  private endEvaluations: (() => void) | null = null;

  constructor(private readonly paths: EnvdPaths, private readonly env: ProcessEnv) {}

  get engine(): DaemonEngine {
    if (this.service === null) throw new Error('the engine is not loaded');
    return this.service;
  }

  async start(): Promise<void> {
    const { LocalService } = await import('../engine/service.js');
    const runner = await import('../eval/runner.js');
    this.endEvaluations = runner.endAllEvaluations;
    // The daemon keeps a bash that has read the stdlib ready for the next evaluation.
    runner.enableWarmEvaluations();
    this.service = new LocalService({ paths: this.paths, env: this.env, background: true });
  }

  async stop(): Promise<void> {
    // Evaluations end with the daemon (their watchers would also see our end of the
    // lifeline close when we exit; this is at once, and for SIGTERM and stop alike).
    this.endEvaluations?.();
    await this.service?.close();
  }
}

export interface CoreComponentOptions {
  engine: EngineComponent;
  paths: EnvdPaths;
  log: DaemonLogger;
  /** Watch dependencies (ENVD_NO_WATCH=1: off; hooks in a project then ask at every prompt). */
  watch: boolean;
  version: string;
  watchRetryMs: number | undefined;
  watchIdleMs: number | undefined;
  maxWatches: number | undefined;
  requestShutdown: (reason: string) => void;
}

/** The generation file, the dependency watcher and DaemonCore, which answers every request. */
export class CoreComponent implements Component {
  readonly name = 'core';
  private daemonCore: DaemonCore | null = null;
  private watcher: DependencyWatcher | null = null;

  constructor(private readonly o: CoreComponentOptions) {}

  get core(): DaemonCore {
    if (this.daemonCore === null) throw new Error('the daemon is not ready');
    return this.daemonCore;
  }

  start(): void {
    const o = this.o;
    const engine = o.engine.engine;
    // Watching off: hooks in a project ask at every prompt (see Generation).
    const generation = new Generation(o.paths.generationFile, (m) => o.log.error(m), !o.watch, { marker: o.paths.tcshAnsweredFile });
    // The watcher reports to the core, which is made with the watcher: hence the late binding.
    let core: DaemonCore | null = null;
    const watcher = new DependencyWatcher({
      log: o.log,
      enabled: o.watch,
      onChange: (changed) => core?.onWatchedChange(changed),
      markers: () => engine.markers(),
      onUnwatched: (dirs) => core?.onUnwatched(dirs),
      onDegraded: () => generation.setPolling(true),
      onRecovered: () => generation.setPolling(false),
      ...(o.watchRetryMs !== undefined ? { retryMs: o.watchRetryMs } : {}),
      ...(o.watchIdleMs !== undefined ? { idleMs: o.watchIdleMs } : {}),
      ...(o.maxWatches !== undefined ? { maxDirs: o.maxWatches } : {}),
    });
    this.watcher = watcher;
    core = new DaemonCore({ engine, generation, watcher, log: o.log, paths: o.paths, version: o.version, requestShutdown: o.requestShutdown });
    this.daemonCore = core;
    core.scheduleSync();
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
  }
}
