import { readFile, readdir, readlink } from 'node:fs/promises';

/**
 * Background processes an evaluation left behind that still hold the fork server's output
 * pipe or private socket (zygote.ts). A cold evaluation has pipes of its own, and waits
 * for them to close; a forked one shares the server's, so what still holds them is found
 * in /proc instead: any process of the evaluation's group with one of those open. Then the
 * whole group goes, as for a cold evaluation whose pipes stay open. Processes that let go
 * of envd's descriptors stay (as with direnv). Only run when the server saw the group
 * still there after its evaluation ended, which is rare, and off the answer's path.
 */
export async function killHolders(pgid: number, serverPid: number, fds: readonly number[]): Promise<boolean> {
  const held = new Set<string>();
  for (const fd of fds) {
    try { held.add(await readlink(`/proc/${serverPid}/fd/${fd}`)); } catch { /* gone */ }
  }
  if (held.size === 0) return false;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return false;
  }
  for (const pid of pids) {
    if (!(await inGroup(pid, pgid))) continue;
    let links: string[];
    try { links = await readdir(`/proc/${pid}/fd`); } catch { continue; }
    for (const l of links) {
      let target: string;
      try { target = await readlink(`/proc/${pid}/fd/${l}`); } catch { continue; }
      if (held.has(target)) {
        try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
        return true;
      }
    }
  }
  return false;
}

/** Whether /proc/PID/stat names this process group (the fifth field, after the name). */
async function inGroup(pid: string, pgid: number): Promise<boolean> {
  let stat: string;
  try { stat = await readFile(`/proc/${pid}/stat`, 'latin1'); } catch { return false; }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[2]) === pgid;
}
