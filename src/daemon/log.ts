import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger, type DestinationStream } from 'pino';

export type DaemonLogger = Logger;

/** The log never grows past this: at the limit it moves to `<file>.1` (replacing the last one). */
export const LOG_MAX_BYTES = 5 * 1024 * 1024;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LevelName = (typeof LEVELS)[number];

/** ENVD_LOG_LEVEL wins over the config's `log_level`; anything unknown means `info`. */
export function pickLevel(envLevel: string | undefined, configLevel: string | null): { level: LevelName; warning: string | null } {
  for (const [src, v] of [['ENVD_LOG_LEVEL', envLevel], ['log_level', configLevel ?? undefined]] as const) {
    if (v === undefined || v === '') continue;
    const hit = LEVELS.find((l) => l === v.toLowerCase());
    if (hit !== undefined) return { level: hit, warning: null };
    return { level: 'info', warning: `${src}=${v} is not one of ${LEVELS.join(', ')}; logging at info` };
  }
  return { level: 'info', warning: null };
}

/**
 * A synchronous, size-bounded log file. Daemon logging is low volume, and a synchronous
 * write means the last lines before a crash are on disk.
 */
class RotatingFile implements DestinationStream {
  private fd: number;
  private size: number;

  constructor(private readonly path: string, private readonly maxBytes: number) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
    if (this.size > maxBytes) this.rotate();
  }

  write(msg: string): void {
    const buf = Buffer.from(msg);
    if (this.size + buf.length > this.maxBytes) this.rotate();
    try {
      writeSync(this.fd, buf);
      this.size += buf.length;
    } catch {
      // A full disk must not take the daemon down; the line is lost.
    }
  }

  private rotate(): void {
    try {
      closeSync(this.fd);
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // Keep going with whatever we can open.
    }
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }
}

export function openDaemonLog(file: string, level: LevelName, maxBytes: number = LOG_MAX_BYTES): DaemonLogger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, new RotatingFile(file, maxBytes));
}
