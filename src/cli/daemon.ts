import { existsSync, readFileSync } from 'node:fs';
import { resolvePaths, type EnvdPaths } from '../config/paths.js';
import { clientTimeoutMs, DaemonFrozen, DaemonNotOurs, ensureDaemon, probeDaemon, stopDaemon } from '../client/autostart.js';
import { readPidFile } from '../daemon/pidfile.js';
import { checkRuntimeDir, checkSocketPath } from '../daemon/runtime-dir.js';
import type { HelloInfo } from '../protocol/messages.js';
import { EnvdError, errorMessage } from '../util/errors.js';
import { say, usage } from './command.js';

const USAGE = 'usage: envd daemon start|stop|restart|status [--json]|run|logs [-n LINES]|install';

function checkDirs(paths: EnvdPaths, create: boolean): void {
  checkSocketPath(paths.socketPath);
  checkRuntimeDir(paths.runtimeDir, { create });
}

function seconds(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

async function start(paths: EnvdPaths): Promise<number> {
  checkDirs(paths, true);
  let h;
  try {
    h = await ensureDaemon(paths, process.env);
  } catch (err) {
    // A newer installation's daemon runs: it is running, just not this version's.
    if (err instanceof DaemonNotOurs && err.verdict === 'newer') { say(err.message); return 0; }
    throw err;
  }
  h.client.close();
  say(`envd: daemon running (pid ${h.hello.pid}, socket ${h.hello.socket})`);
  return 0;
}

async function stop(paths: EnvdPaths): Promise<number> {
  checkDirs(paths, false);
  const r = await stopDaemon(paths, process.env);
  say(r === 'stopped' ? 'envd: daemon stopped' : 'envd: no daemon was running');
  return 0;
}

function statusJson(paths: EnvdPaths, h: HelloInfo | null, extra: Record<string, unknown>): string {
  const base: Record<string, unknown> = { running: h !== null, socket: paths.socketPath, log: paths.logFile, ...extra };
  if (h !== null) {
    Object.assign(base, {
      pid: h.pid,
      version: h.version,
      protocol: h.protocol,
      uptime: Math.floor(h.uptimeMs / 1000),
      uptimeMs: h.uptimeMs,
      startedAt: new Date(h.startedAt).toISOString(),
      watched: h.watched,
      cached: h.cached,
      replayed: h.replayed,
      watcher: h.watcher,
      generation: h.generation,
      identity: h.identity,
    });
  }
  return JSON.stringify(base, null, 2) + '\n';
}

async function status(paths: EnvdPaths, json: boolean): Promise<number> {
  if (!checkDirs2(paths)) {
    if (json) process.stdout.write(statusJson(paths, null, { responding: false }));
    else say('envd: no daemon is running');
    return 1;
  }
  const p = await probeDaemon(paths, clientTimeoutMs(process.env));
  if (p.kind === 'ready') {
    p.client.close();
    const h = p.hello;
    if (json) {
      process.stdout.write(statusJson(paths, h, { responding: true }));
    } else {
      process.stdout.write([
        `daemon:     running (pid ${h.pid})`,
        `version:    ${h.version} (protocol ${h.protocol})`,
        `socket:     ${h.socket}`,
        `serves:     ${h.identity === null ? '(not said)' : `HOME ${h.identity.home}, config ${h.identity.configDir}, data ${h.identity.dataDir}`}`,
        `uptime:     ${seconds(h.uptimeMs)}`,
        `watching:   ${h.watched} files (watcher ${h.watcher})`,
        `cached:     ${h.cached} environments`,
        `generation: ${h.generation}`,
        `log:        ${paths.logFile}`,
      ].join('\n') + '\n');
    }
    return 0;
  }
  const pid = readPidFile(paths);
  const why = p.kind === 'absent' ? 'not running' : p.kind === 'frozen' ? `not answering (${p.message})` : p.kind === 'busy' ? `unreachable (${p.errno})` : `broken (${p.message})`;
  if (json) process.stdout.write(statusJson(paths, null, { responding: false, state: p.kind, pid: p.kind === 'absent' ? null : pid }));
  else say(`envd: daemon ${why}${p.kind !== 'absent' && pid !== null ? `, pid ${pid}` : ''}`);
  return 1;
}

/** The runtime dir must be safe to talk through; absent means no daemon. */
function checkDirs2(paths: EnvdPaths): boolean {
  checkSocketPath(paths.socketPath);
  return checkRuntimeDir(paths.runtimeDir, { create: false });
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** pino's JSON lines, shown as `time LEVEL message {rest}`; other lines as they are. */
function formatLogLine(line: string): string {
  let o: unknown;
  try { o = JSON.parse(line); } catch { return line; }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return line;
  const { time, level, msg, pid: _pid, ...rest } = o as Record<string, unknown>;
  const lv = typeof level === 'number' ? LEVEL_NAMES[level] ?? String(level) : String(level);
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${String(time)} ${lv.padEnd(5)} ${typeof msg === 'string' ? msg : JSON.stringify(msg ?? '')}${extra}`;
}

function logs(paths: EnvdPaths, args: string[]): number {
  let n = 50;
  const i = args.indexOf('-n');
  if (i !== -1) {
    const v = Number.parseInt(args[i + 1] ?? '', 10);
    if (!Number.isSafeInteger(v) || v <= 0) return usage('daemon logs -n needs a positive number of lines');
    n = v;
  }
  const files = [`${paths.logFile}.1`, paths.logFile].filter((f) => existsSync(f));
  if (files.length === 0) {
    say(`envd: no daemon log yet (${paths.logFile})`);
    return 0;
  }
  const lines = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== ''));
  process.stdout.write(lines.slice(-n).map(formatLogLine).join('\n') + '\n');
  return 0;
}

/** `daemon install`: a systemd/launchd unit (src/client/install.ts). */
async function install(args: string[]): Promise<number> {
  // A literal specifier, so the one-file build (scripts/bundle.mjs) holds the module too.
  const { installDaemonUnit } = await import('../client/install.js');
  return installDaemonUnit(args);
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const paths = resolvePaths(process.env);
  try {
    switch (sub) {
      case 'run': {
        const { runDaemon } = await import('../daemon/run.js');
        return await runDaemon(process.env);
      }
      case 'start':
        return await start(paths);
      case 'stop':
        return await stop(paths);
      case 'restart':
        await stop(paths);
        return await start(paths);
      case 'status':
        return await status(paths, rest.includes('--json'));
      case 'logs':
        return logs(paths, rest);
      case 'install':
        return await install(rest);
      default:
        return usage(USAGE);
    }
  } catch (err) {
    if (err instanceof DaemonFrozen || err instanceof EnvdError) {
      say(err.message.startsWith('envd:') ? err.message : `envd: ${err.message}`);
      return 1;
    }
    say(`envd: daemon ${sub ?? ''}: ${errorMessage(err)}`);
    return 1;
  }
}
