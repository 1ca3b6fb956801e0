/**
 * Readers for the wire types (wire-types.ts) from parsed JSON: each checks every field it
 * takes (a daemon or client of another version may send shapes this one does not know).
 */
import type { Identity } from '../config/identity.js';
import { ERROR_CODES } from '../util/errors.js';
import { isProtocolErrorCode, type WireError } from './errors.js';
import type { Fields } from './validate.js';
import {
  FOUND_KINDS, OUTCOME_KINDS, WATCHER_STATES,
  type ClientInfo, type ExportOutcome, type ExportRequest, type HelloInfo, type StatusInfo, type TrustChange,
} from './wire-types.js';

export function readExportRequest(f: Fields): ExportRequest {
  return { cwd: f.str('cwd'), env: f.strRecord('env') };
}

export function readIdentity(f: Fields): Identity {
  return { home: f.str('home'), configDir: f.str('configDir'), direnvConfigDir: f.str('direnvConfigDir'), dataDir: f.str('dataDir') };
}

export function readClient(c: Fields): ClientInfo {
  const identity = c.has('identity') && c.raw('identity') !== null ? readIdentity(c.obj('identity')) : null;
  return { version: c.str('version'), protocol: c.int('protocol', 0), pid: c.int('pid', 0), identity };
}

export function readOutcome(f: Fields): ExportOutcome {
  const c = f.obj('change');
  return {
    kind: f.oneOf('kind', OUTCOME_KINDS),
    change: { set: c.strRecord('set'), unset: c.strList('unset') },
    messages: f.strList('messages'),
    file: f.strOrNull('file'),
  };
}

export function readTrustChange(f: Fields): TrustChange {
  return { file: f.str('file'), message: f.str('message') };
}

export function readStatus(f: Fields): StatusInfo {
  const d = f.obj('daemon');
  return {
    cwd: f.str('cwd'),
    found: f.strOrNull('found'),
    foundKind: f.oneOfOrNull('foundKind', FOUND_KINDS),
    trust: f.str('trust'),
    trustDetail: f.str('trustDetail'),
    loadedDir: f.strOrNull('loadedDir'),
    loadedFile: f.strOrNull('loadedFile'),
    changed: f.strList('changed'),
    daemon: { running: d.bool('running'), pid: d.intOrNull('pid', 0), version: d.strOrNull('version') },
    configFiles: f.strList('configFiles'),
    configWarnings: f.strList('configWarnings'),
  };
}

/**
 * Hello is the one reply every version must be able to read from every other, so only
 * pid, version and protocol are required; the rest defaults when a daemon does not send it
 * (the client then replaces that daemon on the version check, instead of failing to parse).
 */
export function readHello(f: Fields): HelloInfo {
  const opt = <T>(field: string, read: () => T, fallback: T): T => (f.has(field) ? read() : fallback);
  return {
    pid: f.int('pid', 0),
    version: f.str('version'),
    protocol: f.int('protocol', 0),
    socket: opt('socket', () => f.str('socket'), ''),
    startedAt: opt('startedAt', () => f.num('startedAt', 0), 0),
    uptimeMs: opt('uptimeMs', () => f.num('uptimeMs', 0), 0),
    generation: opt('generation', () => f.int('generation', 0), 0),
    watched: opt('watched', () => f.int('watched', 0), 0),
    watchPending: opt('watchPending', () => f.int('watchPending', 0), 0),
    cached: opt('cached', () => f.int('cached', 0), 0),
    replayed: opt('replayed', () => f.int('replayed', 0), 0),
    watcher: opt('watcher', () => f.oneOf('watcher', WATCHER_STATES), 'off'),
    engine: opt('engine', () => f.bool('engine'), true),
    identity: f.has('identity') && f.raw('identity') !== null ? readIdentity(f.obj('identity')) : null,
  };
}

export function readWireError(f: Fields): WireError {
  const code = f.raw('code');
  if (!isProtocolErrorCode(code)) f.fail('code', 'a protocol error code');
  const message = f.str('message');
  const envd = f.raw('envdCode');
  const envdCode = ERROR_CODES.find((c) => c === envd);
  return envdCode === undefined ? { code, message } : { code, message, envdCode };
}
