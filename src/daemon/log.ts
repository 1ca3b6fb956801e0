import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** One logging call: a message, or fields and a message (pino's call shape). */
export interface LogFn {
  (msg: string): void;
  (fields: object, msg?: string): void;
}

/**
 * What the daemon logs through. pino's Logger fits it (tests pass a silent one); the
 * daemon's own (openDaemonLog) writes the same JSON lines without loading pino, whose
 * modules alone cost a fresh daemon ~10 MB of RSS.
 */
export interface DaemonLogger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  flush(): void;
}

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
class RotatingFile {
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

/** pino's level numbers: the lines read as pino's do (`"level":30,"time":…,"pid":…,"msg":…`). */
const LEVEL_NUMBERS: Readonly<Record<Exclude<LevelName, 'silent'>, number>> = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 };

/** One JSON line as pino writes it: level, time, pid, the fields, msg. */
function line(level: number, fields: object | null, msg: string | undefined): string {
  const head = `{"level":${level},"time":"${new Date().toISOString()}","pid":${process.pid}`;
  let rest = '';
  if (fields !== null) {
    try {
      const json = JSON.stringify(fields);
      if (json !== undefined && json.length > 2) rest = `,${json.slice(1, -1)}`;
    } catch {
      rest = ',"fields":"(not serializable)"';
    }
  }
  return `${head}${rest}${msg !== undefined ? `,"msg":${JSON.stringify(msg)}` : ''}}\n`;
}

export function openDaemonLog(file: string, level: LevelName, maxBytes: number = LOG_MAX_BYTES): DaemonLogger {
  const out = new RotatingFile(file, maxBytes);
  const threshold = level === 'silent' ? Infinity : LEVEL_NUMBERS[level];
  const at = (n: number): LogFn => {
    if (n < threshold) return () => {};
    return (a: string | object, msg?: string) => {
      out.write(typeof a === 'string' ? line(n, null, a) : line(n, a, msg));
    };
  };
  return {
    fatal: at(60), error: at(50), warn: at(40), info: at(30), debug: at(20), trace: at(10),
    // Every line is written synchronously: nothing to flush.
    flush: () => {},
  };
}
