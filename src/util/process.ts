import { readFileSync } from 'node:fs';
import { errnoCode } from './errors.js';

/**
 * Whether a process still runs. A zombie counts as gone: a detached daemon's parent is
 * init, which may take a while to reap it, and a zombie holds nothing we care about.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
