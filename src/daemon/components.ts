/**
 * The daemon is a list of components (the pid file, the socket, the engine, the watcher,
 * the transports...), each with start and stop. One owner starts them in order and stops
 * the ones that started in reverse order, each stop awaited before the next: a part is
 * never stopped while a part that uses it still runs, and nothing races a timer.
 */
export interface Component {
  /** For the log. */
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export interface ComponentLog {
  error(obj: object, msg: string): void;
}

export class Components {
  private readonly started: Component[] = [];
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly parts: readonly Component[], private readonly log: ComponentLog) {}

  /** Start each part in order. A part that throws stops the start; stop() then undoes the rest. */
  start(): Promise<void> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  /** Stop, once, every part that started, last first. Safe to call at any time, also mid-start. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  private async startAll(): Promise<void> {
    for (const part of this.parts) {
      if (this.stopping !== null) return;
      await part.start();
      this.started.push(part);
    }
  }

  private async stopAll(): Promise<void> {
    // A part that is starting finishes first, and is then stopped like the others.
    if (this.starting !== null) await this.starting.catch(() => undefined);
    for (const part of [...this.started].reverse()) {
      try {
        await part.stop();
      } catch (err) {
        this.log.error({ component: part.name, err: err instanceof Error ? err.message : String(err) }, 'component failed to stop');
      }
    }
  }
}
