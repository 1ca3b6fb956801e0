import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvdPaths } from '../config/paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Component } from './components.js';

/** The running daemon's pid, for `daemon stop` when it no longer answers. */
export function pidFile(paths: EnvdPaths): string {
  return join(paths.runtimeDir, 'daemon.pid');
}

export function readPidFile(paths: EnvdPaths): number | null {
  try {
    const n = Number.parseInt(readFileSync(pidFile(paths), 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The pid file as a daemon component: written on start, removed on stop while it still names us. */
export function pidFileComponent(paths: EnvdPaths): Component {
  return {
    name: 'pid file',
    start: () => writeFileAtomic(pidFile(paths), `${process.pid}\n`, 0o600),
    stop: () => {
      if (readPidFile(paths) !== process.pid) return;
      try { unlinkSync(pidFile(paths)); } catch { /* gone */ }
    },
  };
}
