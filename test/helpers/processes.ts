import { readdirSync, readFileSync } from 'node:fs';

// Finding and ending the processes a test started, by a marker in their environment:
// evaluations run in their own process groups, so a test proves they are gone (or makes
// sure they are) through /proc rather than through the process that started them.

export function killQuietly(pid: number): void {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** Live processes whose environment holds NAME=value (zombies do not count). */
export function processesWith(name: string, value: string): number[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      const env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`), Buffer.from([0])]);
      if (env.includes(needle)) out.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return out;
}

/** Poll every 50 ms until cond holds (true) or ms have passed (false). */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
