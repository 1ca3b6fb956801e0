import { readdirSync, readFileSync } from 'node:fs';

/** Nanoseconds a process has run on a CPU, all its threads (the first field of each schedstat). Throws when it is gone. */
export function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns;
}

/** cpuNs, or null for a process that has no pid or is gone. */
export function cpuNsOrNull(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return cpuNs(pid);
  } catch {
    return null;
  }
}
